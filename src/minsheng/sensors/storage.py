"""Where readings live: the one module that writes and reads the readings tables.

Everything else (ingest, the HTTP endpoint, charts, the baseline rule, the retention
purge) calls these functions and never touches :class:`Reading` or :class:`ReadingHour`
directly, so that the storage can change without the callers noticing.

Today: ``sensors_reading``, a narrow table with a float column per quantity, keyed by
``(device, ts)``. On PostgreSQL a batch goes straight in (the heap appends; one index).
On SQLite a batch lands in ``sensors_recentreading``, keyed by ``(ts, device)``, where it
appends at the end of one B-tree, and :func:`compact` moves what is there into the
readings table, many readings per device at once and in key order. Written straight into
the device-keyed table, a SQLite batch touched one page per device (each rewritten whole
into the WAL), so that storing a reading cost more the bigger the table grew: 8 µs a
reading over the first 600,000, 17 on average over 3,000,000 and rising; landing and
moving cost 4 µs whatever the size (docs/sensors.md). On PostgreSQL the same move costs
more than it saves. Every read looks in both tables. The pair ``(device, ts)`` is stored
once: a redelivered message (QoS 1, a gateway's retry) is skipped, and the first one
stays. On SQLite both tables are ``WITHOUT ROWID``.

Hourly roll-ups (``sensors_readinghour``) outlive the raw rows and feed the same-hour
baseline. Every read walks one device's time range of the key: a chart, the latest
reading, the roll-up and the purge (both go device by device, a few hundred devices a
statement). Raw rows older than ``MINSHENG_SENSORS_RETENTION_DAYS`` (default 90) are purged;
roll-ups older than ``MINSHENG_SENSORS_ROLLUP_RETENTION_DAYS`` (default 730).

The path beyond one table (see docs/sensors.md): on PostgreSQL, turn ``sensors_reading``
into a TimescaleDB hypertable (``create_hypertable('sensors_reading', 'ts')``; the primary
key already contains ``ts``, as Timescale requires) or declare it partitioned by range of
``ts`` with one partition per week; then :func:`purge` becomes dropping whole
chunks/partitions (``drop_chunks``/``DROP TABLE``) and :func:`rollup` a continuous
aggregate. Only this module changes.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models import Avg, Count, Exists, Max, Min, OuterRef
from django.db.models.functions import TruncHour

from minsheng.core.conf import setting

from .models import QUANTITIES, Device, Reading, ReadingHour, RecentReading

# One reading as the pipeline carries it: device primary key, aware time, values.
Row = tuple[int, dt.datetime, dict[str, float]]

WRITE_BATCH = 2000
PURGE_CHUNK = 20_000
DEVICE_CHUNK = 200  # devices per roll-up or purge statement
# The ingest process moves SQLite's landed readings on after its writer stored this many,
# and every this many seconds for whatever landed (the HTTP endpoint's too).
COMPACT_ROWS = 100_000
COMPACT_S = 30.0


def retention_days() -> int:
    """Days of raw readings kept (charts show the last 7; the baseline uses roll-ups)."""
    return max(8, setting("MINSHENG_SENSORS_RETENTION_DAYS", 90))


def rollup_retention_days() -> int:
    return max(35, setting("MINSHENG_SENSORS_ROLLUP_RETENTION_DAYS", 730))


# --- writing --------------------------------------------------------------------------


def write(rows: Iterable[Row]) -> int:
    """Store readings; a ``(device, ts)`` already stored is skipped, not an error.

    Returns how many rows were offered (callers that care about duplicates dedupe by time
    themselves, as detection does). On SQLite they land in the recent table, and
    :func:`compact` moves them on.

    SQLite and PostgreSQL take a faster path than ``bulk_create``, whose per-field
    preparation costs ~30 µs a row, more than detection itself (see docs/sensors.md): one
    ``INSERT OR IGNORE`` ``executemany`` on SQLite, one ``INSERT … SELECT unnest(…) ON
    CONFLICT DO NOTHING`` with a column array per quantity on PostgreSQL. Other databases
    get ``bulk_create(ignore_conflicts=True)``.
    """
    rows = rows if isinstance(rows, list) else list(rows)
    if not rows:
        return 0
    vendor = connection.vendor
    if vendor == "sqlite":
        _write_sqlite(rows)
    elif vendor == "postgresql":
        _write_postgresql(rows)
    else:
        write_orm(rows)
    return len(rows)


def lands_apart() -> bool:
    """Whether batches land in the recent table first (SQLite) or go straight in."""
    return connection.vendor == "sqlite"


def compact() -> int:
    """Move SQLite's recent readings into the readings table, in its key order, in one
    transaction (which holds the one write lock: nothing lands between the copy and the
    delete); returns how many moved (a ``(device, ts)`` already there is dropped: the first
    one stays). Any process may run it at any time, as often as it likes."""
    if not lands_apart():
        return 0
    recent, table = RecentReading._meta.db_table, Reading._meta.db_table
    columns = ", ".join(_COLUMNS)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT OR IGNORE INTO {table} ({columns}) "  # noqa: S608
            f"SELECT {columns} FROM {recent} ORDER BY device_id, ts"
        )
        moved = cursor.rowcount
        cursor.execute(f"DELETE FROM {recent}")  # noqa: S608
    return max(0, moved)


def tune_for_ingest() -> None:
    """Per connection, for the process that writes readings all day: SQLite gets a page
    cache big enough for each device's end of the key, which every move of the landed
    readings touches (the default 2 MB makes that a cache miss a device once the table
    holds a few million rows)."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -131072")  # 128 MB
            cursor.execute("PRAGMA temp_store = MEMORY")


