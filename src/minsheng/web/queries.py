"""The lists the workbenches show. Each starts from ``visible_cases`` so that a page can
never show a case its reader may not see; these helpers only filter and annotate."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict, cast

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from minsheng.accounts.actors import Actor
from minsheng.accounts.models import Role, Unit
from minsheng.cases.lists import (
    COUNT_CAP,
    CappedCount,
    bounded_count,
    bounded_count_of,
    first_distinct,
    with_next_due,
)
from minsheng.cases.models import Case, CaseClock
from minsheng.cases.scoping import visible_cases, visible_parts
from minsheng.cases.states import OPEN_STATES, State
from minsheng.core import clock
from minsheng.groups.models import GroupMember
from minsheng.groups.queries import member_inbox

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

# A running clock due within this long counts as "about to breach" even before its
# warning share is reached (short limits such as the 1-minute sign clock).
DUE_SOON = dt.timedelta(minutes=30)


def _running():
    return CaseClock.objects.running().filter(case=OuterRef("pk"))


class RowAnnotations(TypedDict):
    """What :func:`annotated` adds to each case."""

    overdue: bool
    next_due: dt.datetime | None
    next_clock: str | None


def annotated(
    qs: QuerySet[Case], now: dt.datetime | None = None
) -> QuerySet[WithAnnotations[Case, RowAnnotations]]:
    """Adds ``next_due`` and ``next_clock`` (the running clock due first) and ``overdue``
    (:func:`~minsheng.cases.lists.with_next_due`), and loads what list rows show."""
    rows = with_next_due(qs.select_related("matter", "owner_unit", "town", "place"), now)
    return cast("QuerySet[WithAnnotations[Case, RowAnnotations]]", rows)


def base(actor: Actor) -> QuerySet[Case]:
    return visible_cases(actor)


def _soon(now: dt.datetime):
    return _running().filter(Q(warn_at__lte=now) | Q(due_at__lte=now + DUE_SOON))


class Breaching:
    """Open cases with a running clock past its warning time, due soon, or overdue, the one
    due first at the top (关注: about to breach).

    Sorting every such case by its next due time reads all of them (tens of thousands in a
    large city); instead the rows are read off the running clocks' index in due order
    (``clock_running_due``): a case first appears there at its earliest running clock, which
    is its next due time, so the first ``n`` distinct cases are the page. The count stops at
    the cap (:func:`~minsheng.cases.lists.bounded_count`)."""

    def __init__(self, actor: Actor, now: dt.datetime | None = None):
        self.now = now or clock.now()
        self.cases = self._breaching(base(actor))
        self.scoped = base(actor).query.has_filters()
        self.actor = actor

    def count(self, cap: int = COUNT_CAP) -> CappedCount:
        """Counted up to the cap. City-wide from the running clocks that qualify (a small
        index), one per case: from the cases' side the closed history is read first (a
        closed case has no running clock: closing and merging stop them all). Within a
        scope, from the scope's open cases part by part (each unit's, the town's, the joint
        groups': :func:`~minsheng.cases.scoping.visible_parts`), each case probing its
        clocks: from the clocks' side every clock in the city probes the scope until the
        cap, and the scope's ``OR`` in one query walks every case by its key on PostgreSQL."""
        if self.scoped:
            return bounded_count_of([self._breaching(part) for part in visible_parts(self.actor)], cap)
        soon = CaseClock.objects.running().filter(
            Q(warn_at__lte=self.now) | Q(due_at__lte=self.now + DUE_SOON)
        )
        return distinct_cases(self._scoped(soon), cap)

    def _breaching(self, cases: QuerySet[Case]) -> QuerySet[Case]:
        return cases.filter(state__in=OPEN_STATES).filter(Exists(_soon(self.now)))

    def _scoped(self, clocks: QuerySet[CaseClock]) -> QuerySet[CaseClock]:
        if self.scoped:  # per clock read, a probe of its case: not the whole scope built first
            clocks = clocks.filter(Exists(base(self.actor).filter(pk=OuterRef("case_id"))))
        return clocks

    def rows(self, n: int) -> list[Case]:
        now = self.now
        # Per clock read, whether its case has a clock due soon or past its warning: an
        # index probe (clock_running_case), evaluated only until the page is full. Not
        # ``case IN (the cases that qualify)``, which SQLite builds in full first.
        soon = CaseClock.objects.running().filter(
            Q(warn_at__lte=now) | Q(due_at__lte=now + DUE_SOON), case_id=OuterRef("case_id")
        )
        # No join to the case's state: a closed case has no running clock (see count()),
        # and SQLite would otherwise read every open case first and sort their clocks.
        clocks = self._scoped(CaseClock.objects.running().filter(Exists(soon)))
        ids = first_distinct(clocks.order_by("due_at", "case_id").values_list("case_id", flat=True), n)
        found = {c.pk: c for c in annotated(Case.objects.filter(pk__in=ids, state__in=OPEN_STATES), self.now)}
        return [found[i] for i in ids if i in found]


def about_to_breach(actor: Actor, now: dt.datetime | None = None) -> Breaching:
    return Breaching(actor, now)


Section = QuerySet[Case] | Breaching


def section_count(rows: Section | QuerySet[GroupMember]) -> CappedCount:
    """A section's count for its tab, stopping at the cap."""
    return rows.count() if isinstance(rows, Breaching) else bounded_count(rows)


