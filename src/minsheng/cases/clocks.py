"""Starting, meeting and stopping a case's clocks (时限). Limits come from the matter."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.utils.translation import gettext as _

from minsheng.catalog.models import Matter
from minsheng.core import clock
from minsheng.core.workdays import CITY_TZ, add_working_days, count_working_days

from . import registry
from .models import Case, CaseClock
from .states import ClockName

# Used while a case has no matter yet (the catalog's defaults).
DEFAULT_LIMITS = Matter(
    sign_minutes=1,
    dispatch_minutes=5,
    feedback_hours=24,
    resolve_working_days=5,
    urgent_resolve_hours=24,
    response_minutes=15,
)


def limits(case: Case) -> Matter:
    if case.matter_id and case.matter is not None:
        return case.matter
    return DEFAULT_LIMITS


# Due times already worked out, by (clock, limits, urgency, start): a batch of new cases
# accepted at one moment counts each matter's working days once, not once per case.
Dues = dict[tuple[Any, ...], dt.datetime]


def due_for(case: Case, name: str, start: dt.datetime, dues: Dues | None = None) -> dt.datetime:
    """A part's clock rule for the case first (``registry.register_clock_rule``), else the
    matter's limit (kept in ``dues`` for the next case with the same limit and start)."""
    ruled = registry.clock_due(case, name, start)
    if ruled is not None:
        return ruled
    if dues is None:
        return _limit_due(case, name, start)
    m = limits(case)
    limits_ = (m.sign_minutes, m.dispatch_minutes, m.feedback_hours, m.response_minutes)
    key = (name, m.pk, *limits_, m.resolve_working_days, m.urgent_resolve_hours, case.urgent, start)
    due = dues.get(key)
    if due is None:
        due = dues[key] = _limit_due(case, name, start)
    return due


def _limit_due(case: Case, name: str, start: dt.datetime) -> dt.datetime:
    m = limits(case)
    if name == ClockName.SIGN:
        return start + dt.timedelta(minutes=m.sign_minutes)
    if name == ClockName.DISPATCH:
        return start + dt.timedelta(minutes=m.dispatch_minutes)
    if name == ClockName.FEEDBACK:
        return start + dt.timedelta(hours=m.feedback_hours)
    if name == ClockName.RESPONSE:
        return start + dt.timedelta(minutes=m.response_minutes)
    if name == ClockName.RESOLVE:
        if case.urgent:
            return start + dt.timedelta(hours=m.urgent_resolve_hours)
        return add_working_days(start, m.resolve_working_days)
    raise ValueError(name)


def warn_time(case: Case, started: dt.datetime, due: dt.datetime) -> dt.datetime:
    return started + (due - started) * limits(case).warn_share


def start(
    case: Case, name: str, at: dt.datetime, *, unit: Any = None, due: dt.datetime | None = None
) -> CaseClock:
    """A new clock, held by ``unit`` (by default the unit holding the case), due at ``due``
    (by default the matter's limit for ``name``)."""
    due = due or due_for(case, name, at)
    return CaseClock.objects.create(
        case=case,
        name=name,
        unit=unit if unit is not None else case.owner_unit,
        started_at=at,
        due_at=due,
        warn_at=warn_time(case, at, due),
    )


def start_many(case: Case, names: Iterable[str], at: dt.datetime) -> list[CaseClock]:
    """Several new clocks held by the unit holding the case, each due at the matter's limit,
    written in one statement."""
    return CaseClock.objects.bulk_create(build(case, names, at))


def build(case: Case, names: Iterable[str], at: dt.datetime, dues: Dues | None = None) -> list[CaseClock]:
    """New clocks held by the unit holding the case, each due at the matter's limit, not yet
    written (a new case's clocks are written with those of the cases made with it)."""
    return [
        CaseClock(
            case=case,
            name=name,
            unit=case.owner_unit,
            started_at=at,
            due_at=(due := due_for(case, name, at, dues)),
            warn_at=warn_time(case, at, due),
        )
        for name in names
    ]