def write_orm(rows: Iterable[Row]) -> int:
    """The portable path (``bulk_create``), kept for other databases and for comparison."""
    objs = [Reading(device_id=pk, ts=ts, **values) for pk, ts, values in rows]
    Reading.objects.bulk_create(objs, batch_size=WRITE_BATCH, ignore_conflicts=True)
    return len(objs)


_COLUMNS = ("device_id", "ts", *QUANTITIES)


def _write_sqlite(rows: list[Row]) -> None:
    # Django keeps aware datetimes in SQLite as naive UTC text, "YYYY-MM-DD HH:MM:SS[.ffffff]".
    utc = dt.UTC
    params = []
    for pk, ts, v in rows:
        if ts.tzinfo is not utc:
            ts = ts.astimezone(utc)
        g = v.get
        params.append(
            (
                pk,
                str(ts.replace(tzinfo=None)),
                g("flow"),
                g("level"),
                g("cod"),
                g("ph"),
                g("conductivity"),
                g("valve"),
            )
        )
    sql = (
        f"INSERT OR IGNORE INTO {RecentReading._meta.db_table} ({', '.join(_COLUMNS)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(_COLUMNS))})"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _write_postgresql(rows: list[Row]) -> None:
    # Times travel as epoch seconds (float8, exact to the microsecond until past 2100) and
    # become timestamptz in the server: psycopg adapts a float three times faster than a
    # datetime, and this runs for every reading.
    columns: list[list[Any]] = [[] for _ in _COLUMNS]
    pks, times = columns[0], columns[1]
    values = columns[2:]
    for pk, ts, v in rows:
        pks.append(pk)
        times.append(ts.timestamp())
        g = v.get
        for column, q in zip(values, QUANTITIES, strict=True):
            column.append(g(q))
    types = ("bigint[]", "float8[]", *("float8[]",) * len(QUANTITIES))
    names = ", ".join(f"c{i}" for i in range(len(_COLUMNS)))
    select = ", ".join(["c0", "to_timestamp(c1)", *(f"c{i}" for i in range(2, len(_COLUMNS)))])
    unnest = ", ".join(f"%s::{t}" for t in types)
    sql = (
        f"INSERT INTO {Reading._meta.db_table} ({', '.join(_COLUMNS)}) "  # noqa: S608
        f"SELECT {select} FROM unnest({unnest}) AS u({names}) "
        "ON CONFLICT (device_id, ts) DO NOTHING"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        for i in range(0, len(rows), 20_000):
            cursor.execute(sql, [c[i : i + 20_000] for c in columns])


# --- reading --------------------------------------------------------------------------


def _both(
    device_pk: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    *,
    inclusive: bool = False,
) -> list[Any]:
    """The same filter on each table a reading may be in, the readings table first."""
    out = []
    for model in _tables():
        qs = model.objects.all()
        if device_pk is not None:
            qs = qs.filter(device_id=device_pk)
        if since is not None:
            qs = qs.filter(ts__gte=since)
        if until is not None:
            qs = qs.filter(ts__lte=until) if inclusive else qs.filter(ts__lt=until)
        out.append(qs)
    return out


def _tables() -> tuple[Any, ...]:
    return (Reading, RecentReading) if lands_apart() else (Reading,)


def _merged(rows_by_table: Iterable[Iterable[tuple[Any, ...]]]) -> list[tuple[Any, ...]]:
    """Rows ``(ts, …)`` of one device from both tables, in time order, a time once (the
    readings table's row wins: it was there first)."""
    seen: dict[dt.datetime, tuple[Any, ...]] = {}
    for rows in rows_by_table:
        for row in rows:
            seen.setdefault(row[0], row)
    return [seen[t] for t in sorted(seen)]


def _values(row: tuple[Any, ...]) -> dict[str, float]:
    """``(ts, flow, level, …)`` → the quantities reported, by name."""
    return {q: v for q, v in zip(QUANTITIES, row[1:], strict=True) if v is not None}


def count(device_pk: int | None = None) -> int:
    """Readings stored (of one device): each ``(device, ts)`` once."""
    stored, *recent = _both(device_pk)
    n = stored.count()
    for qs in recent:
        twice = qs.filter(Exists(Reading.objects.filter(device_id=OuterRef("device_id"), ts=OuterRef("ts"))))
        n += qs.count() - twice.count()
    return n


def readings(
    device_pk: int, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> list[tuple[dt.datetime, dict[str, float]]]:
    """Raw readings of one device in time order (tests, exports)."""
    rows = _merged(qs.values_list("ts", *QUANTITIES) for qs in _both(device_pk, since, until))
    return [(row[0], _values(row)) for row in rows]


def latest(device_pk: int) -> tuple[dt.datetime, dict[str, float]] | None:
    rows = [qs.order_by("-ts").values_list("ts", *QUANTITIES).first() for qs in _both(device_pk)]
    found = [r for r in rows if r is not None]
    if not found:
        return None
    row = max(found, key=lambda r: r[0])
    return row[0], _values(row)


def last_seen(device_pks: Sequence[int]) -> dict[int, dt.datetime]:
    """The newest reading's time per device (one grouped query per thousand devices)."""
    out: dict[int, dt.datetime] = {}
    for model in _tables():
        for i in range(0, len(device_pks), 1000):
            chunk = device_pks[i : i + 1000]
            for pk, ts in (
                model.objects.filter(device_id__in=chunk)
                .values("device_id")
                .annotate(last=Max("ts"))
                .values_list("device_id", "last")
            ):
                if pk not in out or ts > out[pk]:
                    out[pk] = ts
    return out


def series(
    device_pk: int,
    since: dt.datetime,
    until: dt.datetime,
    quantities: Sequence[str] | None = None,
    max_points: int = 2000,
) -> dict[str, Any]:
    """A chart's data for ``[since, until]``: ``{"t": [epoch ms…], "flow": [...], …}``,
    averaged into at most ``max_points`` equal time buckets when there are more readings
    than that (a week at one reading a minute is 10,080)."""
    qs = list(quantities or QUANTITIES)
    rows = _merged(q.values_list("ts", *qs) for q in _both(device_pk, since, until, inclusive=True))
    out: dict[str, Any] = {"t": [], **{q: [] for q in qs}}
    if not rows:
        return out
    if len(rows) <= max_points:
        for row in rows:
            out["t"].append(int(row[0].timestamp() * 1000))
            for q, v in zip(qs, row[1:], strict=True):
                out[q].append(v)
        return out
    start, span = since.timestamp(), max(1.0, (until - since).total_seconds())
    width = span / max_points
    buckets: dict[int, list[Any]] = {}
    for row in rows:
        b = min(max_points - 1, int((row[0].timestamp() - start) // width))
        acc = buckets.get(b)
        if acc is None:
            acc = buckets[b] = [[0.0, 0] for _ in qs]
        for slot, v in zip(acc, row[1:], strict=True):
            if v is not None:
                slot[0] += v
                slot[1] += 1
    for b in sorted(buckets):
        out["t"].append(int((start + (b + 0.5) * width) * 1000))
        for q, (total, n) in zip(qs, buckets[b], strict=True):
            out[q].append(round(total / n, 4) if n else None)
    return out


# --- hourly roll-ups and the baseline -------------------------------------------------


def hour_start(t: dt.datetime) -> dt.datetime:
    t = t.astimezone(dt.UTC)
    return t.replace(minute=0, second=0, microsecond=0)


def rollup(since: dt.datetime, until: dt.datetime) -> int:
    """(Re)compute the roll-ups of the whole hours in ``[since, until)``; returns rows.
    Device by device (a chunk of them a statement), each one a range of the key, after
    moving the recent readings in (one that lands later is late: the ingest process rolls
    the hour before the last one up again an hour later)."""
    since, until = hour_start(since), hour_start(until)
    if until <= since:
        return 0
    compact()
    aggregates: dict[str, Any] = {"n": Count("ts")}
    for q in QUANTITIES:
        aggregates[f"{q}__avg"] = Avg(q)
        aggregates[f"{q}__min"] = Min(q)
        aggregates[f"{q}__max"] = Max(q)
        aggregates[f"{q}__n"] = Count(q)
    total = 0
    for chunk in _device_chunks():
        grouped = (
            Reading.objects.filter(device_id__in=chunk, ts__gte=since, ts__lt=until)
            .annotate(h=TruncHour("ts", tzinfo=dt.UTC))
            .values("device_id", "h")
            .annotate(**aggregates)
            .order_by()
        )
        objs = []
        for g in grouped:
            stats = {
                q: [round(g[f"{q}__avg"], 4), g[f"{q}__min"], g[f"{q}__max"], g[f"{q}__n"]]
                for q in QUANTITIES
                if g[f"{q}__n"]
            }
            objs.append(ReadingHour(device_id=g["device_id"], hour=g["h"], n=g["n"], stats=stats))
        if objs:
            ReadingHour.objects.bulk_create(
                objs,
                batch_size=1000,
                update_conflicts=True,
                unique_fields=["device", "hour"],
                update_fields=["n", "stats"],
            )
        total += len(objs)
    return total


def _device_chunks() -> Iterable[list[int]]:
    pks = list(Device.objects.order_by("pk").values_list("pk", flat=True))
    for i in range(0, len(pks), DEVICE_CHUNK):
        yield pks[i : i + DEVICE_CHUNK]


def write_hours(rows: Iterable[tuple[int, dt.datetime, dict[str, list[float]]]]) -> int:
    """Store ready-made roll-ups (the demo's history; imports from an older system)."""
    objs = [
        ReadingHour(
            device_id=pk,
            hour=hour_start(h),
            stats=stats,
            n=max((int(s[3]) for s in stats.values()), default=0),
        )
        for pk, h, stats in rows
    ]
    ReadingHour.objects.bulk_create(
        objs,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["device", "hour"],
        update_fields=["n", "stats"],
    )
    return len(objs)


def same_hour_means(
    device_pks: Sequence[int], quantity: str, at: dt.datetime, days: int
) -> dict[int, list[float]]:
    """For each device, the hourly means of ``quantity`` at the same hour as ``at`` on each
    of the ``days`` days before: the history the baseline's median/MAD is taken over."""
    this_hour = hour_start(at)
    hours = [this_hour - dt.timedelta(days=d) for d in range(1, days + 1)]
    if quantity not in QUANTITIES:
        raise ValueError(f"unknown quantity {quantity!r}")
    out: dict[int, list[float]] = {pk: [] for pk in device_pks}
    mean = f"stats__{quantity}__0"  # the database takes the one number out of the JSON
    for i in range(0, len(device_pks), 1000):
        chunk = device_pks[i : i + 1000]
        for pk, v in ReadingHour.objects.filter(device_id__in=chunk, hour__in=hours).values_list(
            "device_id", mean
        ):
            if isinstance(v, int | float) and math.isfinite(v):
                out[pk].append(float(v))
    return out


# --- retention ------------------------------------------------------------------------


def purge(now: dt.datetime) -> tuple[int, int]:
    """Delete raw readings and roll-ups past their retention, in chunks so that a big
    backlog never holds one long lock. Returns (readings, roll-ups) deleted."""
    raw_cut = now - dt.timedelta(days=retention_days())
    hour_cut = now - dt.timedelta(days=rollup_retention_days())
    raw = 0
    for model in _tables()[1:]:  # only what was never moved
        raw += model.objects.filter(ts__lt=raw_cut).delete()[0]
    for chunk in _device_chunks():
        # A range of the key per device; each statement its own transaction.
        raw += Reading.objects.filter(device_id__in=chunk, ts__lt=raw_cut).delete()[0]
    return raw, _delete_before(ReadingHour, hour_cut, "hour")


def _delete_before(model: Any, cut: dt.datetime, field: str) -> int:
    total = 0
    while True:
        ids = list(
            model.objects.filter(**{f"{field}__lt": cut})
            .order_by(field)
            .values_list("pk", flat=True)[:PURGE_CHUNK]
        )
        if not ids:
            return total
        total += model.objects.filter(pk__in=ids).delete()[0]
