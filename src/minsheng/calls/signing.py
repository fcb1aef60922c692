"""How the telephone system signs its events, and how Minsheng checks them.

The scheme is the project's one (``notify.signing``, also 110's and the provincial platform's):
``X-Minsheng-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>``, with the moment the
event was sent in ``X-Minsheng-Timestamp`` (Unix seconds). An event is taken only when the
signature matches and the timestamp lies within ``MINSHENG_CTI_MAX_SKEW_S`` of our clock;
the event's own id (``event_id`` in the body) is kept, so a second delivery within or after
that window changes nothing.
"""

from __future__ import annotations

from minsheng.notify import signing
from minsheng.notify.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, signed_headers

from . import rules

__all__ = ["SIGNATURE_HEADER", "TIMESTAMP_HEADER", "refusal", "signed_headers"]


def refusal(secret: str, body: bytes, signature: str, timestamp: str) -> str | None:
    """Why a request is not a genuine, fresh event, or ``None`` when it is (the project's one
    scheme, ``notify.signing``, within the telephone system's own allowed skew)."""
    return signing.refusal(secret, body, signature, timestamp, max_skew=rules.max_skew())
