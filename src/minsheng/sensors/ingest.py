"""Ingest (数据接入): readings in, stored once, judged, and alarms turned into work orders.

Two ways in, one pipeline:

* MQTT: devices publish ``{prefix}/{device_id}/telemetry`` (QoS 1) with
  ``{"ts": "2026-11-23T09:00:00+08:00", "values": {"flow": 12.3, "level": 0.42}}`` and
  acknowledge commands on ``{prefix}/{device_id}/ack`` with ``{"id": …, "ok": true}``.
  :class:`MqttIngest` keeps a persistent session (fixed client id, ``clean_session`` off)
  and acknowledges a message to the broker only after its batch is stored: a crash or a
  broker restart makes the broker deliver it again, and the ``(device, ts)`` unique key
  stores it once. At least once on the wire, exactly once in the table.
* HTTP: gateways that cannot speak MQTT post batches to ``/api/v1/sensors/readings``;
  the web process validates and stores them and hands them over (:class:`InboundBatch`)
  to the ingest process, which owns the detectors' state.

Whatever comes in broken (unknown device, malformed JSON, a time far in the future) is
counted by reason and logged, and never stops the loop or opens a case.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import logging
import math
import queue
import threading
import time
import zoneinfo
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.db.models import F, Field, Q

from minsheng.core import clock

from . import actions, storage
from .conf import setting
from .detection import BaselineCheck, Context, DeviceDetector, Finding, is_dry, resolve_rules
from .models import (
    QUANTITIES,
    Alarm,
    AlarmState,
    Device,
    DeviceStatus,
    InboundBatch,
    RainPeriod,
    RejectCounter,
)
from .shards import Shard, configured_count, shard_of

log = logging.getLogger("minsheng.sensors.ingest")
QSET = frozenset(QUANTITIES)
LULL_S = 0.002  # a batch is complete when no message came for this long
# Which alarm a case is named after when several rules fire on the same reading.
RULE_PRIORITY = {"dry_weather": 0, "threshold": 1, "baseline": 2, "rate": 3, "silence": 4}


def topic_prefix() -> str:
    return str(setting("MINSHENG_SENSORS_TOPIC_PREFIX", "minsheng/sensors")).rstrip("/")


def max_future_s() -> float:
    return float(setting("MINSHENG_SENSORS_MAX_FUTURE_S", 300))


def max_age_s() -> float:
    return float(setting("MINSHENG_SENSORS_MAX_AGE_DAYS", 7)) * 86400.0


# --- parsing and rejects --------------------------------------------------------------


class Rejected(Exception):
    """A message refused, with a reason from :data:`REASONS`."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


REASONS = (
    "unknown_device",
    "inactive_device",
    "malformed",
    "future",
    "too_old",
    "no_values",
    "bad_topic",
    "not_allowed",
    "unknown_command",
    "error",
)


def parse_reading(
    obj: Any, now_t: float, *, future_s: float | None = None, age_s: float | None = None
) -> tuple[dt.datetime, float, dict[str, float]]:
    """``{"ts": ISO-8601 with zone, "values": {quantity: number}}`` → (aware time, epoch
    seconds, values). Unknown quantities are dropped (a newer firmware may report more);
    a known one that is not a finite number makes the message malformed. The ingest loop
    passes ``future_s``/``age_s`` (read from settings once, not per message)."""
    if not isinstance(obj, dict):
        raise Rejected("malformed", "payload is not a JSON object")
    ts, values = obj.get("ts"), obj.get("values")
    if not isinstance(ts, str):
        raise Rejected("malformed", "no ts")
    try:
        when = dt.datetime.fromisoformat(ts)
    except ValueError:
        raise Rejected("malformed", f"ts is not ISO-8601: {ts[:40]!r}") from None
    if when.tzinfo is None:
        raise Rejected("malformed", "ts has no time zone")
    t = when.timestamp()
    if t > now_t + (max_future_s() if future_s is None else future_s):
        raise Rejected("future", f"ts {ts[:40]} is in the future")
    if t < now_t - (max_age_s() if age_s is None else age_s):
        raise Rejected("too_old", f"ts {ts[:40]} is too old")
    isfinite = math.isfinite
    if not isinstance(values, dict) or not values:
        raise Rejected("malformed", "no values")
    out: dict[str, float] = {}
    for k, v in values.items():
        if k not in QSET:
            continue
        kind = type(v)
        if kind is float:
            if not isfinite(v):
                raise Rejected("malformed", f"{k} is not a finite number")
            out[k] = v
        elif kind is int:
            out[k] = float(v)
        else:
            raise Rejected("malformed", f"{k} is not a number")
    if not out:
        raise Rejected("no_values", "no known quantity")
    return when, t, out


def parse_topic(topic: str, prefix: str) -> tuple[str, str]:
    """``{prefix}/{device_id}/{telemetry|ack}`` → (device_id, kind)."""
    if not topic.startswith(prefix + "/"):
        raise Rejected("bad_topic", topic[:100])
    rest = topic[len(prefix) + 1 :].split("/")
    if len(rest) != 2 or not rest[0] or rest[1] not in ("telemetry", "ack"):
        raise Rejected("bad_topic", topic[:100])
    return rest[0], rest[1]


