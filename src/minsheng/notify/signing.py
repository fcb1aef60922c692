"""The one signature scheme between Minsheng and the systems around it, both ways.

Minsheng signs its own webhooks this way (``channels.Webhook``), and every system that posts
to Minsheng signs the same way: the telephone system (``calls``), 110 (``transfer``), the
provincial platform (``province``)::

    X-Minsheng-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>
    X-Minsheng-Timestamp: <Unix seconds when sent>

A request is taken only when the signature matches the raw bytes and the timestamp lies
within ``max_skew`` of our clock; what makes it replay-safe beyond that window is each
receiver's own id (an event id, a 110 reference, a provincial case id) kept unique.
"""

from __future__ import annotations

import datetime as dt
import hmac
import math

from minsheng.core import clock

from .channels import webhook_signature

SIGNATURE_HEADER = "X-Minsheng-Signature"
TIMESTAMP_HEADER = "X-Minsheng-Timestamp"


def signed_headers(secret: str, body: bytes, *, timestamp: float | None = None) -> dict[str, str]:
    """The headers that make ``body`` a request the receiver takes (for partners' adapters,
    simulators and Minsheng's own signed requests)."""
    ts = int(clock.timestamp() if timestamp is None else timestamp)
    return {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: webhook_signature(secret, body),
        TIMESTAMP_HEADER: str(ts),
    }


def refusal(
    secret: str, body: bytes, signature: str, timestamp: str, *, max_skew: dt.timedelta
) -> str | None:
    """Why a request is not genuine and fresh, or ``None`` when it is."""
    if not signature:
        return f"{SIGNATURE_HEADER} is missing"
    if not hmac.compare_digest(signature.strip().encode(), webhook_signature(secret, body).encode()):
        return "the signature does not match the body"
    try:
        sent = float(timestamp.strip())
    except ValueError:
        return f"{TIMESTAMP_HEADER} is missing or not Unix seconds"
    if not math.isfinite(sent):
        return f"{TIMESTAMP_HEADER} is not Unix seconds"
    if abs(clock.timestamp() - sent) > max_skew.total_seconds():
        return f"{TIMESTAMP_HEADER} is too far from the present: refused as stale"
    return None