def section_rows(rows: Section | QuerySet[GroupMember], n: int) -> list:
    """The first ``n`` rows of a section, in its order."""
    return rows.rows(n) if isinstance(rows, Breaching) else list(rows[:n])


def queue_sections(actor: Actor) -> list[tuple[str, Section]]:
    """The dispatcher's queue: keys and sections, in the order the page shows them."""
    mine = base(actor)
    sections: list[tuple[str, Section]] = [
        ("unassigned", annotated(mine.filter(state=State.ACCEPTED)).order_by("-urgent", "created_at")),
        ("returned", annotated(mine.filter(state=State.RETURNED)).order_by("-urgent", "updated_at")),
    ]
    if actor.role == Role.SUBCENTRE_DISPATCHER and actor.unit is not None:
        # Territorial cases routed to the sub-centre itself: pass them on to a village or
        # community, or work them here.
        held = mine.filter(owner_unit=actor.unit, state__in=(State.ASSIGNED, State.SIGNED))
        sections.append(("held", annotated(held).order_by("-urgent", "created_at")))
    sections.append(("breaching", about_to_breach(actor)))
    return sections


def inbox_sections(actor: Actor) -> list[tuple[str, QuerySet[Case] | QuerySet[GroupMember]]]:
    """The unit's inbox: what waits for a signature, for people, for feedback."""
    held = base(actor)
    held = held.filter(owner_unit=actor.unit) if actor.unit is not None else held.none()
    return [
        ("sign", annotated(held.filter(state=State.ASSIGNED)).order_by("-urgent", "created_at")),
        ("dispatch", annotated(held.filter(state=State.SIGNED)).order_by("-urgent", "created_at")),
        (
            "feedback",
            annotated(held.filter(state__in=(State.DISPATCHED, State.HANDLING))).order_by(
                "-urgent", "created_at"
            ),
        ),
        # Its parts in open joint groups (一键组群), as the lead or assisting: rows are parts.
        ("joint", member_inbox(actor)),
    ]


def field_cases(actor: Actor) -> tuple[QuerySet[Case], QuerySet[Case]]:
    """A field worker's cases: those still to work on, and the recently finished."""
    mine = base(actor)
    active = annotated(mine.filter(state__in=(State.DISPATCHED, State.HANDLING)))
    done = annotated(mine.exclude(state__in=(State.DISPATCHED, State.HANDLING)))
    return active.order_by("-urgent", "created_at"), done.order_by("-updated_at")


def closing_queue(actor: Actor) -> QuerySet[Case]:
    """Cases whose feedback is given: the requester is to be called back, then closed."""
    return annotated(base(actor).filter(state__in=(State.FEEDBACK, State.RATED))).order_by("updated_at", "id")


@dataclass(frozen=True)
class Overview:
    """The leader's figures: the open cases by state and by unit, exactly; the closed ones
    and the overdue ones counted up to the cap ("1000+"), since counting them reads the
    city's history (closed) or every late clock (overdue) on every visit; the totals over
    the history are the statistics page's, from its rollups."""

    by_state: dict[str, CappedCount]
    open: int
    total: CappedCount
    overdue: CappedCount
    by_unit: list[dict[str, Any]]


def overview(actor: Actor, now: dt.datetime | None = None, units: int = 12) -> Overview:
    """Four queries: the open cases by state and unit (one pass over the open cases' own
    index, ``case_open_state_unit``), the names of the units holding the most, the closed
    cases and the overdue ones, both stopping at the cap."""
    mine = base(actor)
    rows = (
        mine.filter(~Q(state=State.CLOSED))
        .order_by()
        .values_list("state", "owner_unit_id")
        .annotate(n=Count("*"))
    )
    by_state: dict[str, int] = {}
    by_owner: dict[int | None, int] = {}
    for state, owner, n in rows:
        by_state[state] = by_state.get(state, 0) + n
        by_owner[owner] = by_owner.get(owner, 0) + n
    top = sorted(by_owner.items(), key=lambda kv: (-kv[1], kv[0] or 0))[:units]
    names = dict(Unit.objects.filter(pk__in=[u for u, _ in top if u is not None]).values_list("pk", "name"))
    closed = bounded_count(mine.filter(state=State.CLOSED))
    open_ = sum(by_state.values())
    return Overview(
        by_state={
            s.value: closed if s == State.CLOSED else CappedCount(by_state.get(s.value, 0), False)
            for s in State
        },
        open=open_,
        total=CappedCount(open_ + closed.n, closed.capped),
        overdue=overdue_count(actor, now),
        by_unit=[{"owner_unit__name": names.get(u) if u is not None else None, "n": n} for u, n in top],
    )


def overdue_count(actor: Actor, now: dt.datetime | None = None, cap: int = COUNT_CAP) -> CappedCount:
    """Open cases with a clock past its limit, counted from the running clocks up to the
    cap (a closed case has no running clock)."""
    clocks = CaseClock.objects.overdue(now)
    if base(actor).query.has_filters():
        clocks = clocks.filter(Exists(base(actor).filter(pk=OuterRef("case_id"))))
    return distinct_cases(clocks, cap)


def distinct_cases(clocks: QuerySet[CaseClock], cap: int = COUNT_CAP) -> CappedCount:
    """How many cases these clocks are of, up to the cap: read off ``clock_running_case``
    in case order, so the database stops at the cap."""
    n = clocks.order_by().values("case_id").distinct()[: cap + 1].count()
    return CappedCount(min(n, cap), n > cap)
