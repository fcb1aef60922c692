"""What every page of the centre says about the holiday calendar (节假日安排).

From 1 December while next year's schedule is missing (and all year when this year's is),
the city centre and administrators see a banner linking to the schedule page. Lazy: a page
that does not show it runs nothing."""

from __future__ import annotations

from typing import Any

from django.utils.functional import SimpleLazyObject

from minsheng.accounts.actors import Actor
from minsheng.core import holidays

from .roles import PAGE_ROLES


def _notices(user: Any) -> list[holidays.Notice]:
    if not getattr(user, "is_authenticated", False):
        return []
    if Actor.of(user).role not in PAGE_ROLES["calendar"]:
        return []
    return holidays.notices()


def calendar_notices(request: Any) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {"calendar_notices": SimpleLazyObject(lambda: _notices(user))}
