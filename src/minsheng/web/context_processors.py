"""What every page of the centre says about the holiday calendar (节假日安排).

From 1 December while next year's schedule is missing (and all year when this year's is),
the city centre and administrators see a banner linking to the schedule page. Lazy: a page
that does not show it runs nothing."""

from __future__ import annotations

from typing import Any

from django.utils.functional import SimpleLazyObject

from minsheng.accounts.guards import actor_of
from minsheng.core import holidays

from .roles import PAGE_ROLES


def _notices(request: Any) -> list[holidays.Notice]:
    if not getattr(getattr(request, "user", None), "is_authenticated", False):
        return []
    if actor_of(request).role not in PAGE_ROLES["calendar"]:
        return []
    return holidays.notices()


def calendar_notices(request: Any) -> dict[str, Any]:
    return {"calendar_notices": SimpleLazyObject(lambda: _notices(request))}