class Counters:
    """Refused messages by (source, reason): kept in memory, logged, and added to
    :class:`RejectCounter` rows when flushed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.total: Counter[tuple[str, str]] = Counter()
        self._pending: Counter[tuple[str, str]] = Counter()
        self._last: dict[tuple[str, str], str] = {}

    def add(self, source: str, reason: str, detail: str = "", n: int = 1) -> None:
        with self._lock:
            self.total[(source, reason)] += n
            self._pending[(source, reason)] += n
            self._last[(source, reason)] = detail[:200]

    def flush(self, now: dt.datetime | None = None) -> int:
        with self._lock:
            pending, self._pending = self._pending, Counter()
            last = dict(self._last)
        if pending:
            record_rejects(pending, last, now or clock.now())
        return sum(pending.values())


def record_rejects(
    counts: Counter[tuple[str, str]], last: dict[tuple[str, str], str], now: dt.datetime
) -> None:
    for (source, reason), n in counts.items():
        detail = last.get((source, reason), "")
        for _attempt in range(2):
            try:
                with transaction.atomic():
                    updated = RejectCounter.objects.filter(source=source, reason=reason).update(
                        count=F("count") + n, last_at=now, last_detail=detail
                    )
                    if not updated:
                        RejectCounter.objects.create(
                            source=source, reason=reason, count=n, last_at=now, last_detail=detail
                        )
                break
            except IntegrityError:
                continue  # another process (a shard, the web) created the row first: add to it
        log.warning("refused %d %s message(s): %s (%s)", n, source, reason, detail)


# --- the pipeline ---------------------------------------------------------------------


@dataclass
class Entry:
    """What the pipeline keeps per device."""

    pk: int
    device_id: str
    detector: DeviceDetector
    signature: Any  # what the detector was built from, as stored (compared on reload)
    device: Device
    last_t: float | None = None
    last_values: dict[str, float] = field(default_factory=dict)
    dirty: bool = False


# (entry, aware time, epoch seconds, values)
Item = tuple[Entry, dt.datetime, float, dict[str, float]]


class _OwnThread:
    """Work in one thread of its own, in order, on that thread's own database connection."""

    def __init__(self, name: str, initializer: Callable[[], None] | None = None) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name, initializer=initializer)

    def call(self, fn: Callable[[], Any]) -> Future[Any]:
        return self._pool.submit(fn)

    def close(self) -> None:
        # The lambda looks the connection up in the pool's thread (it has its own).
        self._pool.submit(lambda: connection.close()).result()
        self._pool.shutdown(wait=True)


