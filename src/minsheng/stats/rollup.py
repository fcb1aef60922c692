"""Keeping the rollups: which days changed since the last run, rebuilding them, and
summing days into months and months into years.

A day is rebuilt whole (its rows deleted and inserted again from the raw tables, in one
transaction), so a refresh is idempotent: running it twice, or after a crash half-way,
leaves the same rows. What makes it cheap is knowing which days to rebuild:

* a day that ended since the last run (up to yesterday; today is always counted live);
* the days a *touched* case contributes to. A case is touched when an event was written
  for it since the last run (every change to a clock or to a case's unit, town or matter
  writes one). Because a clock belongs to the day it started and an event to the day it
  happened, and neither moment ever changes, those days are exactly the start days of
  the case's clocks and the days of its counted events;
* the start days of clocks that passed their limit since the last run without anyone
  touching the case (pending → missed), found through the worker's partial index.

Events are looked at from a little before the last run (``LAG``), so that a transaction
that took its time stamp before the last run but committed after it is not missed.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Max, Min

from minsheng.cases.models import CaseClock, CaseEvent
from minsheng.core import clock

from . import measures
from .models import FULL, GSETS, Grain, Rollup, RollupDay, RollupDuration, RollupState

log = logging.getLogger("minsheng.stats")

LAG = dt.timedelta(minutes=10)
# The actions that can change what a clock or a counted event contributes.
TOUCHING_ACTIONS = ("accept", "assign", "triage", "sign", "return", "dispatch", "feedback",
                    "rate", "close", "reopen", "approve_extension", "merge", "clock_breach")
COUNTED_ACTIONS = ("rate", "close", "reopen", "return", "assign")
DIMS = ("u", "o", "t", "m", "c")
ADVISORY_LOCK = 0x6D73_7374  # "msst": one refresh at a time on PostgreSQL
CHUNK = 1000


@dataclass
class RefreshResult:
    days_built: int = 0
    months_built: int = 0
    years_built: int = 0
    days_waiting: int = 0  # dirty days left for the next run (``max_days``)
    skipped: str = ""  # why nothing was done (too soon, another refresh running)
    complete_through: dt.date | None = None


# --- the entry point ------------------------------------------------------------------------


def refresh_rollups(now: dt.datetime | None = None, *, max_days: int | None = None,
                    min_interval: dt.timedelta | None = None,
                    rebuild: bool = False) -> RefreshResult:
    """Bring the rollups up to date as of ``now``: mark the days touched since the last
    run, rebuild up to ``max_days`` of them (all by default; the oldest never-built days
    first, then the most recent), then the months and years they belong to.

    ``min_interval``: do nothing if the last run is more recent than this (the worker can
    call this on every pass). ``rebuild``: forget everything and build from scratch (after
    importing data behind the named actions' back, e.g. the benchmark's bulk load).
    """
    now = now or clock.now()
    if not _lock():
        return RefreshResult(skipped="another refresh is running")
    try:
        return _refresh(now, max_days=max_days, min_interval=min_interval, rebuild=rebuild)
    finally:
        _unlock()


def _lock() -> bool:
    if connection.vendor != "postgresql":
        return True  # SQLite serialises writers itself; one worker per SQLite file
    with connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK])
        return bool(cur.fetchone()[0])


def _unlock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK])


def _refresh(now: dt.datetime, *, max_days: int | None, min_interval: dt.timedelta | None,
             rebuild: bool) -> RefreshResult:
    today = measures.local_date(now)
    yesterday = today - dt.timedelta(days=1)
    state, _ = RollupState.objects.get_or_create(pk=1)
    if (min_interval and not rebuild and state.last_run_at is not None
            and now - state.last_run_at < min_interval):
        return RefreshResult(skipped="too soon", complete_through=state.complete_through)

    with transaction.atomic():
        if rebuild or state.last_run_at is None:
            if rebuild:
                _forget_everything()
            first = _first_day()
            days = set(_days(first, yesterday)) if first is not None else set()
        else:
            since = state.last_run_at - LAG
            days = set(_days((state.complete_through or yesterday) + dt.timedelta(days=1),
                             yesterday))
            days |= {d for d in touched_days(since, now) if d <= yesterday}
        _mark_dirty(days)
        state.last_run_at = now
        state.save(update_fields=["last_run_at"])

    result = RefreshResult()
    old_complete = state.complete_through
    codes = measures._unit_codes()
    built: list[dt.date] = []
    for day in _dirty_days(max_days):
        build_day(day, now, codes)
        built.append(day)
    result.days_built = len(built)
    result.days_waiting = RollupDay.objects.filter(dirty=True).count()

    never = RollupDay.objects.filter(built_at__isnull=True).aggregate(d=Min("day"))["d"]
    complete = (never - dt.timedelta(days=1)) if never else yesterday
    state.complete_through = complete
    state.save(update_fields=["complete_through"])
    result.complete_through = complete

    months = {d.replace(day=1) for d in built}
    if old_complete is None or complete > old_complete:
        start = (old_complete + dt.timedelta(days=1)) if old_complete else complete
        months |= {d.replace(day=1) for d in _days(start, complete)}
    months = {m for m in months if _month_end(m) <= complete}
    for m in sorted(months):
        build_period(Grain.MONTH, m)
    years = {m.replace(month=1) for m in months}
    years = {y for y in years if dt.date(y.year, 12, 31) <= complete}
    for y in sorted(years):
        build_period(Grain.YEAR, y)
    result.months_built, result.years_built = len(months), len(years)
    if built:
        log.info("stats rollups: %d days, %d months, %d years rebuilt; complete through %s",
                 len(built), len(months), len(years), complete)
    return result


# --- which days -----------------------------------------------------------------------------


def _days(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    d = first
    while d <= last:
        yield d
        d += dt.timedelta(days=1)


def _month_end(first: dt.date) -> dt.date:
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def _first_day() -> dt.date | None:
    starts = [
        CaseClock.objects.aggregate(v=Min("started_at"))["v"],
        CaseEvent.objects.filter(action__in=COUNTED_ACTIONS).aggregate(v=Min("at"))["v"],
    ]
    starts = [s for s in starts if s is not None]
    return measures.local_date(min(starts)) if starts else None


def touched_days(since: dt.datetime, now: dt.datetime) -> set[dt.date]:
    """The days whose figures may have changed since ``since``."""
    case_ids = set(
        CaseEvent.objects.filter(action__in=TOUCHING_ACTIONS, at__gte=since)
        .values_list("case_id", flat=True).distinct()
    )
    stamps: set[dt.datetime] = set()
    for chunk in _chunks(sorted(case_ids)):
        stamps.update(CaseClock.objects.filter(case_id__in=chunk)
                      .values_list("started_at", flat=True))
        stamps.update(CaseEvent.objects.filter(case_id__in=chunk, action__in=COUNTED_ACTIONS)
                      .values_list("at", flat=True))
    # Running clocks that passed their limit meanwhile (the worker's partial index; a
    # clock it already marked as breached wrote an event and is found above).
    stamps.update(
        CaseClock.objects.filter(met_at__isnull=True, stopped_at__isnull=True,
                                 breached_at__isnull=True, due_at__gte=since, due_at__lt=now)
        .values_list("started_at", flat=True)
    )
    return {measures.local_date(s) for s in stamps}


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i:i + CHUNK]


def _mark_dirty(days: Iterable[dt.date]) -> None:
    days = sorted(set(days))
    if not days:
        return
    existing = set(RollupDay.objects.filter(day__in=days).values_list("day", flat=True))
    RollupDay.objects.filter(day__in=existing, dirty=False).update(dirty=True)
    RollupDay.objects.bulk_create(
        [RollupDay(day=d, dirty=True) for d in days if d not in existing], batch_size=500
    )


def _dirty_days(limit: int | None) -> list[dt.date]:
    """Never-built days oldest first (so that ``complete_through`` advances), then the
    rebuilt ones newest first (the days people look at)."""
    never = list(RollupDay.objects.filter(dirty=True, built_at__isnull=True)
                 .order_by("day").values_list("day", flat=True)[:limit])
    left = None if limit is None else limit - len(never)
    if left == 0:
        return never
    again = list(RollupDay.objects.filter(dirty=True, built_at__isnull=False)
                 .order_by("-day").values_list("day", flat=True)[:left])
    return never + again


def _forget_everything() -> None:
    for model in (Rollup, RollupDuration, RollupDay):
        model.objects.all().delete()
    RollupState.objects.filter(pk=1).update(complete_through=None)


# --- building ------------------------------------------------------------------------------


COUNT_COLUMNS = ("grain", "period", "gset", "unit_id", "owner_id", "town_id", "matter_id",
                 "channel", "kind", "n", "ok")
DURATION_COLUMNS = ("grain", "period", "gset", "unit_id", "owner_id", "town_id", "matter_id",
                    "channel", "name", "bucket", "n")


def day_rows(day: dt.date, now: dt.datetime, codes: dict[str, int] | None = None
             ) -> tuple[list[tuple], list[tuple]]:
    """The rows of one day, every grouping set: (count rows, duration rows) as tuples in
    ``COUNT_COLUMNS`` / ``DURATION_COLUMNS`` order."""
    start = measures.day_start(day)
    end = measures.day_start(day + dt.timedelta(days=1))
    counts = measures.clock_counts(start, end, now, group=DIMS)
    counts += measures.event_counts(start, end, group=DIMS, unit_codes=codes)
    hists = measures.clock_durations(start, end, group=DIMS)
    count_sets: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    hist_sets: dict[tuple, int] = defaultdict(int)
    for gset in GSETS:
        for r in counts:
            cell = count_sets[(gset, *_key(r, gset), r["kind"])]
            cell[0] += r["n"]
            cell[1] += r["ok"]
        for r in hists:
            hist_sets[(gset, *_key(r, gset), r["name"], r["bucket"])] += r["n"]
    grain = Grain.DAY.value
    count_rows = [(grain, day, *k, n, ok) for k, (n, ok) in count_sets.items()]
    hist_rows = [(grain, day, *k, n) for k, n in hist_sets.items()]
    return count_rows, hist_rows


def _key(r: dict[str, Any], gset: int) -> tuple:
    return (
        r["u"], r["o"],
        r["t"] if gset & 1 else None,
        r["m"] if gset & 2 else None,
        r["c"] if gset & 4 else "",
    )


def build_day(day: dt.date, now: dt.datetime, codes: dict[str, int] | None = None) -> None:
    """Rebuild one day's rows (all grouping sets) from the raw tables, in one transaction."""
    count_rows, hist_rows = day_rows(day, now, codes)
    with transaction.atomic():
        Rollup.objects.filter(gset__in=GSETS, grain=Grain.DAY, period=day).delete()
        RollupDuration.objects.filter(gset__in=GSETS, grain=Grain.DAY, period=day).delete()
        _insert(Rollup, COUNT_COLUMNS, count_rows)
        _insert(RollupDuration, DURATION_COLUMNS, hist_rows)
        RollupDay.objects.update_or_create(day=day, defaults={"dirty": False, "built_at": now})


