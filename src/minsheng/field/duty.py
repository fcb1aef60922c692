"""The duty roster (值班表): who of a unit is on duty at a moment, and the night rule for
urgent cases.

The city promises teams on 24-hour duty. During the day a unit's handlers sign and
dispatch within minutes; at night nobody watches the inbox, so an urgent case assigned to
a unit between ``MINSHENG_NIGHT_STARTS`` and ``MINSHENG_NIGHT_ENDS`` (local time) is also
sent straight to the people on duty, on their phones.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils import timezone

from minsheng.core.conf import setting
from minsheng.notify.actions import enqueue

from .models import DutyShift


def shifts_at(unit: Any, at: dt.datetime) -> QuerySet[DutyShift]:
    return (
        DutyShift.objects.filter(unit=unit, starts_at__lte=at, ends_at__gt=at)
        .select_related("user__profile")
        .order_by("starts_at", "id")
    )


def on_duty(unit: Any, at: dt.datetime) -> list[Any]:
    """The active users of ``unit`` on duty at ``at``, in shift order, each once."""
    if unit is None:
        return []
    ids = list(dict.fromkeys(shifts_at(unit, at).values_list("user_id", flat=True)))
    users = {
        u.pk: u for u in get_user_model().objects.filter(pk__in=ids, is_active=True).select_related("profile")
    }
    return [users[i] for i in ids if i in users]


def is_night(at: dt.datetime) -> bool:
    """Between the night hours, in the deployment's local time (Asia/Shanghai)."""
    hour = timezone.localtime(at).hour
    starts = setting("MINSHENG_NIGHT_STARTS", 20)
    ends = setting("MINSHENG_NIGHT_ENDS", 8)
    return hour >= starts or hour < ends if starts > ends else starts <= hour < ends


def alert_on_duty(case: Any, unit: Any, at: dt.datetime) -> list[Any]:
    """Called by the assign path inside its transaction: an urgent case reaching a unit at
    night is told to each person on duty (outbox ``urgent_on_duty``). Returns them."""
    if not case.urgent or unit is None or not is_night(at):
        return []
    people = on_duty(unit, at)
    for user in people:
        enqueue(
            "urgent_on_duty",
            case=case,
            user=user,
            context={"number": case.number, "title": case.title, "urgent": True},
        )
    return people
