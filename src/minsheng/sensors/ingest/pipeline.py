"""The pipeline (store → detect → act): the registry of devices with their detectors,
intake, detection, the alarm actions, and the work that runs on time (:meth:`Pipeline.tick`).
One thread drives it (the loop's); storing and alarms go to its :class:`StorageWriter`, the
hourly database work to its :class:`Chores`. :func:`run_http_only` is the loop without a
broker.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import threading
import time
import zoneinfo
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Field, Q

from minsheng.core import clock

from .. import actions, storage
from ..detection import BaselineCheck, Context, DeviceDetector, Finding, is_dry, resolve_rules
from ..models import Alarm, AlarmState, Device, DeviceStatus, InboundBatch, RainPeriod
from ..shards import Shard, shard_of
from .chores import Chores, HourlyJob
from .parse import Counters, Rejected, max_age_s, max_future_s, parse_reading
from .writer import StorageWriter

log = logging.getLogger("minsheng.sensors.ingest")  # one logger for the whole package
# Which alarm a case is named after when several rules fire on the same reading.
RULE_PRIORITY = {"dry_weather": 0, "threshold": 1, "baseline": 2, "rate": 3, "silence": 4}


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
        job = HourlyJob(now, hour, roll, wanted, purge)
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

    def _finish(self, job: HourlyJob) -> None:
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
