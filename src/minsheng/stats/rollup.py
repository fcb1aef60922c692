"""Keeping the rollups: which days changed since the last run, rebuilding them, and
carrying each day's change into its month and year.

A day is recomputed whole from the raw tables and compared with the rows it has; only the
difference is written, to the day and, if they are already summed, to its month and year
(``INSERT … ON CONFLICT DO UPDATE``: one row per changed key). So a refresh costs in
proportion to the days it touches and the keys that changed, not to the year, and it is
idempotent: a second run finds no difference and writes nothing. A month (year) is
summed from its days (months) once, when it is over.

Which days to recompute:

* a day that ended since the last run (up to yesterday);
* today, on every run, when the page may read today from the rollup
  (``MINSHENG_STATS_TODAY_ROLLUP_S`` > 0, :func:`today_rollup_age`); otherwise today is
  counted live and never built;
* the days a *changed* case contributes to. Every change writes an event (the named
  actions, the clock worker's breaches), so the changed cases are those with an event
  since the last run. Because a clock belongs to the day it started and an event to the
  day it happened, and neither moment ever changes, the days are known exactly: for an
  action that only meets or stops clocks (sign, dispatch, feedback, close …), the start
  days of the clocks it met or stopped; for one that may move the case to another unit,
  town or matter, or move a limit (assign, return, reopen, merge, extension, and any
  action not known here), every day the case contributes to;
* the start days of clocks that passed their limit unnoticed since the last run (pending
  → missed; the worker's partial index finds them; breached ones wrote an event).

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
from django.db.models import Max, Min, Q

from minsheng.cases.models import CaseClock, CaseEvent
from minsheng.core import clock
from minsheng.core.conf import setting

from . import measures
from .models import (
    CHANNEL,
    DAY_GSETS,
    FULL,
    GSETS,
    KEY,
    MATTER,
    MONTH_GSETS,
    NONE,
    OWNER,
    TOWN,
    YEAR_GSETS,
    Grain,
    Rollup,
    RollupDay,
    RollupDuration,
    RollupPeriod,
    RollupState,
    gset_for,
)

log = logging.getLogger("minsheng.stats")

LAG = dt.timedelta(minutes=10)
# Actions that only meet, stop or start clocks, or write a counted event: they change the
# days of those clocks and events only. Any other action may move the case (unit, town,
# matter) or a limit, and changes every day the case counts on.
NARROW_ACTIONS = frozenset(
    {
        "accept",
        "sign",
        "dispatch",
        "handle",
        "feedback",
        "rate",
        "close",
        "extend",
        "supervise",
        "merged_in",
        "clock_warning",
        "clock_breach",
    }
)
COUNTED_ACTIONS = ("rate", "close", "reopen", "return", "assign")
DIMS = ("u", "o", "t", "m", "c")
ADVISORY_LOCK = 0x6D73_7374  # "msst": one refresh at a time on PostgreSQL
CHUNK = 1000
UPSERT_BATCH = 500

COUNT_KEY = ("gset", "unit_id", "owner_id", "town_id", "matter_id", "channel", "kind")
HIST_KEY = ("gset", "unit_id", "owner_id", "town_id", "matter_id", "channel", "name", "bucket")


@dataclass
class RefreshResult:
    days_built: int = 0
    months_built: int = 0  # summed from their days (a month that just ended)
    years_built: int = 0
    keys_changed: int = 0  # day keys whose counts changed (each also goes to month/year)
    days_waiting: int = 0  # dirty days left for the next run (``max_days``)
    skipped: str = ""  # why nothing was done (too soon, another refresh running)
    complete_through: dt.date | None = None


def today_rollup_age() -> dt.timedelta | None:
    """How old today's rows may be for the page to read them (``None``: today is counted
    live and the refresh does not build it). A large city sets this, and refreshes at
    least twice as often (``minsheng refreshstats --every``): today then costs the page a
    day's rollup rows instead of a scan of the day's clocks and events."""
    seconds = setting("MINSHENG_STATS_TODAY_ROLLUP_S", 0)
    return dt.timedelta(seconds=seconds) if seconds > 0 else None


# --- the entry point ------------------------------------------------------------------------


def refresh_rollups(
    now: dt.datetime | None = None,
    *,
    max_days: int | None = None,
    min_interval: dt.timedelta | None = None,
    rebuild: bool = False,
) -> RefreshResult:
    """Bring the rollups up to date as of ``now``: mark the days changed since the last
    run, recompute up to ``max_days`` of them (all by default; never-built days oldest
    first, then the most recent), carry the changes into their months and years, and sum
    the months and years that have just ended.

    ``min_interval``: do nothing if the last run is more recent than this (so the worker
    can call this on every pass). ``rebuild``: forget everything and build from scratch
    (after data was written behind the named actions' back, e.g. a bulk import).
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


def _refresh(
    now: dt.datetime, *, max_days: int | None, min_interval: dt.timedelta | None, rebuild: bool
) -> RefreshResult:
    today = measures.local_date(now)
    yesterday = today - dt.timedelta(days=1)
    state, _ = RollupState.objects.get_or_create(pk=1)
    if (
        min_interval
        and not rebuild
        and state.last_run_at is not None
        and now - state.last_run_at < min_interval
    ):
        return RefreshResult(skipped="too soon", complete_through=state.complete_through)

    with transaction.atomic():
        if rebuild or state.last_run_at is None:
            if rebuild:
                _forget_everything()
            first = _first_day()
            days = set(_days(first, yesterday)) if first is not None else set()
        else:
            since = state.last_run_at - LAG
            days = set(_days((state.complete_through or yesterday) + dt.timedelta(days=1), yesterday))
            days |= {d for d in touched_days(since, now) if d <= yesterday}
        if today_rollup_age() is not None:
            days.add(today)  # as of this run; the page reads it while it is fresh enough
        _mark_dirty(days)
        state.last_run_at = now
        state.save(update_fields=["last_run_at"])

    result = RefreshResult()
    codes = measures._unit_codes()
    for day in _dirty_days(max_days):
        result.keys_changed += build_day(day, now, codes)
        result.days_built += 1
    result.days_waiting = RollupDay.objects.filter(dirty=True).count()

    never = RollupDay.objects.filter(built_at__isnull=True).aggregate(d=Min("day"))["d"]
    complete = (never - dt.timedelta(days=1)) if never else yesterday
    state.complete_through = complete
    state.save(update_fields=["complete_through"])
    result.complete_through = complete
    result.months_built, result.years_built = _sum_ended_periods(complete, now)
    if result.days_built:
        log.info(
            "stats rollups: %d days recomputed (%d keys changed), %d months and %d years "
            "summed; complete through %s",
            result.days_built,
            result.keys_changed,
            result.months_built,
            result.years_built,
            complete,
        )
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
    narrow: set[int] = set()
    wide: set[int] = set()
    for case_id, action in (
        CaseEvent.objects.filter(at__gte=since).values_list("case_id", "action").distinct()
    ):
        (narrow if action in NARROW_ACTIONS else wide).add(case_id)
    narrow -= wide
    stamps: set[dt.datetime] = set()
    for chunk in _chunks(sorted(wide)):
        stamps.update(CaseClock.objects.filter(case_id__in=chunk).values_list("started_at", flat=True))
        stamps.update(
            CaseEvent.objects.filter(case_id__in=chunk, action__in=COUNTED_ACTIONS).values_list(
                "at", flat=True
            )
        )
    changed = (
        Q(met_at__gte=since) | Q(stopped_at__gte=since) | Q(started_at__gte=since) | Q(breached_at__gte=since)
    )
    for chunk in _chunks(sorted(narrow)):
        stamps.update(
            CaseClock.objects.filter(case_id__in=chunk).filter(changed).values_list("started_at", flat=True)
        )
        stamps.update(
            CaseEvent.objects.filter(
                case_id__in=chunk, action__in=COUNTED_ACTIONS, at__gte=since
            ).values_list("at", flat=True)
        )
    # Running clocks that passed their limit meanwhile (the worker's partial index; a
    # clock it already marked as breached wrote an event and is found above).
    stamps.update(
        CaseClock.objects.overdue(now)
        .filter(breached_at__isnull=True, due_at__gte=since)
        .values_list("started_at", flat=True)
    )
    return {measures.local_date(s) for s in stamps}


def _chunks(ids: list[Any]) -> Iterator[list[Any]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def _mark_dirty(days: Iterable[dt.date]) -> None:
    days = sorted(set(days))
    if not days:
        return
    existing: set[dt.date] = set()
    for chunk in _chunks(days):
        existing.update(RollupDay.objects.filter(day__in=chunk).values_list("day", flat=True))
        RollupDay.objects.filter(day__in=chunk, dirty=False).update(dirty=True)
    RollupDay.objects.bulk_create(
        [RollupDay(day=d, dirty=True) for d in days if d not in existing], batch_size=500
    )


def _dirty_days(limit: int | None) -> list[dt.date]:
    """Never-built days oldest first (so that ``complete_through`` advances), then the
    rebuilt ones newest first (the days people look at)."""
    never = list(
        RollupDay.objects.filter(dirty=True, built_at__isnull=True)
        .order_by("day")
        .values_list("day", flat=True)[:limit]
    )
    left = None if limit is None else limit - len(never)
    if left == 0:
        return never
    again = list(
        RollupDay.objects.filter(dirty=True, built_at__isnull=False)
        .order_by("-day")
        .values_list("day", flat=True)[:left]
    )
    return never + again


def _forget_everything() -> None:
    for model in (Rollup, RollupDuration, RollupDay, RollupPeriod):
        model.objects.all().delete()
    RollupState.objects.filter(pk=1).update(complete_through=None)


# --- one day -------------------------------------------------------------------------------


def day_rows(
    day: dt.date, now: dt.datetime, codes: dict[str, int] | None = None
) -> tuple[dict[tuple, list[int]], dict[tuple, int]]:
    """One day's FULL rows, computed from the raw tables: ``{COUNT_KEY: [n, ok]}`` and
    ``{HIST_KEY: n}``."""
    start = measures.day_start(day)
    end = measures.day_start(day + dt.timedelta(days=1))
    counts, hists = measures.clock_rows(start, end, now, group=DIMS)
    counts += measures.event_counts(start, end, group=DIMS, unit_codes=codes)
    count_rows: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    hist_rows: dict[tuple, int] = defaultdict(int)
    for r in counts:
        cell = count_rows[(*_key(r, FULL), r["kind"])]
        cell[0] += r["n"]
        cell[1] += r["ok"]
    for r in hists:
        hist_rows[(*_key(r, FULL), r["name"], r["bucket"])] += r["n"]
    return dict(count_rows), dict(hist_rows)


def _key(r: dict[str, Any], gset: int) -> tuple:
    return (
        gset,
        r["u"] or NONE,
        (r["o"] or NONE) if gset & OWNER else NONE,
        (r["t"] or NONE) if gset & TOWN else NONE,
        (r["m"] or NONE) if gset & MATTER else NONE,
        (r["c"] or "") if gset & CHANNEL else "",
    )


def project(full: dict[tuple, Any], gsets: Iterable[int]) -> dict[tuple, Any]:
    """FULL rows summed into other grouping sets (dropping the dimensions they do not
    keep). Values are ``[n, ok]`` lists or ``n``."""
    out: dict[tuple, Any] = {}
    for gset in gsets:
        if gset == FULL:
            continue
        for k, v in full.items():
            if k[0] != FULL:
                continue
            key = (
                gset,
                k[1],
                k[2] if gset & OWNER else NONE,
                k[3] if gset & TOWN else NONE,
                k[4] if gset & MATTER else NONE,
                k[5] if gset & CHANNEL else "",
                *k[6:],
            )
            if isinstance(v, list):
                cell = out.setdefault(key, [0, 0])
                cell[0] += v[0]
                cell[1] += v[1]
            else:
                out[key] = out.get(key, 0) + v
    return out


def _stored(
    model: Any,
    key: tuple[str, ...],
    sums: tuple[str, ...],
    grain: Grain,
    period: dt.date,
    gsets: tuple[int, ...],
) -> dict[tuple, Any]:
    qs = model.objects.filter(gset__in=gsets, grain=grain, period=period).values_list(*key, *sums)
    out: dict[tuple, Any] = {}
    width = len(key)
    for row in _fetch(qs):
        out[tuple(row[:width])] = [int(v) for v in row[width:]] if len(sums) > 1 else int(row[width])
    return out


def _fetch(qs: Any) -> list[tuple]:
    sql, params = qs.query.get_compiler(qs.db).as_sql()
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def _diff(new: dict[tuple, Any], old: dict[tuple, Any]) -> dict[tuple, Any]:
    out: dict[tuple, Any] = {}
    for k, v in new.items():
        o = old.get(k)
        if isinstance(v, list):
            d = [v[0] - o[0], v[1] - o[1]] if o is not None else v
            if d[0] or d[1]:
                out[k] = d
        else:
            d = v - (o or 0)
            if d:
                out[k] = d
    for k, o in old.items():
        if k not in new:
            out[k] = [-o[0], -o[1]] if isinstance(o, list) else -o
    return out


def build_day(day: dt.date, now: dt.datetime, codes: dict[str, int] | None = None) -> int:
    """Recompute one day and write what changed: to the day's rows, and to its month's
    and year's if those are already summed. One transaction. Returns the number of day
    keys that changed."""
    month, year = day.replace(day=1), day.replace(month=1, day=1)
    with transaction.atomic():
        no_jit()
        new_full_counts, new_full_hists = day_rows(day, now, codes)
        RollupDay.objects.select_for_update().filter(day=day).first()
        old_full_counts = _stored(Rollup, COUNT_KEY, ("n", "ok"), Grain.DAY, day, (FULL,))
        old_full_hists = _stored(RollupDuration, HIST_KEY, ("n",), Grain.DAY, day, (FULL,))
        fresh = not old_full_counts and not old_full_hists
        summed = set(
            RollupPeriod.objects.filter(
                Q(grain=Grain.MONTH, period=month) | Q(grain=Grain.YEAR, period=year)
            ).values_list("grain", flat=True)
        )
        targets = [(Grain.DAY, day, DAY_GSETS)]
        if Grain.MONTH in summed:
            targets.append((Grain.MONTH, month, MONTH_GSETS))
        if Grain.YEAR in summed:
            targets.append((Grain.YEAR, year, YEAR_GSETS))
        sets = {g for _grain, _period, keep in targets for g in keep}
        d_counts = _diff(
            {**new_full_counts, **project(new_full_counts, sets)},
            {**old_full_counts, **project(old_full_counts, sets)},
        )
        d_hists = _diff(
            {**new_full_hists, **project(new_full_hists, sets)},
            {**old_full_hists, **project(old_full_hists, sets)},
        )
        for grain, period, keep in targets:
            counts = [(*k, *v) for k, v in d_counts.items() if k[0] in keep]
            hists = [(*k, v) for k, v in d_hists.items() if k[0] in keep]
            write = _insert if grain == Grain.DAY and fresh else _upsert
            write(Rollup, COUNT_KEY, ("n", "ok"), grain, period, counts)
            write(RollupDuration, HIST_KEY, ("n",), grain, period, hists)
        RollupDay.objects.update_or_create(day=day, defaults={"dirty": False, "built_at": now})
    return sum(1 for k in d_counts if k[0] == FULL) + sum(1 for k in d_hists if k[0] == FULL)


def no_jit() -> None:
    """PostgreSQL compiles queries it expects to be costly; these grouped reads are done
    before the compiling would pay off (measured: 40 % slower with it). Inside a
    transaction only."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SET LOCAL jit = off")


def _insert(
    model: Any, key: tuple[str, ...], sums: tuple[str, ...], grain: Grain, period: dt.date, rows: list[tuple]
) -> None:
    """New rows only (a day built for the first time)."""
    if not rows:
        return
    columns = ("grain", "period", *key, *sums)
    full = [(grain.value, period, *row) for row in rows]
    if connection.vendor == "postgresql":
        # COPY is several times faster than INSERT for the tens of thousands of rows a
        # busy day has.
        with (
            connection.cursor() as cur,
            cur.cursor.copy(f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in full:
                copy.write_row(row)
        return
    model.objects.bulk_create(
        [model(**dict(zip(columns, row, strict=True))) for row in full], batch_size=2000
    )


def _upsert(
    model: Any, key: tuple[str, ...], sums: tuple[str, ...], grain: Grain, period: dt.date, rows: list[tuple]
) -> None:
    """Adds ``rows`` (key…, change…) to the stored rows of ``(grain, period)``, creating
    the missing ones, and deletes the rows that fell to zero."""
    if not rows:
        return
    table = model._meta.db_table
    columns = ("grain", "period", *key, *sums)
    conflict = ", ".join(("grain", "period", *key))
    assign = ", ".join(f"{s} = {table}.{s} + excluded.{s}" for s in sums)
    placeholder = "(" + ", ".join(["%s"] * len(columns)) + ")"
    day = connection.ops.adapt_datefield_value(period)
    zero: list[int] = []
    with connection.cursor() as cur:
        for i in range(0, len(rows), UPSERT_BATCH):
            batch = rows[i : i + UPSERT_BATCH]
            sql = (
                f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 - names from models
                f"VALUES {', '.join([placeholder] * len(batch))} "
                f"ON CONFLICT ({conflict}) DO UPDATE SET {assign} "
                f"RETURNING id, {', '.join(sums)}"
            )
            params = [v for row in batch for v in (grain.value, day, *row)]
            cur.execute(sql, params)
            zero += [r[0] for r in cur.fetchall() if not any(r[1:])]
    for chunk in _chunks(zero):
        model.objects.filter(pk__in=chunk).delete()


# --- months and years ------------------------------------------------------------------------


def _sum_ended_periods(complete: dt.date, now: dt.datetime) -> tuple[int, int]:
    """Sum every month (then year) that has ended by ``complete`` and is not summed yet."""
    first = RollupDay.objects.aggregate(d=Min("day"))["d"]
    if first is None:
        return 0, 0
    done = set(RollupPeriod.objects.values_list("grain", "period"))
    months = []
    m = first.replace(day=1)
    while _month_end(m) <= complete:
        if (Grain.MONTH.value, m) not in done:
            months.append(m)
        m = _month_end(m) + dt.timedelta(days=1)
    for m in months:
        sum_period(Grain.MONTH, m, now)
    years = [
        dt.date(y, 1, 1)
        for y in range(first.year, complete.year + 1)
        if dt.date(y, 12, 31) <= complete and (Grain.YEAR.value, dt.date(y, 1, 1)) not in done
    ]
    for y in years:
        sum_period(Grain.YEAR, y, now)
    return len(months), len(years)


def sum_period(grain: Grain, first: dt.date, now: dt.datetime) -> None:
    """A month from its days, or a year from its months: sums in SQL, one transaction.
    Each grouping set is summed from the smallest stored set of the finer grain that
    keeps all its dimensions (FULL at worst)."""
    if grain == Grain.MONTH:
        source, last, available, wanted = Grain.DAY, _month_end(first), DAY_GSETS, MONTH_GSETS
    else:
        source, last, available, wanted = (Grain.MONTH, dt.date(first.year, 12, 31), MONTH_GSETS, YEAR_GSETS)
    ops = connection.ops
    tail = [source.value, ops.adapt_datefield_value(first), ops.adapt_datefield_value(last)]
    with transaction.atomic():
        for model, extra in ((Rollup, ("kind",)), (RollupDuration, ("name", "bucket"))):
            model.objects.filter(gset__in=GSETS, grain=grain, period=first).delete()
            table = model._meta.db_table
            sums = ("n", "ok") if model is Rollup else ("n",)
            for gset in wanted:
                src = gset_for(gset, available)
                kept = {
                    "owner_id": gset & OWNER,
                    "town_id": gset & TOWN,
                    "matter_id": gset & MATTER,
                    "channel": gset & CHANNEL,
                }
                select, group = [], []
                for col in ("unit_id", "owner_id", "town_id", "matter_id", "channel", *extra):
                    if kept.get(col, True):
                        select.append(col)
                        group.append(col)
                    else:
                        select.append("''" if col == "channel" else str(NONE))
                sql = (
                    f"INSERT INTO {table} (grain, period, gset, unit_id, owner_id, town_id, "  # noqa: S608
                    f"matter_id, channel, {', '.join(extra)}, {', '.join(sums)}) "
                    f"SELECT %s, %s, {gset}, {', '.join(select)}, "
                    f"{', '.join(f'SUM({s})' for s in sums)} FROM {table} "
                    f"WHERE gset = {src} AND grain = %s AND period >= %s AND period <= %s "
                    f"GROUP BY {', '.join(group)}"
                )
                with connection.cursor() as cur:
                    cur.execute(sql, [grain.value, ops.adapt_datefield_value(first), *tail])
        RollupPeriod.objects.update_or_create(grain=grain, period=first, defaults={"built_at": now})


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
        "periods": RollupPeriod.objects.count(),
        "full_gset": FULL,
        "key": KEY,
    }