def move_due(case: Case, clock_: CaseClock, due: dt.datetime) -> None:
    """A limit changed (extension, new matter): the warning follows unless already given."""
    clock_.due_at = due
    fields = ["due_at"]
    if clock_.warned_at is None:
        clock_.warn_at = warn_time(case, clock_.started_at, due)
        fields.append("warn_at")
    clock_.save(update_fields=fields)


def running(case: Case, name: str) -> CaseClock | None:
    return (
        case.clocks.filter(name=name, met_at__isnull=True, stopped_at__isnull=True)
        .order_by("-started_at", "-id")
        .first()
    )


def meet(case: Case, name: str, at: dt.datetime) -> CaseClock | None:
    clock_ = running(case, name)
    if clock_ is not None:
        clock_.met_at = at
        clock_.save(update_fields=["met_at"])
    return clock_


def stop(case: Case, names: tuple[str, ...], at: dt.datetime) -> None:
    case.clocks.filter(name__in=names, met_at__isnull=True, stopped_at__isnull=True).update(stopped_at=at)


def hand_over(case: Case, names: tuple[str, ...], unit: Any) -> None:
    """The case's running clocks of these names are now ``unit``'s."""
    case.clocks.filter(name__in=names, met_at__isnull=True, stopped_at__isnull=True).update(unit=unit)


def meet_by_id(case: Case, ids: Iterable[int | None], at: dt.datetime) -> None:
    """Meet these running clocks of the case (a joint-group member's own)."""
    wanted = [i for i in ids if i]
    if wanted:
        case.clocks.filter(pk__in=wanted, met_at__isnull=True, stopped_at__isnull=True).update(met_at=at)


def stop_by_id(case: Case, ids: Iterable[int | None], at: dt.datetime) -> None:
    """Stop these running clocks of the case (a joint-group member's own)."""
    wanted = [i for i in ids if i]
    if wanted:
        case.clocks.filter(pk__in=wanted, met_at__isnull=True, stopped_at__isnull=True).update(stopped_at=at)


def recompute_resolve(case: Case) -> None:
    """The matter (or urgency) became known or changed: the running resolve clock's limit
    follows it, still counted from acceptance."""
    clock_ = running(case, ClockName.RESOLVE)
    if clock_ is not None:
        move_due(case, clock_, due_for(case, ClockName.RESOLVE, clock_.started_at))


def follow_calendar(year: int) -> Callable[[], int]:
    """A holiday schedule for ``year`` is about to arrive or change: the running resolve
    limits counted in working days that reach into that year are recounted, keeping each one's
    number of working days (extensions included) and its start. Returns the step to run once
    the new schedule is in force; it moves the limits and says how many moved."""
    lo = dt.datetime(year - 1, 12, 1, tzinfo=CITY_TZ)
    hi = dt.datetime(year + 1, 1, 1, tzinfo=CITY_TZ)
    running_ = (
        CaseClock.objects.filter(
            name=ClockName.RESOLVE,
            met_at__isnull=True,
            stopped_at__isnull=True,
            due_at__gte=lo,
            started_at__lt=hi,
            case__urgent=False,
        )
        .select_related("case", "case__matter")
        .order_by("id")
    )
    counted = [(c, count_working_days(c.started_at, c.due_at)) for c in running_]

    def move() -> int:
        from . import kernel

        moved = 0
        for c, n in counted:
            due = add_working_days(c.started_at, n)
            if due != c.due_at:
                was = c.due_at
                move_due(c.case, c, due)
                kernel.record(
                    c.case,
                    "limit_recounted",
                    clock.now(),
                    label=_("Holiday schedule"),
                    note=_("%(year)d holiday schedule: %(n)d working days now end %(due)s")
                    % {"year": year, "n": n, "due": due.astimezone(CITY_TZ).strftime("%Y-%m-%d %H:%M")},
                    data={
                        "clock": c.name,
                        "year": year,
                        "working_days": n,
                        "from": was.isoformat(),
                        "to": due.isoformat(),
                    },
                )
                moved += 1
        return moved

    return move
