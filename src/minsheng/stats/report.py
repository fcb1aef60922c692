"""The table the statistics page shows: each measure by unit, for a period and filters,
read from the rollups for the days they hold and counted live for the rest (today, and
any day the refresh has not reached yet).

The number of queries does not depend on the number of units, days or cases: one state
row, two rollup queries (counts, durations), three live queries (and the units' codes),
one for the unit names.
"""

from __future__ import annotations

import calendar
import contextlib
import datetime as dt
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, connections, transaction
from django.db.models import BigIntegerField, F, Q, Sum, When
from django.db.models import Case as When_

from minsheng.accounts.actors import Actor
from minsheng.accounts.models import Unit, UnitKind
from minsheng.core import clock
from minsheng.core.conf import setting

from . import measures
from .measures import MEASURES, PERCENTILES, Figure, Filters, Scope, Tally
from .models import (
    CHANNEL,
    DAY_GSETS,
    MATTER,
    MONTH_GSETS,
    OWNER,
    TOWN,
    YEAR_GSETS,
    Grain,
    Rollup,
    RollupDay,
    RollupDuration,
    RollupPeriod,
    gset_for,
)
from .rollup import latest_state, no_jit, today_rollup_age

KIND_ORDER: dict[str, int] = {
    UnitKind.CENTRE: 0,
    UnitKind.SUBCENTRE: 1,
    UnitKind.DEPARTMENT: 2,
    UnitKind.GRASSROOTS: 3,
}


@dataclass
class Row:
    unit_id: int | None  # None: no unit yet
    label: str
    tally: Tally
    is_total: bool = False
    kind: str = ""

    @property
    def figures(self) -> list[Figure]:
        return [self.tally.figure(m) for m in MEASURES]

    def figure(self, key: str) -> Figure:
        return self.tally.figure(measures.MEASURE_BY_KEY[key])

    def percentile(self, name: str, p: float) -> float | None:
        return self.tally.percentile(name, p)

    @property
    def durations(self) -> list[tuple[str, float, float | None]]:
        return [
            (name, p, self.percentile(name, p)) for name in measures.DURATIONS for p, _label in PERCENTILES
        ]

    @property
    def audit_unit(self) -> str:
        """The ``unit`` parameter of this row's audit links ('' for the total)."""
        if self.is_total:
            return ""
        return str(measures.NO_UNIT if self.unit_id is None else self.unit_id)


@dataclass
class Report:
    filters: Filters
    as_of: dt.datetime
    total: Row
    rows: list[Row] = field(default_factory=list)
    rolled: list[tuple[int, str, dt.date]] = field(default_factory=list)  # signed terms
    live_from: dt.date | None = None
    complete_through: dt.date | None = None
    today_as_of: dt.datetime | None = None  # today read from its rollup, built at this time

    @property
    def all_rows(self) -> list[Row]:
        return [self.total, *self.rows]


def needed_bits(filters: Filters, scope: Scope) -> int:
    """The dimensions a query filters on (its scope included)."""
    bits = 0
    if filters.town is not None or scope.town is not None:
        bits |= TOWN
    if filters.matter is not None:
        bits |= MATTER
    if filters.channel:
        bits |= CHANNEL
    if not scope.everything:
        bits |= OWNER
    return bits


# A part of a period, with its sign: the rollups are sums, so "the year but its first
# fortnight" is the year minus fourteen days, exactly.
Term = tuple[int, str, dt.date]  # (+1 | -1, grain, first day of the period)
DAY_COST = 0.2  # a day's rows against a month's or a year's (a month is about 1)


def _month_end(d: dt.date) -> dt.date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def _days(a: dt.date, b: dt.date) -> list[Term]:
    return [(1, Grain.DAY.value, a + dt.timedelta(days=i)) for i in range((b - a).days + 1)]


def _cost(terms: list[Term]) -> float:
    return sum(DAY_COST if g == Grain.DAY.value else 1.0 for _s, g, _p in terms)


def _negate(terms: list[Term]) -> list[Term]:
    return [(-sign, g, p) for sign, g, p in terms]


