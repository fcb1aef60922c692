"""The HTTP endpoint's work (in the web process): gateways that cannot speak MQTT post
batches to ``/api/v1/sensors/readings``; each reading is checked, the good ones stored and
handed over (:class:`InboundBatch`, one per shard) to the ingest process, which owns the
detectors' state and judges them (:meth:`Pipeline.take_inbound`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from minsheng.core import clock

from .. import storage
from ..models import Device, InboundBatch
from ..shards import configured_count, shard_of
from .parse import Rejected, max_age_s, max_future_s, parse_reading, record_rejects


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