def _insert(model: Any, columns: tuple[str, ...], rows: list[tuple]) -> None:
    if not rows:
        return
    if connection.vendor == "postgresql":
        # COPY is several times faster than INSERT for the tens of thousands of rows a
        # busy day has.
        table = model._meta.db_table
        with connection.cursor() as cur:
            raw = cur.cursor
            with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    model.objects.bulk_create([model(**dict(zip(columns, row, strict=True))) for row in rows],
                              batch_size=2000)


def build_period(grain: Grain, first: dt.date) -> None:
    """A month from its days, or a year from its months: sums in SQL, in one transaction."""
    if grain == Grain.MONTH:
        source, last = Grain.DAY, _month_end(first)
    else:
        source, last = Grain.MONTH, dt.date(first.year, 12, 31)
    ops = connection.ops
    gsets = ", ".join(str(g) for g in GSETS)
    with transaction.atomic():
        for model, key in ((Rollup, ("kind",)), (RollupDuration, ("name", "bucket"))):
            model.objects.filter(gset__in=GSETS, grain=grain, period=first).delete()
            table = model._meta.db_table
            dims = ("gset", "unit_id", "owner_id", "town_id", "matter_id", "channel", *key)
            sums = ("n", "ok") if model is Rollup else ("n",)
            cols = ", ".join(dims)
            # Identifiers come from the models, values go as parameters.
            sql = (
                f"INSERT INTO {table} (grain, period, {cols}, {', '.join(sums)}) "  # noqa: S608
                f"SELECT %s, %s, {cols}, {', '.join(f'SUM({s})' for s in sums)} FROM {table} "
                f"WHERE gset IN ({gsets}) AND grain = %s AND period >= %s AND period <= %s "
                f"GROUP BY {cols}"
            )
            with connection.cursor() as cur:
                cur.execute(sql, [grain.value, ops.adapt_datefield_value(first), source.value,
                                  ops.adapt_datefield_value(first),
                                  ops.adapt_datefield_value(last)])


def latest_state() -> tuple[dt.date | None, dt.datetime | None]:
    row = RollupState.objects.filter(pk=1).values_list("complete_through", "last_run_at").first()
    return (row[0], row[1]) if row else (None, None)


def rollup_extent() -> dict[str, Any]:
    """For the docs and the benchmark: how many rows the rollups hold."""
    return {
        "count_rows": Rollup.objects.count(),
        "duration_rows": RollupDuration.objects.count(),
        "days": RollupDay.objects.count(),
        "last_day": RollupDay.objects.aggregate(d=Max("day"))["d"],
        "full_gset": FULL,
    }