class StorageWriter(_OwnThread):
    """Stores batches in a thread of its own, so that writing batch N (mostly database
    work, during which the driver releases the GIL) overlaps judging batch N+1 on the
    other core. Callers acknowledge a batch to the broker only when its future is done."""

    def __init__(self, compact_after: int | None = storage.COMPACT_ROWS) -> None:
        super().__init__("sensors-store", storage.tune_for_ingest)
        # SQLite: after this many readings of its own, the writer moves the landed ones on
        # (storage.compact). With shards only shard 0's writer does, for all of them: each
        # move rewrites a page per device, so fewer, bigger moves cost less. (Shard 0's
        # tick also moves them every storage.COMPACT_S, whoever stored them.)
        self.compact_after = compact_after
        self._since_compact = 0  # touched in the writer's thread only

    @classmethod
    def for_shard(cls, shard: Shard) -> StorageWriter:
        return cls(storage.COMPACT_ROWS // shard.count if shard.leads else None)

    def submit(self, rows: list[storage.Row]) -> Future[int]:
        return self._pool.submit(self._store, rows)

    def _store(self, rows: list[storage.Row]) -> int:
        n = storage.write(rows)
        if self.compact_after is not None:
            self._since_compact += n
            if self._since_compact >= self.compact_after:
                self._since_compact = 0
                storage.compact()
        return n

    def then(self, stored: Future[Any], fn: Callable[[], Any]) -> Future[Any]:
        """Run ``fn`` in the writer's thread after ``stored`` (one thread, in order: it has
        finished by then). ``fn`` runs even if storing failed (an alarm must not wait for a
        disk), and the returned future then fails too, so that the batch waiting on it is
        not acknowledged and the broker delivers it again to be stored."""

        def after() -> Any:
            try:
                return fn()
            finally:
                stored.result()

        return self._pool.submit(after)


class Chores(_OwnThread):
    """The hourly roll-up, the retention purge and the baselines' reads, in a thread of
    their own with its own database connection: at 10,000 devices a roll-up reads hundreds
    of thousands of rows, and the readings must not wait for it."""

    def __init__(self) -> None:
        super().__init__("sensors-chores")


@dataclass
class _HourlyJob:
    """What one hourly tick asks of the database; ``run`` does it (in any thread) and
    keeps what it read; the pipeline then applies it in its own thread."""

    now: dt.datetime
    hour: int
    roll: tuple[dt.datetime, dt.datetime] | None
    wanted: dict[tuple[str, int], list[BaselineCheck]]
    purge: bool
    means: dict[tuple[str, int], dict[int, list[float]]] = field(default_factory=dict)
    purged: tuple[int, int] = (0, 0)
    error: str | None = None

    def run(self) -> _HourlyJob:
        try:
            if self.roll is not None:
                storage.rollup(*self.roll)
            for (q, weeks), checks in self.wanted.items():
                self.means[(q, weeks)] = storage.same_hour_means(
                    [c.device for c in checks], q, self.now, weeks * 7
                )
            if self.purge:
                self.purged = storage.purge(self.now)
        except Exception as exc:
            log.exception("sensors hourly job failed")
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            if threading.current_thread() is not threading.main_thread():
                close_old_connections()
        return self


def _utc_offset_s() -> float:
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    offset = clock.now().astimezone(tz).utcoffset()
    return offset.total_seconds() if offset else 0.0


def _device_column(name: str) -> Field:
    """A field of ``Device`` stored in its own column (not a relation's reverse side)."""
    f = Device._meta.get_field(name)
    assert isinstance(f, Field)
    return f


class Pipeline:
    """Storage, detection and the alarm actions for batches of readings. Used by the MQTT
    loop, the HTTP hand-over and the benchmark; not thread-safe (one thread drives it)."""

    REGISTRY_EVERY = 60.0
    SILENCE_EVERY = 10.0
    STATUS_EVERY = 5.0
    WEATHER_EVERY = 30.0
    COUNTERS_EVERY = 30.0

    def __init__(
        self,
        *,
        source: str = "mqtt",
        on_alarm: Callable[[Finding, float], None] | None = None,
        writer: StorageWriter | None = None,
        shard: Shard | None = None,
        chores: Chores | None = None,
    ) -> None:
        self.source = source
        # With Chores, the hourly roll-up, the purge and the baselines' reads run in a
        # thread of their own (the ingest process); without, in tick() (tests, tools).
        self.chores = chores
        self._chore: Future[Any] | None = None
        self.shard = shard or Shard()
        # Bumped by every load(), so that the MQTT side knows when to re-sync its topics.
        self.registry_version = 0
        self.writer = writer
        self.last_write: Future[int] | None = None
        self.devices: dict[str, Entry] = {}
        self.by_pk: dict[int, Entry] = {}
        self.counters = Counters()
        self.ctx = Context(dry=True, utc_offset_s=_utc_offset_s())
        self.on_alarm = on_alarm
        self._rain: list[tuple[float, float | None]] = []
        self._dry_after_s = 24 * 3600.0
        self._next: dict[str, float] = {}
        self._baseline_hour: int | None = None
        self._baselines_wanted: set[int] = set()  # detectors (by device pk) still without
        self._rolled_until: dt.datetime | None = None
        self._purged_at: dt.datetime | None = None
        self.future_s = max_future_s()
        self.age_s = max_age_s()
        self.stored = 0
        self.alarms_raised = 0
        self.alarms_cleared = 0

    # registry

    def load(self) -> None:
        """(Re)load the registry (with a shard: its devices only). A device whose rules
        did not change keeps its detector (hold timers, recent values); a changed one gets
        a new detector that starts from the alarms active in the database."""
        started_t = clock.now().timestamp()
        active: dict[int, list[tuple[str, str]]] = {}
        for pk, rule, q in Alarm.objects.filter(state=AlarmState.ACTIVE).values_list(
            "device_id", "rule", "quantity"
        ):
            active.setdefault(pk, []).append((rule, q))
        seen: set[str] = set()
        sharded, owns = self.shard.sharded, self.shard.owns
        for d in (
            Device.objects.filter(active=True)
            .select_related("device_type")
            .only(
                "pk",
                "device_id",
                "quantities",
                "normal_ranges",
                "rules",
                "has_valve",
                "owner_unit_id",
                "status",
                "valve_position",
                "device_type__rules",
                "device_type__quantities",
                "device_type__normal_ranges",
                "device_type__has_valve",
            )
        ):
            if sharded and not owns(d.device_id):
                continue
            seen.add(d.device_id)
            # Unchanged if what it was built from is unchanged, compared as stored: the
            # reload runs in the judging thread every minute, for every device.
            dtype = d.device_type
            signature = (
                d.rules,
                d.normal_ranges,
                d.quantities,
                (dtype.rules, dtype.normal_ranges, dtype.quantities) if dtype else None,
            )
            old = self.devices.get(d.device_id)
            if old is not None and old.signature == signature and old.pk == d.pk:
                old.device = d
                continue
            config = resolve_rules(dtype.rules if dtype else None, d.rules)
            ranges, quantities = d.ranges(), d.reported_quantities()
            detector = DeviceDetector(
                d.pk, config, ranges, quantities or None, active.get(d.pk, ()), started_t=started_t
            )
            entry = Entry(d.pk, d.device_id, detector, signature, d)
            if old is not None:
                detector.last_t = old.detector.last_t
                entry.last_t, entry.last_values = old.last_t, old.last_values
            self.devices[d.device_id] = entry
            self.by_pk[d.pk] = entry
            self._baselines_wanted.add(d.pk)
        for gone in set(self.devices) - seen:
            entry = self.devices.pop(gone)
            self.by_pk.pop(entry.pk, None)
        self.registry_version += 1
        self._dry_after_s = 3600.0 * float(resolve_rules(None, None).get("dry_after_rain_hours", 24))
        self._next["registry"] = clock.now().timestamp() + self.REGISTRY_EVERY  # just loaded

    def freeze(self) -> None:
        """The registry and its detectors live as long as the process: keep the cyclic
        garbage collector from walking all of them on every collection (the ingest
        process calls this once after loading; tests and the web process never do)."""
        gc.collect()
        gc.freeze()

    # intake

    def accept(self, device_id: str, obj: Any, now_t: float, source: str | None = None) -> Item | None:
        """Validate one message; a refused one is counted and ``None`` returned."""
        entry = self.devices.get(device_id)
        try:
            if entry is None:
                raise Rejected("unknown_device", device_id[:64])
            ts, t, values = parse_reading(obj, now_t, future_s=self.future_s, age_s=self.age_s)
        except Rejected as exc:
            self.counters.add(source or self.source, exc.reason, exc.detail)
            return None
        return entry, ts, t, values

    def process(self, items: list[Item], *, store: bool = True) -> list[Finding]:
        """Store (unless already stored), detect, and act on what detection found. With a
        :class:`StorageWriter`, storing runs beside detection and ``last_write`` is the
        future to wait for before the batch counts as stored."""
        self.last_write = None
        if not items:
            return []
        received = time.perf_counter()
        if store:
            rows = [(e.pk, ts, values) for e, ts, _t, values in items]
            if self.writer is not None:
                self.last_write = self.writer.submit(rows)
            else:
                storage.write(rows)
            self.stored += len(items)
        items.sort(key=lambda item: item[2])
        ctx = self.ctx
        findings: list[Finding] = []
        for entry, _ts, t, values in items:
            found = entry.detector.feed(t, values, ctx)
            if found:
                findings.extend(found)
            if entry.last_t is None or t > entry.last_t:
                entry.last_t = t
                entry.last_values.update(values)
                entry.dirty = True
        if findings:
            if self.last_write is not None and self.writer is not None:
                # The alarms' transactions run in the writer's thread, after the batch is
                # stored: judging goes on meanwhile instead of waiting for the database
                # (on SQLite, for the write lock the writer holds).
                self.last_write = self.writer.then(self.last_write, lambda: self.apply(findings, received))
            else:
                self.apply(findings, received)
        return findings

    def apply(self, findings: Iterable[Finding], received: float | None = None) -> None:
        """Each finding is its own named action and transaction; one that fails is logged
        and the rest go on (the detector has moved on; the next change tries again).
        When several rules fire at once, the most telling opens the case and names it."""
        for f in sorted(findings, key=lambda f: (not f.raised, RULE_PRIORITY.get(f.rule, 9))):
            entry = self.by_pk.get(f.device)
            if entry is None:
                continue
            try:
                if f.raised:
                    actions.raise_alarm(
                        entry.device, f.rule, f.quantity, since=f.since, value=f.value, detail=f.detail
                    )
                    self.alarms_raised += 1
                    if f.rule == "silence":
                        entry.dirty = True
                else:
                    actions.clear_alarm(
                        entry.device, f.rule, f.quantity, since=f.since, value=f.value, detail=f.detail
                    )
                    self.alarms_cleared += 1
            except Exception:
                log.exception("could not act on %s", f)
                continue
            if self.on_alarm is not None and received is not None:
                self.on_alarm(f, time.perf_counter() - received)

    def take_inbound(self, limit: int = 50) -> int:
        """Detection for readings the HTTP endpoint stored (they are not stored again).
        A shard takes the batches the endpoint addressed to it. Shard 0 also takes batches
        split for another shard count (the endpoint's ``MINSHENG_SENSORS_SHARDS`` and the
        running shards disagree, as while the count changes) and hands each other shard its
        part again, so no reading waits for a shard that does not run."""
        shard = self.shard
        mine = Q(shard=shard.index, shards=shard.count)
        if shard.leads:
            mine |= ~Q(shards=shard.count)
        if not InboundBatch.objects.filter(mine, taken_at__isnull=True).exists():
            return 0  # a plain read: no write lock (SQLite) five times a second for nothing
        with transaction.atomic():
            batches = list(
                InboundBatch.objects.select_for_update(skip_locked=True)
                .filter(mine, taken_at__isnull=True)
                .order_by("id")[:limit]
            )
            if not batches:
                return 0
            now = clock.now()
            InboundBatch.objects.filter(pk__in=[b.pk for b in batches]).update(taken_at=now)
            readings = [r for b in batches if b.shards == shard.count for r in b.readings]
            foreign = [r for b in batches if b.shards != shard.count for r in b.readings]
            if foreign:
                readings += self._hand_over(foreign, now)
        items: list[Item] = []
        for pk, ts, values in readings:
            entry = self.by_pk.get(pk)
            if entry is None:
                continue
            when = dt.datetime.fromisoformat(ts)
            items.append((entry, when, when.timestamp(), values))
        self.process(items, store=False)
        InboundBatch.objects.filter(pk__in=[b.pk for b in batches]).delete()
        return len(items)

    def _hand_over(self, readings: list[Any], now: dt.datetime) -> list[Any]:
        """Split readings of batches made for another shard count: this shard's are
        returned, the others' become new batches for their shards (same transaction)."""
        count = self.shard.count
        ids = dict(Device.objects.filter(pk__in={r[0] for r in readings}).values_list("pk", "device_id"))
        parts: dict[int, list[Any]] = {}
        for r in readings:
            if r[0] in ids:
                parts.setdefault(shard_of(ids[r[0]], count), []).append(r)
        InboundBatch.objects.bulk_create(
            [
                InboundBatch(created_at=now, shard=i, shards=count, readings=part)
                for i, part in sorted(parts.items())
                if i != self.shard.index
            ]
        )
        return parts.get(self.shard.index, [])

    # periodic work

    def _due(self, name: str, every: float, now_t: float) -> bool:
        if now_t >= self._next.get(name, 0.0):
            self._next[name] = now_t + every
            return True
        return False

    def tick(self, now: dt.datetime | None = None) -> None:
        """Everything that runs on time rather than on readings; each part guarded so that
        a failure in one never stops the others or the loop."""
        now = now or clock.now()
        now_t = now.timestamp()
        leads = self.shard.leads
        self._chore_pending()
        for name, every, job, every_shard in (
            ("registry", self.REGISTRY_EVERY, self.load, True),
            ("weather", self.WEATHER_EVERY, lambda: self.refresh_weather(now), True),
            ("silence", self.SILENCE_EVERY, lambda: self.check_silence(now_t), True),
            ("status", self.STATUS_EVERY, self.flush_status, True),
            ("commands", 1.0, lambda: actions.expire_commands(now), False),
            # What others stored (the HTTP endpoint) moves on too; the writer moves its own.
            ("compact", storage.COMPACT_S, self.compact, False),
            ("counters", self.COUNTERS_EVERY, lambda: self.counters.flush(now), True),
            ("hourly", 60.0, lambda: self.hourly(now), True),
        ):
            # With shards, per-device work runs in every shard for its own devices; work
            # over all devices (command expiry here, roll-ups and purge in hourly) in shard 0.
            if (every_shard or leads) and self._due(name, every, now_t):
                try:
                    job()
                except Exception:
                    log.exception("sensors %s job failed", name)

    def compact(self) -> None:
        if self.writer is not None:
            self.writer.call(storage.compact)  # in line with the batches being stored
        else:
            storage.compact()

    def refresh_weather(self, now: dt.datetime) -> None:
        since = now - dt.timedelta(seconds=self._dry_after_s) - dt.timedelta(days=1)
        self._rain = [
            (s.timestamp(), e.timestamp() if e else None)
            for s, e in RainPeriod.objects.filter(started_at__lte=now)
            .exclude(ended_at__lt=since)
            .values_list("started_at", "ended_at")
        ]
        self.ctx.dry = is_dry(now.timestamp(), self._rain, self._dry_after_s)

    def check_silence(self, now_t: float) -> None:
        findings = [f for e in self.devices.values() if (f := e.detector.check_silence(now_t)) is not None]
        if findings:
            self.apply(findings)

    def flush_status(self) -> int:
        """The registry's cache of last reading and status, for maps and lists: one
        ``executemany`` UPDATE (``bulk_update``'s CASE expressions cost seconds for
        thousands of devices)."""
        dirty = [e for e in self.devices.values() if e.dirty]
        if not dirty:
            return 0
        fields = [_device_column(n) for n in ("last_seen_at", "last_values", "status", "valve_position")]
        rows = []
        for e in dirty:
            e.dirty = False
            d = e.device
            d.last_seen_at = dt.datetime.fromtimestamp(e.last_t or 0, tz=dt.UTC)
            d.last_values = dict(e.last_values)
            d.status = DeviceStatus.OFFLINE if e.detector.silence_active else DeviceStatus.ONLINE
            if "valve" in e.last_values:
                d.valve_position = e.last_values["valve"]
            values = (d.last_seen_at, d.last_values, d.status, d.valve_position)
            rows.append(
                [f.get_db_prep_save(v, connection) for f, v in zip(fields, values, strict=True)] + [d.pk]
            )
        table = connection.ops.quote_name(Device._meta.db_table)
        sets = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in fields)

        def write() -> None:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(
                    f"UPDATE {table} SET {sets} WHERE id = %s",  # noqa: S608
                    rows,
                )

        if self.writer is not None:
            self.writer.call(write)  # in line with the readings, off the judging thread
        else:
            write()
        return len(rows)

    def hourly(self, now: dt.datetime) -> None:
        """Roll-ups of finished hours, the same-hour baselines, and the retention purge.
        Roll-ups and the purge cover every device: shard 0 runs them; every shard loads
        its own devices' baselines (all of them when the local hour changes, else those
        of detectors the registry created since).

        The database work (seconds for a big network) runs in the :class:`Chores` thread
        when there is one, so that readings keep flowing meanwhile; what it read is
        applied to the detectors here, in the thread that owns them, on a later tick."""
        if self._chore_pending():
            return
        leads = self.shard.leads
        this_hour = storage.hour_start(now)
        if self._rolled_until is None:
            self._rolled_until = this_hour - dt.timedelta(hours=2)
        roll = (
            (self._rolled_until - dt.timedelta(hours=1), this_hour)
            if leads and this_hour > self._rolled_until
            else None
        )
        hour = int((now.timestamp() + self.ctx.utc_offset_s) // 3600) % 24
        if hour != self._baseline_hour:
            self._baseline_hour = hour
            self._baselines_wanted = set(self.by_pk)
        wanted = self._baseline_requests(self._baselines_wanted)
        self._baselines_wanted = set()
        purge = leads and (self._purged_at is None or now - self._purged_at > dt.timedelta(hours=6))
        if roll is None and not wanted and not purge:
            return
        job = _HourlyJob(now, hour, roll, wanted, purge)
        if self.chores is None:
            self._finish(job.run())
        else:
            self._chore = self.chores.call(job.run)

    def _chore_pending(self) -> bool:
        """Whether the last hourly job still runs; if it has finished, apply it now."""
        if self._chore is None:
            return False
        if not self._chore.done():
            return True
        chore, self._chore = self._chore, None
        self._finish(chore.result())
        return False

    def _baseline_requests(self, pks: set[int]) -> dict[tuple[str, int], list[BaselineCheck]]:
        wanted: dict[tuple[str, int], list[BaselineCheck]] = {}
        for pk in pks:
            e = self.by_pk.get(pk)
            if e is None:
                continue
            for c in e.detector.checks():
                if isinstance(c, BaselineCheck):
                    weeks = int(
                        e.detector.config.get("quantities", {})
                        .get(c.quantity, {})
                        .get("baseline", {})
                        .get("weeks", 4)
                    )
                    wanted.setdefault((c.quantity, weeks), []).append(c)
        return wanted

    def _finish(self, job: _HourlyJob) -> None:
        if job.error is not None:
            # Tried again on the next hourly tick: the roll-up from where it stood, the
            # purge at once, the baselines of every device.
            self._baselines_wanted = set(self.by_pk)
            log.error("sensors hourly job failed: %s", job.error)
            return
        if job.roll is not None:
            self._rolled_until = job.roll[1]
        if job.purge:
            self._purged_at = job.now
        for (q, weeks), checks in job.wanted.items():
            means = job.means[(q, weeks)]
            for c in checks:
                c.set_history(job.hour, means.get(c.device, []))
        if job.purged[0] or job.purged[1]:
            log.info("retention: purged %d readings and %d hourly roll-ups", *job.purged)

    def close(self) -> None:
        if self._chore is not None:
            try:
                self._chore.result()  # a roll-up under way finishes
            except Exception:
                log.exception("sensors hourly job failed")
            self._chore = None
        if self.chores is not None:
            self.chores.close()
            self.chores = None
        try:
            self.flush_status()
            self.counters.flush()
        except Exception:
            log.exception("could not flush on close")
        if self.writer is not None:
            self.writer.close()
            self.writer = None


# --- MQTT -----------------------------------------------------------------------------


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        """``mqtt://[user:pass@]host[:1883]`` or ``mqtts://…[:8883]`` (TLS)."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
            raise ValueError(f"not an MQTT URL: {url}")
        tls = parts.scheme in ("mqtts", "ssl")
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or (8883 if tls else 1883),
            tls=tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    def __str__(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def make_client(
    client_id: str,
    *,
    clean_session: bool,
    address: BrokerAddress,
    username: str | None = None,
    password: str | None = None,
    manual_ack: bool = False,
) -> Any:
    import paho.mqtt.client as mqtt

    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=clean_session,
        protocol=mqtt.MQTTv311,
        manual_ack=manual_ack,
    )
    user = username or address.username
    if user:
        client.username_pw_set(user, password if password is not None else address.password)
    if address.tls:
        client.tls_set()
    client.reconnect_delay_set(min_delay=1, max_delay=10)
    return client


class MqttIngest:
    """The ingest process's MQTT side: a persistent session, messages batched, stored and
    judged, then acknowledged; commands published; periodic work on time.

    Unsharded it subscribes ``{prefix}/+/telemetry`` and ``{prefix}/+/ack``. With a shard
    of the pipeline it subscribes its own devices' exact topics instead, in chunks of
    :attr:`SUBSCRIBE_CHUNK`, and follows the registry as it reloads; only shard 0
    publishes commands."""

    SUBSCRIBE_CHUNK = 500  # topic filters per SUBSCRIBE/UNSUBSCRIBE packet

    def __init__(
        self,
        pipeline: Pipeline,
        address: BrokerAddress,
        *,
        client_id: str,
        prefix: str | None = None,
        username: str | None = None,
        password: str | None = None,
        batch_max: int = 5000,
        batch_wait: float = 0.02,
        overlap: bool = True,
    ) -> None:
        self.pipeline = pipeline
        if overlap and pipeline.writer is None:
            pipeline.writer = StorageWriter.for_shard(pipeline.shard)
        if overlap and pipeline.chores is None:
            pipeline.chores = Chores()
        # Batches stored (or being stored) but not yet acknowledged to the broker, in order.
        self.unacked: deque[tuple[Future[int] | None, list[tuple[int, int, int]]]] = deque()
        self.address = address
        self.prefix = prefix or topic_prefix()
        self.client_id = client_id
        self.batch_max = batch_max
        self.batch_wait = batch_wait
        self.inbox: queue.Queue[Any] = queue.Queue()
        self.connected = threading.Event()
        self.session_present: bool | None = None
        # Message ids are per connection: a message received before a reconnect is never
        # acknowledged after it (the broker delivers it again; storage stores it once).
        self.generation = 0
        self.stopping = False
        self.shard = pipeline.shard
        # Sharded: the devices whose topics are subscribed (shared with paho's thread,
        # which subscribes them all again on every connect).
        self._sub_lock = threading.Lock()
        self._subscribed: set[str] = set()
        self._synced_version = -1
        self.client = make_client(
            client_id,
            clean_session=False,
            address=address,
            username=username,
            password=password,
            manual_ack=True,
        )
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    def _on_connect(self, client: Any, _userdata: Any, flags: Any, reason: Any, _props: Any = None) -> None:
        if getattr(reason, "is_failure", False):
            log.error("broker refused the connection: %s", reason)
            return
        self.session_present = bool(getattr(flags, "session_present", False))
        self.generation += 1
        if self.shard.sharded:
            with self._sub_lock:
                devices = sorted(self._subscribed)
            self._send_subscriptions(devices, subscribe=True)
        else:
            client.subscribe([(f"{self.prefix}/+/telemetry", 1), (f"{self.prefix}/+/ack", 1)])
        self.connected.set()
        log.info(
            "connected to %s as %s (session present: %s)", self.address, self.client_id, self.session_present
        )

    def _topics(self, device_id: str) -> tuple[str, str]:
        return f"{self.prefix}/{device_id}/telemetry", f"{self.prefix}/{device_id}/ack"

    def _send_subscriptions(self, devices: Sequence[str], *, subscribe: bool) -> None:
        topics = [t for d in devices for t in self._topics(d)]
        for i in range(0, len(topics), self.SUBSCRIBE_CHUNK):
            chunk = topics[i : i + self.SUBSCRIBE_CHUNK]
            if subscribe:
                self.client.subscribe([(t, 1) for t in chunk])
            else:
                self.client.unsubscribe(chunk)

    def sync_subscriptions(self) -> tuple[int, int]:
        """Sharded: after the registry (re)loaded, subscribe the shard's new devices and
        unsubscribe the ones it no longer has. Returns (subscribed, unsubscribed). While
        disconnected only the set changes; the next connect subscribes all of it."""
        if not self.shard.sharded or self._synced_version == self.pipeline.registry_version:
            return 0, 0
        self._synced_version = self.pipeline.registry_version
        wanted = set(self.pipeline.devices)
        with self._sub_lock:
            new, gone = sorted(wanted - self._subscribed), sorted(self._subscribed - wanted)
            self._subscribed = wanted
        if self.connected.is_set():
            self._send_subscriptions(new, subscribe=True)
            self._send_subscriptions(gone, subscribe=False)
        if new or gone:
            log.info("shard %s: subscribed %d device(s), unsubscribed %d", self.shard, len(new), len(gone))
        return len(new), len(gone)

    def _on_disconnect(
        self, _client: Any, _userdata: Any, _flags: Any, reason: Any, _props: Any = None
    ) -> None:
        self.connected.clear()
        if self.stopping:
            log.info("disconnected from %s", self.address)
        else:
            log.warning("disconnected from %s (%s); reconnecting", self.address, reason)

    def _on_message(self, _client: Any, _userdata: Any, msg: Any) -> None:
        self.inbox.put((msg.topic, msg.payload, msg.mid, msg.qos, self.generation))

    def start(self) -> None:
        self.sync_subscriptions()
        self.client.connect_async(self.address.host, self.address.port, keepalive=30)
        self.client.loop_start()

    def stop(self) -> None:
        self.stopping = True
        self.client.disconnect()
        self.client.loop_stop()

    def drain(self, timeout: float) -> list[Any]:
        """Wait up to ``timeout`` for a message, then take what keeps coming: until
        ``batch_max``, ``batch_wait`` in all, or a 2 ms lull. The lull matters: a broker
        sends only so many unacknowledged QoS 1 messages (Mosquitto: 20 unless
        ``max_inflight_messages`` is raised), and they are acknowledged after storing, so
        waiting for more than the window holds would only add delay."""
        try:
            first = self.inbox.get(timeout=timeout)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self.batch_wait
        while len(batch) < self.batch_max:
            try:
                batch.append(self.inbox.get_nowait())
                continue
            except queue.Empty:
                pass
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                batch.append(self.inbox.get(timeout=min(left, LULL_S)))
            except queue.Empty:
                break
        return batch

    def handle(self, batch: Sequence[Any]) -> None:
        """Store and judge a batch, then acknowledge it to the broker, in order."""
        now_t = clock.now().timestamp()
        items: list[Item] = []
        acks: list[tuple[str, dict[str, Any]]] = []
        pipeline = self.pipeline
        for topic, payload, _mid, _qos, _gen in batch:
            try:
                device_id, kind = parse_topic(topic, self.prefix)
                try:
                    obj = json.loads(payload.decode() if isinstance(payload, bytes) else payload)
                except (ValueError, UnicodeDecodeError):
                    raise Rejected("malformed", f"not JSON from {device_id}") from None
            except Rejected as exc:
                pipeline.counters.add("mqtt", exc.reason, exc.detail)
                continue
            if kind == "telemetry":
                item = pipeline.accept(device_id, obj, now_t, "mqtt")
                if item is not None:
                    items.append(item)
            else:
                acks.append((device_id, obj))
        try:
            pipeline.process(items)
        except Exception:
            # Not acknowledged: the broker delivers the batch again after a reconnect.
            log.exception("could not store a batch of %d readings", len(items))
            self._give_up()
            return
        for device_id, obj in acks:
            self.handle_ack(device_id, obj)
        self.unacked.append((pipeline.last_write, [(m[2], m[3], m[4]) for m in batch if m[3]]))
        # Busy: let up to two batches be stored while the next is judged. Idle: acknowledge
        # now, so that the broker sends the next window of messages.
        self.settle(keep=2 if self.inbox.qsize() else 0)

    def settle(self, keep: int = 0) -> None:
        """Acknowledge, in order, the batches whose readings are stored; wait for the
        oldest while more than ``keep`` are outstanding."""
        while self.unacked:
            future, mids = self.unacked[0]
            if future is not None and not future.done() and len(self.unacked) <= keep:
                return
            try:
                if future is not None:
                    future.result()
            except Exception:
                log.exception("could not store a batch; it will be delivered again")
                self._give_up()
                return
            self.unacked.popleft()
            generation = self.generation
            for mid, qos, gen in mids:
                if gen == generation:
                    self.client.ack(mid, qos)

    def _give_up(self) -> None:
        """Drop every unacknowledged batch and reconnect: the broker sends them again."""
        self.unacked.clear()
        close_old_connections()
        self.client.disconnect()

    def handle_ack(self, device_id: str, obj: Any) -> None:
        if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
            self.pipeline.counters.add("mqtt", "malformed", f"ack from {device_id}")
            return
        position = obj.get("position")
        try:
            cmd = actions.acknowledge_command(
                device_id,
                obj["id"],
                ok=bool(obj.get("ok", True)),
                position=float(position) if isinstance(position, int | float) else None,
                message=str(obj.get("message", ""))[:200],
            )
        except Exception:
            log.exception("could not record the acknowledgement %s", obj)
            return
        if cmd is None:
            self.pipeline.counters.add("mqtt", "unknown_command", f"{device_id}: {obj['id']}"[:200])

    def publish_commands(self) -> int:
        """Publish pending commands (shard 0 only: one process claims and publishes them;
        the device's acknowledgement reaches the shard that owns it, and
        :func:`actions.acknowledge_command` works from any process)."""
        if not self.shard.leads or not self.connected.is_set():
            return 0
        cmds = actions.claim_pending_commands()
        for cmd in cmds:
            topic = f"{self.prefix}/{cmd.device.device_id}/command"
            self.client.publish(topic, json.dumps(actions.command_payload(cmd)), qos=1)
            log.info("command %s %s → %s", cmd.command_id, cmd.action, cmd.device.device_id)
        return len(cmds)

    def run(self, stop: threading.Event, *, http_inbound: bool = True) -> None:
        self.pipeline.load()
        self.pipeline.freeze()
        self.start()
        last_cmd = 0.0
        try:
            while not stop.is_set():
                batch = self.drain(timeout=0.1)
                if batch:
                    self.handle(batch)
                else:
                    self.settle()
                now = time.monotonic()
                if now - last_cmd >= 0.2:
                    last_cmd = now
                    try:
                        self.publish_commands()
                        if http_inbound:
                            self.pipeline.take_inbound()
                    except Exception:
                        log.exception("commands/inbound pass failed")
                        close_old_connections()
                self.pipeline.tick()
                self.sync_subscriptions()
        finally:
            try:
                self.settle()
            finally:
                self.pipeline.close()
                self.stop()


def run_http_only(pipeline: Pipeline, stop: threading.Event) -> None:
    """No broker: detection for what the HTTP endpoint stores, and the periodic work.
    Commands wait for gateways to poll them (``/api/v1/sensors/commands/pending``)."""
    pipeline.load()
    pipeline.freeze()
    try:
        while not stop.is_set():
            try:
                n = pipeline.take_inbound()
            except Exception:
                log.exception("inbound pass failed")
                close_old_connections()
                n = 0
            pipeline.tick()
            if not n:
                stop.wait(0.2)
    finally:
        pipeline.close()


# --- HTTP -----------------------------------------------------------------------------


@dataclass
class BatchResult:
    accepted: int
    rejected: int
    errors: list[dict[str, Any]]


def accept_http_batch(key: Any, items: Sequence[Any], now: dt.datetime | None = None) -> BatchResult:
    """The HTTP endpoint's work: check each reading and the key's right to it, store the
    good ones, hand them to the ingest process for detection, count the rest. A device's
    key speaks for that device only; a gateway's for the devices behind it."""
    now = now or clock.now()
    now_t = now.timestamp()
    future_s, age_s = max_future_s(), max_age_s()
    ids = {it.get("device") for it in items if isinstance(it, dict) and isinstance(it.get("device"), str)}
    devices = {
        d.device_id: d
        for d in Device.objects.filter(device_id__in=ids, active=True).only("pk", "device_id", "gateway_id")
    }
    rows: list[storage.Row] = []
    shard_ids: list[int] = []
    count = configured_count()
    errors: list[dict[str, Any]] = []
    counts: Counter[tuple[str, str]] = Counter()
    last: dict[tuple[str, str], str] = {}
    for i, it in enumerate(items):
        try:
            if not isinstance(it, dict) or not isinstance(it.get("device"), str):
                raise Rejected("malformed", "no device")
            d = devices.get(it["device"])
            if d is None:
                raise Rejected("unknown_device", it["device"][:64])
            if (key.device_id is not None and key.device_id != d.pk) or (
                key.gateway_id is not None and d.gateway_id != key.gateway_id
            ):
                raise Rejected("not_allowed", f"key {key.prefix}… for {d.device_id}")
            ts, _t, values = parse_reading(it, now_t, future_s=future_s, age_s=age_s)
        except Rejected as exc:
            counts[("http", exc.reason)] += 1
            last[("http", exc.reason)] = exc.detail
            if len(errors) < 100:
                errors.append({"index": i, "reason": exc.reason, "detail": exc.detail})
            continue
        rows.append((d.pk, ts, values))
        shard_ids.append(shard_of(d.device_id, count))
    if rows:
        # One hand-over per shard: each ingest process judges only its own devices.
        parts: dict[int, list[Any]] = {}
        for i, (pk, ts, v) in zip(shard_ids, rows, strict=True):
            parts.setdefault(i, []).append([pk, ts.isoformat(), v])
        with transaction.atomic():
            storage.write(rows)
            InboundBatch.objects.bulk_create(
                [
                    InboundBatch(created_at=now, shard=i, shards=count, readings=part)
                    for i, part in sorted(parts.items())
                ]
            )
    if counts:
        record_rejects(counts, last, now)
    return BatchResult(len(rows), sum(counts.values()), errors)
