"""Clocks that act: warnings before a limit, breaches at it, and escalation one level up.

A breach is recorded on the case, stays on record even when the clock is met later, and
creates a supervision (督办) by the level above the unit held to the clock: village/
community → town/street sub-centre → city centre; a line department → city centre.

The worker calls :func:`warn_due` and :func:`breach_due`. Each claims a batch of due clocks
with ``SELECT … FOR UPDATE SKIP LOCKED`` (PostgreSQL; several workers never take the same
clock) and acts on the whole batch in one transaction: a worker killed mid-batch leaves
nothing half-done, and the next pass does the batch again from scratch.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from minsheng.accounts.actors import Actor
from minsheng.accounts.models import Unit, UnitKind
from minsheng.notify.actions import enqueue

from . import kernel
from .models import Case, CaseClock

log = logging.getLogger(__name__)


def escalation_unit(unit: Unit | None) -> Unit | None:
    """The level above ``unit``; the city centre for departments and unassigned cases."""
    if unit is not None and unit.parent_id is not None:
        return unit.parent
    if unit is not None and unit.kind == UnitKind.CENTRE:
        return None
    return Unit.objects.filter(kind=UnitKind.CENTRE, active=True).order_by("pk").first()


def _event(case: Case, action: str, at: dt.datetime, note: str, data: dict) -> None:
    # Clock events do not bump the case's version: a warning must not turn a person's
    # open form stale. Nor do they lock the case: the clocks of the batch are locked.
    kernel.record(case, action, at, actor=Actor.system(_("Clock watch")), note=note, data=data)


def warn_clock(clock_: CaseClock, at: dt.datetime) -> None:
    """预警: the limit is near; the unit held to it is told."""
    case = clock_.case
    clock_.warned_at = at
    clock_.save(update_fields=["warned_at"])
    data = {
        "clock": clock_.name,
        "due_at": clock_.due_at.isoformat(),
        "unit": clock_.unit.code if clock_.unit else None,
    }
    _event(
        case,
        "clock_warning",
        at,
        _("%(clock)s limit is near (due %(due)s)")
        % {"clock": clock_.get_name_display(), "due": clock_.due_at.isoformat()},
        data,
    )
    target = clock_.unit or escalation_unit(None)
    if target is not None:
        enqueue(
            "clock_warning",
            case=case,
            unit=target,
            context={
                "number": case.number,
                "title": case.title,
                "clock": clock_.name,
                "due_at": clock_.due_at.isoformat(),
            },
        )


def breach_clock(clock_: CaseClock, at: dt.datetime) -> None:
    """超时: recorded on the case, and escalated one level up as a supervision (督办)."""
    case = clock_.case
    clock_.breached_at = at
    clock_.save(update_fields=["breached_at"])
    above = escalation_unit(clock_.unit)
    data = {
        "clock": clock_.name,
        "due_at": clock_.due_at.isoformat(),
        "unit": clock_.unit.code if clock_.unit else None,
        "escalated_to": above.code if above else None,
    }
    _event(case, "clock_breach", at, _("%(clock)s limit passed") % {"clock": clock_.get_name_display()}, data)
    # Counted in the database: each clock of a batch carries its own copy of the case, so
    # a count taken from that copy would lose the other clocks' breaches.
    Case.objects.filter(pk=case.pk).update(supervision_count=F("supervision_count") + 1)
    case.refresh_from_db(fields=["supervision_count"])
    if above is not None:
        _event(
            case,
            "supervise",
            at,
            _("Automatic supervision by %(unit)s: %(clock)s limit passed")
            % {"unit": above.name, "clock": clock_.get_name_display()},
            {"level": above.kind, "unit": above.code, "automatic": True, "clock": clock_.name},
        )
    context = {
        "number": case.number,
        "title": case.title,
        "clock": clock_.name,
        "due_at": clock_.due_at.isoformat(),
        "level": above.name if above else "",
    }
    if clock_.unit is not None:
        enqueue("clock_breach", case=case, unit=clock_.unit, context=context)
    if above is not None:
        enqueue("clock_breach", case=case, unit=above, context={**context, "escalated": True})


def _claim(due_field: str, done_field: str, now: dt.datetime, limit: int) -> list[CaseClock]:
    ids = (
        CaseClock.objects.select_for_update(skip_locked=True)
        .filter(
            met_at__isnull=True,
            stopped_at__isnull=True,
            **{f"{done_field}__isnull": True, f"{due_field}__lte": now},
        )
        .order_by(due_field)
        .values_list("pk", flat=True)[:limit]
    )
    return list(
        CaseClock.objects.filter(pk__in=list(ids))
        .select_related("case", "unit", "unit__parent")
        .order_by(due_field)
    )


def _act(kind: str, now: dt.datetime, limit: int) -> int:
    due_field, done_field, act = {
        "warn": ("warn_at", "warned_at", warn_clock),
        "breach": ("due_at", "breached_at", breach_clock),
    }[kind]
    done = 0
    with transaction.atomic():
        for clock_ in _claim(due_field, done_field, now, limit):
            try:
                with transaction.atomic():
                    act(clock_, now)
                done += 1
            except Exception:
                # One bad clock never stops the others; it is tried again next pass.
                log.exception("could not %s clock %s", kind, clock_.pk)
    return done


def warn_due(now: dt.datetime, limit: int = 500) -> int:
    return _act("warn", now, limit)


def breach_due(now: dt.datetime, limit: int = 500) -> int:
    return _act("breach", now, limit)


def next_due(now: dt.datetime) -> dt.datetime | None:
    """The next moment a clock needs the worker (cheap: two partial-index lookups)."""
    running = CaseClock.objects.filter(met_at__isnull=True, stopped_at__isnull=True)
    warn = (
        running.filter(warned_at__isnull=True, warn_at__isnull=False)
        .order_by("warn_at")
        .values_list("warn_at", flat=True)
        .first()
    )
    due = running.filter(breached_at__isnull=True).order_by("due_at").values_list("due_at", flat=True).first()
    times = [t for t in (warn, due) if t is not None]
    return min(times) if times else None
