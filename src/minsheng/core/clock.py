"""The one clock every piece of time-aware code reads.

Business code never calls ``datetime.now()``; it calls :func:`now`, which tests (and the
worker's dry runs) can drive with :func:`frozen` or :func:`set_now`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

from django.utils import timezone

_override: dt.datetime | None = None


def now() -> dt.datetime:
    """The current time, timezone-aware (UTC)."""
    return _override if _override is not None else timezone.now()


def set_now(value: dt.datetime | None) -> None:
    """Pin the clock to ``value`` (aware), or release it with ``None``."""
    global _override
    if value is not None and timezone.is_naive(value):
        raise ValueError("the clock only takes timezone-aware datetimes")
    _override = value


def advance(delta: dt.timedelta) -> dt.datetime:
    """Move a pinned clock forward (pins it first if it runs free)."""
    set_now(now() + delta)
    return now()


@contextlib.contextmanager
def frozen(value: dt.datetime) -> Iterator[None]:
    previous = _override
    set_now(value)
    try:
        yield
    finally:
        set_now(previous)