def _cover_months(a: dt.date, b: dt.date, summed: set[tuple[str, dt.date]]) -> list[Term]:
    """``[a, b]`` within one year: whole months, and for a partial month either its days
    or the month minus the days left out, whichever reads fewer rows."""
    out: list[Term] = []
    d = a
    while d <= b:
        first, end = d.replace(day=1), _month_end(d)
        last = min(b, end)
        month = (Grain.MONTH.value, first)
        if d == first and last == end and month in summed:
            out.append((1, *month))
        else:
            direct = _days(d, last)
            if month in summed:
                via = [(1, *month)]
                if d > first:
                    via += _negate(_days(first, d - dt.timedelta(days=1)))
                if last < end:
                    via += _negate(_days(last + dt.timedelta(days=1), end))
                direct = min(direct, via, key=_cost)
            out += direct
        d = last + dt.timedelta(days=1)
    return out


def plan_terms(start: dt.date, end: dt.date, summed: set[tuple[str, dt.date]]) -> list[Term]:
    """``[start, end]`` (all days built) as signed years, months and days. ``summed``
    holds the months and years whose rows exist (for the grouping set wanted)."""
    out: list[Term] = []
    for year in range(start.year, end.year + 1):
        a, b = max(start, dt.date(year, 1, 1)), min(end, dt.date(year, 12, 31))
        direct = _cover_months(a, b, summed)
        y = (Grain.YEAR.value, dt.date(year, 1, 1))
        if y in summed:
            via = [(1, *y)]
            if a > dt.date(year, 1, 1):
                via += _negate(_cover_months(dt.date(year, 1, 1), a - dt.timedelta(days=1), summed))
            if b < dt.date(year, 12, 31):
                via += _negate(_cover_months(b + dt.timedelta(days=1), dt.date(year, 12, 31), summed))
            direct = min(direct, via, key=_cost)
        out += direct
    merged: dict[tuple[str, dt.date], int] = {}
    for sign, g, p in out:
        merged[(g, p)] = merged.get((g, p), 0) + sign
    return [(sign, g, p) for (g, p), sign in sorted(merged.items()) if sign]


def split_period(start: dt.date, end: dt.date) -> list[tuple[str, dt.date, dt.date]]:
    """``[start, end]`` as whole years, whole months and runs of days, all taken as
    summed (for tests and the docs): ``(grain, first, last)``."""
    summed = set()
    d = start
    while d <= end:
        summed.add((Grain.MONTH.value, d.replace(day=1)))
        summed.add((Grain.YEAR.value, d.replace(month=1, day=1)))
        d += dt.timedelta(days=28)
    summed.add((Grain.MONTH.value, end.replace(day=1)))
    out: list[tuple[str, dt.date, dt.date]] = []
    for sign, g, p in sorted(plan_terms(start, end, summed), key=lambda t: (t[2], t[1])):
        last = (
            _month_end(p)
            if g == Grain.MONTH.value
            else dt.date(p.year, 12, 31)
            if g == Grain.YEAR.value
            else p
        )
        if (
            g == Grain.DAY.value
            and out
            and out[-1][0] == g
            and sign > 0
            and out[-1][2] + dt.timedelta(days=1) == p
        ):
            out[-1] = (g, out[-1][1], p)
        else:
            out.append((g if sign > 0 else f"-{g}", p, last))
    return out


def _rollup_filter_q(filters: Filters, scope: Scope) -> Q:
    q = Q()
    if filters.unit is not None:
        q &= Q(unit_id=filters.unit)  # NO_UNIT is stored as 0 too
    if filters.town is not None:
        q &= Q(town_id=filters.town)
    if filters.matter is not None:
        q &= Q(matter_id=filters.matter)
    if filters.channel:
        q &= Q(channel=filters.channel)
    if not scope.everything:  # the rows keep the owner (OWNER is in the grouping set)
        seen = Q(owner_id__in=sorted(scope.owners))
        if scope.town is not None:
            seen |= Q(town_id=scope.town)
        q &= seen
        if scope.unit is not None:
            q &= Q(unit_id=scope.unit)
    return q


