"""Paging a list of cases at a city's scale: counts that stop at a cap, and keyset pages.

A count of every matching case reads every matching row; a page read by ``OFFSET`` reads
every row before it. Both grow with the city's history. Here a count stops at
:data:`COUNT_CAP` (the page says "1000+"), and a page of the newest-first lists starts
after the last row of the one before (``after``, an opaque cursor of that row's
``created_at`` and id), read straight off the ``(created_at, id)`` indexes, so the tenth
page costs what the first does.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.db import models
from django.db.models import Model, OuterRef, Q, QuerySet, Subquery
from django.db.models.sql.where import WhereNode
from django.utils.translation import gettext as _

from minsheng.core import clock

from .errors import Invalid
from .models import CaseClock
from .search import served

COUNT_CAP = 1000
NEWEST_FIRST = ("-created_at", "-id")

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class CappedCount:
    """How many, exactly up to the cap; ``capped`` when there are more."""

    n: int
    capped: bool

    def __str__(self) -> str:
        return f"{self.n}+" if self.capped else str(self.n)

    def __bool__(self) -> bool:
        return self.n > 0


def bounded_count(qs: QuerySet, cap: int = COUNT_CAP) -> CappedCount:
    """Count at most ``cap + 1`` rows: the database stops reading there."""
    n = qs.order_by().values("pk")[: cap + 1].count()
    return CappedCount(min(n, cap), n > cap)


def bounded_count_of(parts: Sequence[QuerySet], cap: int = COUNT_CAP) -> CappedCount:
    """How many rows the union of these lists holds, exactly up to ``cap``: each part's ids
    up to the cap, each part read off an index of its own, and told apart here. The ``OR``
    of the parts in one query has PostgreSQL walk the whole table by its key (a merge
    join) to find a few thousand."""
    if len(parts) == 1:
        return bounded_count(parts[0], cap)
    ids: set = set()
    for part in parts:
        ids.update(part.order_by().values_list("pk", flat=True)[: cap + 1])
        if len(ids) > cap:
            break
    return CappedCount(min(len(ids), cap), len(ids) > cap)


def first_distinct(values: QuerySet, n: int) -> list:
    """The first ``n`` distinct values of an ordered one-column list (``values_list(...,
    flat=True)``), read in growing chunks and told apart here: ``DISTINCT`` in the query
    would have the database read them all, or in another order, first."""
    out: list = []
    seen: set = set()
    start, chunk = 0, 4 * n
    while len(out) < n:
        got = list(values[start : start + chunk])
        for v in got:
            if v not in seen:
                seen.add(v)
                out.append(v)
        if len(got) < chunk:
            break
        start, chunk = start + chunk, chunk * 4
    return out[:n]


def page_count(page: Page) -> CappedCount:
    """For a search by words, where counting every match reads every row: what the page
    holds, and "more" when a next page exists."""
    return CappedCount(len(page.rows), page.next is not None)


def with_next_due(qs: QuerySet[M], now: dt.datetime | None = None) -> QuerySet[M]:
    """Adds to each case ``next_due`` and ``next_clock`` (its running clock due first) and
    ``overdue``: that clock is past its limit, which is
    :func:`~minsheng.cases.models.case_overdue`'s rule (a running clock past its limit) read
    off the same probe of ``clock_running_case``. Not ``EXISTS`` in the select list:
    PostgreSQL plans that as a hash of every overdue clock in the city when it expects many
    rows, before the page's ``LIMIT``."""
    now = now or clock.now()
    first = CaseClock.objects.running().filter(case=OuterRef("pk")).order_by("due_at")
    return qs.annotate(
        next_due=Subquery(first.values("due_at")[:1]),
        next_clock=Subquery(first.values("name")[:1]),
    ).annotate(
        overdue=models.Case(
            models.When(next_due__lt=now, then=models.Value(True)),
            default=models.Value(False),
            output_field=models.BooleanField(),
        )
    )


