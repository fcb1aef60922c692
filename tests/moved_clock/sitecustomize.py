"""Start-up shim for running the suite under libfaketime (``make test-moved-clock``).

The moved-clock run preloads Debian's libfaketime with ``FAKETIME_DONT_FAKE_MONOTONIC=1``:
the wall clock moves, the monotonic clock stays true, so timed waits on locks, events and
queues keep working. libfaketime 0.9.10 then answers Python's ``time.sleep`` (an absolute
``clock_nanosleep`` on the monotonic clock) with EINVAL; this replaces ``time.sleep`` with a
wait on ``select`` (a relative timeout, which libfaketime leaves alone). The directory is on
``PYTHONPATH`` only in that run, so every process it starts (xdist workers, the worker,
the ingest) gets the same shim; anywhere else this file is never imported.
"""

import os
import select
import time

if "faketime" in os.environ.get("LD_PRELOAD", ""):
    _monotonic = time.monotonic

    def _sleep(seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        deadline = _monotonic() + seconds
        while (left := deadline - _monotonic()) > 0:
            select.select([], [], [], left)

    time.sleep = _sleep