def _terms_q(terms: list[Term], gsets: dict[str, int], sign: int) -> Q:
    q = Q(pk__in=[])
    for grain, gset in gsets.items():
        periods = [p for s, g, p in terms if g == grain and s == sign]
        if periods:
            q |= Q(gset=gset, grain=grain, period__in=periods)
    return q


def rollup_tallies(
    filters: Filters, scope: Scope, terms: list[Term], gsets: dict[str, int], into: dict[int | None, Tally]
) -> None:
    """Adds what the rollups hold for ``terms`` (two queries; subtracted terms count
    negative). The rows are read as plain tuples: a year of a big city is tens of
    thousands of histogram rows, and the ORM's per-row work would cost more than the
    query."""
    plus, minus = _terms_q(terms, gsets, 1), _terms_q(terms, gsets, -1)
    where = (plus | minus) & _rollup_filter_q(filters, scope)

    def signed(field: str) -> Sum:
        return Sum(When_(When(minus, then=F(field) * -1), default=F(field), output_field=BigIntegerField()))

    counts = (
        Rollup.objects.filter(where).values_list("unit_id", "kind").annotate(sn=signed("n"), sok=signed("ok"))
    )
    for stored_unit, kind, n, ok in _raw(counts):
        unit_id = stored_unit or None
        tally = into.get(unit_id)
        if tally is None:
            tally = into[unit_id] = Tally()
        tally.add_count(kind, n, ok)
    # Each stored bucket row with its sign, not summed per bucket in SQL: the lists per
    # (unit, clock) are summed here, which costs less than a second grouping level.
    hists = (
        RollupDuration.objects.filter(where)
        .annotate(sv=When_(When(minus, then=F("n") * -1), default=F("n"), output_field=BigIntegerField()))
        .values_list("unit_id", "name", "bucket", "sv")
    )
    for stored_unit, name, hist in _histograms(hists):
        unit_id = stored_unit or None
        tally = into.get(unit_id)
        if tally is None:
            tally = into[unit_id] = Tally()
        tally.merge_hist(name, hist)


def _histograms(qs: Any) -> list[tuple[int, str, dict[int, int]]]:
    """``(unit, name, {bucket: n})`` from signed bucket rows: a histogram's rows come back
    as one (two arrays on PostgreSQL, two lists on SQLite) and are summed here. A year of a
    big city is ~50,000 bucket rows; a row each cost more in Python than the query."""
    compiler = qs.query.get_compiler(qs.db)
    inner, params = compiler.as_sql()
    conn = connections[qs.db]
    lists = (
        "array_agg(bucket), array_agg(sv)"
        if conn.vendor == "postgresql"
        else "group_concat(bucket), group_concat(sv)"
    )
    # The inner query is the ORM's own, its values passed as parameters.
    outer = f"SELECT unit_id, name, {lists} FROM ({inner}) h GROUP BY unit_id, name"  # noqa: S608
    with conn.cursor() as cur:
        cur.execute(outer, params)
        rows = cur.fetchall()
    out = []
    for unit_id, name, bs, ns in rows:
        if isinstance(bs, str):  # SQLite: "3,4,5" and "1,2,1", in the same order
            bs, ns = map(int, bs.split(",")), map(int, ns.split(","))
        hist: dict[int, int] = {}
        get = hist.get
        for b, n in zip(bs, ns, strict=True):
            hist[b] = get(b, 0) + n
        hist = {b: n for b, n in hist.items() if n}
        if hist:
            out.append((unit_id, name, hist))
    return out


def _raw(qs: Any) -> list[tuple]:
    compiler = qs.query.get_compiler(qs.db)
    sql, params = compiler.as_sql()
    with connections[qs.db].cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


# --- today, counted on a second connection while the rollups are read ------------------
#
# A period that ends today is two independent reads: the rollups for the days built, and
# the raw tables for today. On PostgreSQL they run side by side, the live part in a thread
# with a connection of its own (opened for it and closed after: a few milliseconds against
# the hundred or more it saves), so the page waits for the slower of the two rather than
# for their sum. Only in autocommit: inside a caller's transaction a second connection
# would not see what that transaction wrote (tests, and any caller that changed data
# first), so there the two run one after the other.


