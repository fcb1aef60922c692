"""The table the statistics page shows: each measure by unit, for a period and filters,
read from the rollups for the days they hold and counted live for the rest (today, and
any day the refresh has not reached yet).

The number of queries does not depend on the number of units, days or cases: one state
row, two rollup queries (counts, durations), four live queries, one for the unit names.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import connections
from django.db.models import Q, Sum

from minsheng.accounts.actors import Actor
from minsheng.accounts.models import Unit, UnitKind
from minsheng.core import clock

from . import measures
from .measures import MEASURES, PERCENTILES, Figure, Filters, Scope, Tally
from .models import CHANNEL, FULL, GSETS, MATTER, TOWN, Grain, Rollup, RollupDuration
from .rollup import latest_state

KIND_ORDER = {UnitKind.CENTRE: 0, UnitKind.SUBCENTRE: 1, UnitKind.DEPARTMENT: 2,
              UnitKind.GRASSROOTS: 3}


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
        return [(name, p, self.percentile(name, p))
                for name in measures.DURATIONS for p, _label in PERCENTILES]

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
    rolled: list[tuple[str, dt.date, dt.date]] = field(default_factory=list)
    live_from: dt.date | None = None
    complete_through: dt.date | None = None

    @property
    def all_rows(self) -> list[Row]:
        return [self.total, *self.rows]


def choose_gset(filters: Filters, scope: Scope) -> int:
    bits = 0
    if filters.town is not None or scope.needs_town:
        bits |= TOWN
    if filters.matter is not None:
        bits |= MATTER
    if filters.channel:
        bits |= CHANNEL
    return bits if bits in GSETS else FULL


def split_period(start: dt.date, end: dt.date) -> list[tuple[str, dt.date, dt.date]]:
    """``[start, end]`` as whole years, whole months and runs of days, in order:
    ``(grain, first, last)``."""
    out: list[tuple[str, dt.date, dt.date]] = []
    d = start
    while d <= end:
        year_end = dt.date(d.year, 12, 31)
        month_end = d.replace(day=calendar.monthrange(d.year, d.month)[1])
        if d.month == 1 and d.day == 1 and year_end <= end:
            out.append((Grain.YEAR.value, d, year_end))
            d = year_end + dt.timedelta(days=1)
        elif d.day == 1 and month_end <= end:
            out.append((Grain.MONTH.value, d, month_end))
            d = month_end + dt.timedelta(days=1)
        else:
            last = min(end, month_end)
            if out and out[-1][0] == Grain.DAY.value and out[-1][2] + dt.timedelta(days=1) == d:
                out[-1] = (Grain.DAY.value, out[-1][1], last)
            else:
                out.append((Grain.DAY.value, d, last))
            d = last + dt.timedelta(days=1)
    return out


def _period_q(parts: list[tuple[str, dt.date, dt.date]]) -> Q:
    q = Q(pk__in=[])
    years = [first for g, first, _ in parts if g == Grain.YEAR.value]
    months = [first for g, first, _ in parts if g == Grain.MONTH.value]
    if years:
        q |= Q(grain=Grain.YEAR, period__in=years)
    if months:
        q |= Q(grain=Grain.MONTH, period__in=months)
    for g, first, last in parts:
        if g == Grain.DAY.value:
            q |= Q(grain=Grain.DAY, period__gte=first, period__lte=last)
    return q


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
    if not scope.everything:
        seen = Q(owner_id__in=sorted(scope.owners))
        if scope.town is not None:
            seen |= Q(town_id=scope.town)
        q &= seen
        if scope.unit is not None:
            q &= Q(unit_id=scope.unit)
    return q


def rollup_tallies(filters: Filters, scope: Scope, parts: list[tuple[str, dt.date, dt.date]],
                   into: dict[int | None, Tally]) -> None:
    """Adds what the rollups hold for ``parts`` (two queries). The rows are read as plain
    tuples: a year of a big city is tens of thousands of histogram rows, and the ORM's
    per-row work would cost more than the query."""
    gset = choose_gset(filters, scope)
    where = Q(gset=gset) & _period_q(parts) & _rollup_filter_q(filters, scope)
    counts = (Rollup.objects.filter(where).values_list("unit_id", "kind")
              .annotate(sn=Sum("n"), sok=Sum("ok")))
    for stored_unit, kind, n, ok in _raw(counts):
        unit_id = stored_unit or None
        tally = into.get(unit_id)
        if tally is None:
            tally = into[unit_id] = Tally()
        tally.add_count(kind, n, ok)
    hists = (RollupDuration.objects.filter(where).values_list("unit_id", "name", "bucket")
             .annotate(sn=Sum("n")))
    for stored_unit, name, bucket, n in _raw(hists):
        unit_id = stored_unit or None
        tally = into.get(unit_id)
        if tally is None:
            tally = into[unit_id] = Tally()
        h = tally.hists.get(name)
        if h is None:
            h = tally.hists[name] = {}
        h[bucket] = h.get(bucket, 0) + int(n)


def _raw(qs: Any) -> list[tuple]:
    compiler = qs.query.get_compiler(qs.db)
    sql, params = compiler.as_sql()
    with connections[qs.db].cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def build_report(actor: Actor, filters: Filters, now: dt.datetime | None = None, *,
                 use_rollups: bool = True) -> Report:
    """The table for ``actor``: every figure only over cases they may see."""
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
    if complete is not None:
        rolled_end = min(filters.end, complete, today - dt.timedelta(days=1))
    if rolled_end >= filters.start:
        report.rolled = split_period(filters.start, rolled_end)
        rollup_tallies(filters, scope, report.rolled, tallies)
    live_from = max(filters.start, rolled_end + dt.timedelta(days=1))
    if live_from <= filters.end and live_from <= today:
        report.live_from = live_from
        measures.live_tallies(
            actor, filters, measures.day_start(live_from),
            measures.day_start(min(filters.end, today) + dt.timedelta(days=1)), now, tallies,
        )
    units = {u.pk: u for u in Unit.objects.filter(pk__in=[k for k in tallies if k is not None])}
    for unit_id, tally in tallies.items():
        unit = units.get(unit_id) if unit_id is not None else None
        label = unit.name if unit is not None else ""
        report.rows.append(Row(unit_id, label, tally, kind=unit.kind if unit else ""))
        report.total.tally.absorb(tally)
    report.rows.sort(key=_row_order)
    return report


def _row_order(row: Row) -> tuple[Any, ...]:
    if row.unit_id is None:
        return (9, "")
    return (KIND_ORDER.get(row.kind, 8), row.label)
