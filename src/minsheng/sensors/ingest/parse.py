"""Parsing and refusing: a reading's payload and a topic checked, and whatever is refused
counted by source and reason (:class:`Counters`, kept in :class:`RejectCounter` rows).

Pure checks, used by every way in: the pipeline's intake (MQTT and the HTTP hand-over) and
the HTTP endpoint. Whatever comes in broken (unknown device, malformed JSON, a time far in
the future) is counted and logged, and never stops the loop or opens a case.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
from collections import Counter
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F

from minsheng.core import clock
from minsheng.core.conf import setting

from ..models import QUANTITIES, RejectCounter

log = logging.getLogger("minsheng.sensors.ingest")  # one logger for the whole package
QSET = frozenset(QUANTITIES)


def max_future_s() -> float:
    return float(setting("MINSHENG_SENSORS_MAX_FUTURE_S", 300))


def max_age_s() -> float:
    return float(setting("MINSHENG_SENSORS_MAX_AGE_DAYS", 7)) * 86400.0


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
