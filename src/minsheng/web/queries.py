"""The lists the workbenches show. Each starts from ``visible_cases`` so that a page can
never show a case its reader may not see; these helpers only filter and annotate."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery

from minsheng.accounts.actors import Actor
from minsheng.accounts.models import Role
from minsheng.cases.lists import COUNT_CAP, CappedCount, bounded_count
from minsheng.cases.models import Case, CaseClock, case_overdue
from minsheng.cases.scoping import visible_cases
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
    """Adds ``overdue`` (:func:`~minsheng.cases.models.case_overdue`), ``next_due`` and
    ``next_clock`` (the running clock due first), and loads what list rows show."""
    now = now or clock.now()
    first = _running().order_by("due_at")
    return qs.select_related("matter", "owner_unit", "town", "place").annotate(
        overdue=case_overdue(now),
        next_due=Subquery(first.values("due_at")[:1]),
        next_clock=Subquery(first.values("name")[:1]),
    )


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
        self.cases = base(actor).filter(state__in=OPEN_STATES).filter(Exists(_soon(self.now)))
        self.scoped = base(actor).query.has_filters()
        self.actor = actor

    def count(self, cap: int = COUNT_CAP) -> CappedCount:
        """Counted from the running clocks that qualify (a small index), one per case, and
        never past the cap: from the cases' side the closed history is read first. A closed
        case has no running clock (closing and merging stop them all), so the state is not
        read here."""
        soon = CaseClock.objects.running().filter(
            Q(warn_at__lte=self.now) | Q(due_at__lte=self.now + DUE_SOON)
        )
        if self.scoped:
            soon = soon.filter(Exists(base(self.actor).filter(pk=OuterRef("case_id"))))
        n = soon.order_by().values("case_id").distinct()[: cap + 1].count()
        return CappedCount(min(n, cap), n > cap)

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
        clocks = CaseClock.objects.running().filter(Exists(soon))
        if self.scoped:  # per clock read, a probe of its case: not the whole scope built first
            clocks = clocks.filter(Exists(base(self.actor).filter(pk=OuterRef("case_id"))))
        due_order = clocks.order_by("due_at", "case_id").values_list("case_id", flat=True)
        ids: list[int] = []
        seen: set[int] = set()
        start, chunk = 0, 4 * n
        while len(ids) < n:
            got = list(due_order[start : start + chunk])
            for case_id in got:
                if case_id not in seen:
                    seen.add(case_id)
                    ids.append(case_id)
            if len(got) < chunk:
                break
            start, chunk = start + chunk, chunk * 4
        ids = ids[:n]
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


def counts_by_state(actor: Actor) -> dict[str, int]:
    rows = base(actor).order_by().values("state").annotate(n=Count("id"))
    got = {r["state"]: r["n"] for r in rows}
    return {s.value: got.get(s.value, 0) for s in State}


def overdue_count(actor: Actor, now: dt.datetime | None = None) -> int:
    return base(actor).filter(state__in=OPEN_STATES).filter(case_overdue(now)).count()


def open_by_unit(actor: Actor, limit: int = 12) -> list[dict]:
    rows = (
        base(actor)
        .filter(state__in=OPEN_STATES)
        .order_by()
        .values("owner_unit__name")
        .annotate(n=Count("id"))
        .order_by("-n")[:limit]
    )
    return list(rows)
