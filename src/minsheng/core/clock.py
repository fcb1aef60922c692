"""The one clock every piece of time-aware code reads.

Business code never calls ``datetime.now()``; it calls :func:`now`, which tests (and the
worker's dry runs) can drive with :func:`frozen` or :func:`set_now`.

A process that a test starts (the worker, the sensor ingest, the device simulator) runs on
the test's clock through the environment: :func:`child_env` writes ``MINSHENG_CLOCK`` (an
ISO-8601 instant with its offset), and a process started with it reads the clock as that
instant plus the time it has been running (monotonic), so its limits fall due exactly as
they would have at that moment, whatever the wall clock says. Production refuses to start
with it (``settings.py``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
from collections.abc import Iterator, Mapping

from django.utils import timezone

ENV = "MINSHENG_CLOCK"

_override: dt.datetime | None = None


def parse_instant(raw: str) -> dt.datetime:
    """An ISO-8601 instant with its offset (``2027-02-08T10:00:00+08:00``), as UTC."""
    try:
        value = dt.datetime.fromisoformat(raw.strip())
    except ValueError:
        raise ValueError(f"{ENV} must be an ISO-8601 instant with an offset, not {raw!r}") from None
    if timezone.is_naive(value):
        raise ValueError(f"{ENV} must carry its UTC offset (e.g. +08:00), not {raw!r}")
    return value.astimezone(dt.UTC)


def _start_from_env() -> tuple[dt.datetime, float] | None:
    raw = os.environ.get(ENV, "")
    if not raw:
        return None
    return parse_instant(raw), time.monotonic()


_env_start = _start_from_env()


def now() -> dt.datetime:
    """The current time, timezone-aware (UTC)."""
    if _override is not None:
        return _override
    if _env_start is not None:
        start, mono = _env_start
        return start + dt.timedelta(seconds=time.monotonic() - mono)
    return dt.datetime.now(dt.UTC)


def timestamp() -> float:
    """:func:`now` as seconds since the epoch, for code that counts in floats."""
    return now().timestamp()


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


def is_moved() -> bool:
    """Whether this process runs on a clock other than the wall clock."""
    return _override is not None or _env_start is not None


def child_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a process this one starts, carrying this clock to it.

    On the wall clock the variable is left out (a child reads the wall clock too); on a
    pinned or moved clock the child starts at this process's present moment.
    """
    env = dict(os.environ if base is None else base)
    if is_moved():
        env[ENV] = now().isoformat()
    else:
        env.pop(ENV, None)
    return env


@contextlib.contextmanager
def frozen(value: dt.datetime) -> Iterator[None]:
    previous = _override
    set_now(value)
    try:
        yield
    finally:
        set_now(previous)