def parallel_live() -> bool:
    """Whether the live part may run on a second connection now."""
    return (
        setting("MINSHENG_STATS_PARALLEL", True)
        and connection.vendor == "postgresql"
        and not connection.in_atomic_block
    )


@contextlib.contextmanager
def reading() -> Iterator[None]:
    """The page's reads. On PostgreSQL in a transaction, only for its settings: no JIT for
    its grouped queries (:func:`no_jit`), memory enough to sum them in memory. On SQLite in
    autocommit: a transaction there takes the write lock (``IMMEDIATE``), and a statistics
    page must not hold up the worker."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        no_jit()
        with connection.cursor() as cur:
            # The year's histograms are ~50,000 bucket rows to sum: in memory, not in
            # temporary files (work_mem's 4 MB default spilled them), and on this
            # connection's core (parallel workers cost more than they gave, and the page
            # already counts today on a second connection).
            cur.execute("SET LOCAL work_mem = '64MB'")
            cur.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        yield


class _LiveCount(threading.Thread):
    """Today's live tallies on a connection of the thread's own."""

    def __init__(
        self, actor: Actor, filters: Filters, start: dt.datetime, end: dt.datetime, now: dt.datetime
    ) -> None:
        super().__init__(name="stats-live", daemon=True)
        self.args = (actor, filters, start, end, now)
        self.tallies: dict[int | None, Tally] = {}
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with reading():
                self.tallies = measures.live_tallies(*self.args)
        except BaseException as exc:  # re-raised in the caller's thread
            self.error = exc
        finally:
            connections.close_all()

    def result(self) -> dict[int | None, Tally]:
        self.join()
        if self.error is not None:
            raise self.error
        return self.tallies


def build_report(
    actor: Actor,
    filters: Filters,
    now: dt.datetime | None = None,
    *,
    use_rollups: bool = True,
    parallel: bool | None = None,
) -> Report:
    """The table for ``actor``: every figure only over cases they may see. ``parallel``: count
    today on a second connection while the rollups are read (default: on PostgreSQL in
    autocommit, see :func:`parallel_live`)."""
    if parallel is None:
        parallel = parallel_live()
    with reading():
        return _build_report(actor, filters, now, use_rollups=use_rollups, parallel=parallel)


def _build_report(
    actor: Actor, filters: Filters, now: dt.datetime | None, *, use_rollups: bool, parallel: bool = False
) -> Report:
    now = now or clock.now()
    scope = measures.scope_for(actor)
    tallies: dict[int | None, Tally] = {}
    report = Report(filters=filters, as_of=now, total=Row(None, "", Tally(), is_total=True))
    if scope.nothing or filters.end < filters.start:
        return report
    today = measures.local_date(now)
    complete, _last_run = latest_state() if use_rollups else (None, None)
    report.complete_through = complete
    rolled_end = filters.start - dt.timedelta(days=1)
    gsets: dict[str, int | None] = {}
    if complete is not None:
        rolled_end = min(filters.end, complete, today - dt.timedelta(days=1))
        if (
            rolled_end == today - dt.timedelta(days=1)
            and filters.end >= today
            and (built := today_built_at(today, now)) is not None
        ):
            rolled_end, report.today_as_of = today, built
    if rolled_end >= filters.start:
        bits = needed_bits(filters, scope)
        gsets = {
            grain.value: gset_for(bits, stored)
            for grain, stored in (
                (Grain.DAY, DAY_GSETS),
                (Grain.MONTH, MONTH_GSETS),
                (Grain.YEAR, YEAR_GSETS),
            )
        }
        summed = {
            (g, p)
            for g, p in RollupPeriod.objects.filter(
                period__gte=filters.start.replace(month=1, day=1),
                period__lte=rolled_end,
            ).values_list("grain", "period")
            if gsets.get(g) is not None
        }
        report.rolled = plan_terms(filters.start, rolled_end, summed)
    live_from = max(filters.start, rolled_end + dt.timedelta(days=1))
    live: tuple[dt.datetime, dt.datetime] | None = None
    if live_from <= filters.end and live_from <= today:
        report.live_from = live_from
        live = (
            measures.day_start(live_from),
            measures.day_start(min(filters.end, today) + dt.timedelta(days=1)),
        )
    pending: _LiveCount | None = None
    if live is not None and report.rolled and parallel:
        pending = _LiveCount(actor, filters, *live, now)
        pending.start()
    if report.rolled:
        rollup_tallies(
            filters, scope, report.rolled, {g: gs for g, gs in gsets.items() if gs is not None}, tallies
        )
    if pending is not None:
        for unit_id, tally in pending.result().items():
            tallies.setdefault(unit_id, Tally()).absorb(tally)
    elif live is not None:
        measures.live_tallies(actor, filters, *live, now, tallies)
    # A unit seen only in a subtracted part sums to nothing: no row for it.
    tallies = {k: t for k, t in tallies.items() if not t.is_empty()}
    units = {u.pk: u for u in Unit.objects.filter(pk__in=[k for k in tallies if k is not None])}
    for unit_id, tally in tallies.items():
        report.total.tally.absorb(tally)
        for kind in measures.CITY_WIDE_KINDS:  # the total's only
            tally.counts.pop(kind, None)
        if tally.is_empty():
            continue
        unit = units.get(unit_id) if unit_id is not None else None
        label = unit.name if unit is not None else ""
        report.rows.append(Row(unit_id, label, tally, kind=unit.kind if unit else ""))
    report.rows.sort(key=_row_order)
    return report


def today_built_at(today: dt.date, now: dt.datetime) -> dt.datetime | None:
    """When today's rows were built, if the page may read them (the setting allows it and
    they are at most that old); else ``None``: today is counted live."""
    max_age = today_rollup_age()
    if max_age is None:
        return None
    built = (
        RollupDay.objects.filter(day=today, built_at__isnull=False).values_list("built_at", flat=True).first()
    )
    if built is None or not (now - max_age <= built <= now):
        return None
    return built


def _row_order(row: Row) -> tuple[Any, ...]:
    if row.unit_id is None:
        return (9, "")
    return (KIND_ORDER.get(row.kind, 8), row.label)


# --- counts per day for other screens (the command centre's) -----------------------------

DAY_DIMS = {"channel": CHANNEL, "town_id": TOWN, "matter_id": MATTER}


def daily_counts(
    actor: Actor,
    kind: str,
    start: dt.date,
    end: dt.date,
    by: tuple[str, ...] = (),
    *,
    per_day: bool = True,
) -> tuple[list[tuple[Any, ...]], dt.date]:
    """Sums of ``kind``'s ``n`` (e.g. ``intake``: cases received, by the day of their
    ``accept`` entry) from the day rollups, over the days from ``start`` through ``end`` that
    the rollups hold, for the cases ``actor`` may see (their current owner and town, as
    :func:`measures.scope_for` mirrors ``visible_cases``; a handler's unit is the case's
    owner here, not the row's unit). Rows ``(day?, *by, n)`` with ``by`` among ``channel``,
    ``town_id``, ``matter_id`` (``0``/``""`` for none), and the first day the rollups do not
    hold, to be counted live by the caller. Two queries (the state, the rows)."""
    scope = measures.scope_for(actor)
    complete, _last_run = latest_state()
    rolled_end = min(end, complete) if complete is not None else start - dt.timedelta(days=1)
    live_from = max(start, rolled_end + dt.timedelta(days=1))
    if scope.nothing or rolled_end < start:
        return [], live_from
    bits = OWNER if not scope.everything else 0
    for dim in by:
        bits |= DAY_DIMS[dim]
    if scope.town is not None:
        bits |= TOWN
    gset = gset_for(bits, DAY_GSETS)
    q = Q(gset=gset, grain=Grain.DAY.value, period__gte=start, period__lte=rolled_end, kind=kind)
    if not scope.everything:
        seen = Q(owner_id__in=sorted(scope.owners))
        if scope.town is not None:
            seen |= Q(town_id=scope.town)
        q &= seen
    keys = ("period", *by) if per_day else by
    rows = Rollup.objects.filter(q).order_by().values(*keys).annotate(s=Sum("n")).values_list(*keys, "s")
    # PostgreSQL sums bigints as numeric: the counts come back as ints on both databases.
    return [(*r[:-1], int(r[-1])) for r in _raw(rows)], live_from
