"""How the telephone system signs its events, and how Minsheng checks them.

The scheme is the one Minsheng's own webhooks use (``notify.channels.webhook_signature``):
``X-Minsheng-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>``, with the moment the
event was sent in ``X-Minsheng-Timestamp`` (Unix seconds). An event is taken only when the
signature matches and the timestamp lies within ``MINSHENG_CTI_MAX_SKEW_S`` of our clock;
the event's own id (``event_id`` in the body) is kept, so a second delivery within or after
that window changes nothing.
"""

from __future__ import annotations

import hmac
import math

from minsheng.core import clock
from minsheng.notify.channels import webhook_signature

from . import rules

SIGNATURE_HEADER = "X-Minsheng-Signature"
TIMESTAMP_HEADER = "X-Minsheng-Timestamp"


def signed_headers(secret: str, body: bytes, *, timestamp: float | None = None) -> dict[str, str]:
    """The headers that make ``body`` an event the webhook takes (the simulator's, and a
    telephone system's adapter may copy it)."""
    ts = int(clock.timestamp() if timestamp is None else timestamp)
    return {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: webhook_signature(secret, body),
        TIMESTAMP_HEADER: str(ts),
    }


def refusal(secret: str, body: bytes, signature: str, timestamp: str) -> str | None:
    """Why a request is not a genuine, fresh event, or ``None`` when it is."""
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
    if abs(clock.timestamp() - sent) > rules.max_skew().total_seconds():
        return f"{TIMESTAMP_HEADER} is too far from the present: refused as stale"
    return None