def encode_cursor(created_at: dt.datetime, pk: int) -> str:
    raw = f"{created_at.isoformat()}|{pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, field: str = "after") -> tuple[dt.datetime, int]:
    """The row a page starts after; a cursor this module did not make is refused (422)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, pk = raw.split("|")
        when = dt.datetime.fromisoformat(at)
        if when.tzinfo is None:
            raise ValueError(at)
        return when, int(pk)
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
        raise Invalid(field, _("Not a page marker this list gave.")) from exc


@dataclass
class Page(Generic[M]):
    """One page of a newest-first list, and the marker of the next (``None``: the last)."""

    rows: list[M]
    next: str | None


def _after(qs: QuerySet[M], at: dt.datetime, pk: int) -> QuerySet[M]:
    return qs.filter(Q(created_at__lt=at) | Q(created_at=at, pk__lt=pk))


def _from(qs: QuerySet[M], at: dt.datetime, pk: int) -> QuerySet[M]:
    return qs.filter(Q(created_at__gt=at) | Q(created_at=at, pk__gte=pk))


FIRST_WINDOW = 2000


def keyset_page(
    qs: QuerySet[M],
    *,
    after: str | None,
    size: int,
    scan: QuerySet[M] | None = None,
    parts: Sequence[QuerySet[M]] = (),
) -> Page[M]:
    """The ``size`` newest rows of ``qs`` after the cursor ``after`` (from the start when
    ``None``); two queries, the ids then their rows.

    ``scan`` is the same list without the condition no index serves (a search for a word
    of two characters, 窨井): the page is then looked for among the newest 2,000 rows of
    ``scan``, then the 8,000 before them, and so on, each window a range of the
    ``(created_at, id)`` index, so the database reads newest-first and stops once the page
    is full instead of choosing to read every row and sort them. Two queries a window; a
    word in one case of a hundred is found in the first.

    ``parts`` (without ``scan``) are lists whose union is ``qs``, each with its filters and
    each read newest-first off an index of its own (a handler's unit's cases, and those of
    the joint groups it is in: :func:`~minsheng.cases.scoping.visible_parts`): the page is
    the newest ``size`` of the parts' own pages, a ``UNION`` of index scans where the
    ``OR`` of them reads every matching row and sorts them. A query a part."""
    start = decode_cursor(after) if after else None
    if scan is not None and served(qs):
        scan = None  # the words are read off the search index (cases.search): no scan
    if scan is None and len(parts) > 1:
        return _merged_page(parts, start, size)
    ordered = qs.order_by(*NEWEST_FIRST)
    if start is not None:
        ordered = _after(ordered, *start)
    if scan is None:
        # The page's ids first, off the index alone (its rows are read only for the ids
        # that qualify: a filter that skips many, overdue newest-first, visits no row it
        # skips), then those rows with what the list shows.
        ids = list(ordered.values_list("pk", flat=True)[: size + 1])
        of_ids = qs.order_by()
        if served(qs):
            # The ids qualify already; with the search's condition again SQLite would read
            # every match off the index a second time instead of these ids.
            of_ids.query.where = WhereNode()
        found = {row.pk: row for row in of_ids.filter(pk__in=ids)}
        rows = [found[pk] for pk in ids if pk in found]
    else:
        rows = []
        edge = start
        window = FIRST_WINDOW
        while len(rows) <= size:
            below = scan.order_by(*NEWEST_FIRST)
            if edge is not None:
                below = _after(below, *edge)
            last = next(iter(below.values_list("created_at", "pk")[window - 1 : window]), None)
            part = ordered if edge is None else _after(ordered, *edge)
            if last is not None:
                part = _from(part, *last)
            rows += list(part[: size + 1 - len(rows)])
            if last is None:
                break
            edge, window = last, window * 4
    return _page(rows, size)


def _merged_page(parts: Sequence[QuerySet[M]], start: tuple[dt.datetime, int] | None, size: int) -> Page[M]:
    found: dict[int, M] = {}
    for part in parts:
        ordered = part.order_by(*NEWEST_FIRST)
        if start is not None:
            ordered = _after(ordered, *start)
        for row in ordered[: size + 1]:
            found.setdefault(row.pk, row)
    rows = sorted(found.values(), key=lambda r: (r.created_at, r.pk), reverse=True)  # type: ignore[attr-defined]
    return _page(rows[: size + 1], size)


def _page(rows: list[M], size: int) -> Page[M]:
    more = len(rows) > size
    rows = rows[:size]
    tail = rows[-1] if rows else None
    cursor = encode_cursor(tail.created_at, tail.pk) if more and tail is not None else None  # type: ignore[attr-defined]
    return Page(rows, cursor)
