"""One pass over everything due, and the loop that repeats it on time.

The loop sleeps until the next due moment (asked of the partial indexes), but never longer
than ``max_sleep``, so a clock created by the web process a moment ago is still acted on
within that bound. Time comes from :mod:`minsheng.core.clock`, so tests drive it.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from dataclasses import dataclass

from django.db import close_old_connections, connection, connections

from minsheng.calls.actions import callbacks_pass
from minsheng.cases import escalation, retention
from minsheng.core import clock
from minsheng.followup.actions import followup_pass
from minsheng.knowledge.actions import expiry_pass
from minsheng.notify.delivery import deliver_due
from minsheng.province.actions import poll_pass
from minsheng.stats.rollup import refresh_rollups, today_rollup_age
from minsheng.transfer.actions import transfers_pass
from minsheng.warning.actions import detect_pass

log = logging.getLogger("minsheng.worker")
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class PassResult:
    warned: int = 0
    breached: int = 0
    delivered: int = 0
    erased: int = 0  # closed cases whose personal data the retention rule erased

    @property
    def total(self) -> int:
        return self.warned + self.breached + self.delivered + self.erased


def _deliver(now: dt.datetime, limit: int) -> int:
    result = deliver_due(now, limit=limit, worker_id=WORKER_ID)
    return int(getattr(result, "sent", result) or 0)


# At most every 5 minutes and 2 days a run: a recomputed day costs seconds at 5,000,000
# cases (the statistics page reads today live, unless MINSHENG_STATS_TODAY_ROLLUP_S lets it
# read today's rollup: then at least twice within that age). On PostgreSQL the loop runs it
# in a thread of its own, so that clocks never wait behind it; on SQLite (one writer) in the
# pass. A big city runs ``minsheng refreshstats --every 60`` as its own process instead.
ROLLUP_INTERVAL = dt.timedelta(minutes=5)
ROLLUP_MAX_DAYS = 2


def _refresh_rollups(now: dt.datetime, min_interval: dt.timedelta | None) -> None:
    today_age = today_rollup_age()
    if min_interval is not None and today_age is not None:
        min_interval = min(min_interval, today_age / 2)
    refresh_rollups(
        now, min_interval=min_interval, max_days=ROLLUP_MAX_DAYS if min_interval is not None else None
    )


def run_pass(
    now: dt.datetime | None = None,
    *,
    limit: int = 500,
    deliver: bool = True,
    rollups: bool = False,
    rollup_interval: dt.timedelta | None = None,
) -> PassResult:
    """Act on every clock due at ``now`` (in batches of ``limit``), deliver the outbox,
    erase the personal data of closed cases past the city's retention period, and (with
    ``rollups``) bring the statistics' rollups up to date."""
    now = now or clock.now()
    result = PassResult()
    while (n := escalation.warn_due(now, limit)) > 0:
        result.warned += n
        if n < limit:
            break
    while (n := escalation.breach_due(now, limit)) > 0:
        result.breached += n
        if n < limit:
            break
    expiry_pass(now)  # knowledge articles: remind the owner before expiry, expire after
    callbacks_pass(now, limit)  # calls: a ring never hung up is missed; overdue callbacks warned of
    followup_pass(now, limit)  # follow-ups whose every call went unanswered end as unreachable
    detect_pass(now, limit)  # early warning: the cases since the last pass against their usual level
    transfers_pass(now, limit)  # 110 transfers: the centre warned of undecided ones and missing receipts
    poll_pass(now)  # the provincial platform: cases sent down that no webhook brought
    if deliver:
        while (n := _deliver(now, 100)) > 0:
            result.delivered += n
            if n < 100:
                break
    while True:
        looked, erased = retention.erase_due(now, limit)
        result.erased += erased
        if looked < limit:
            break
    if rollups:
        _refresh_rollups(now, rollup_interval)
    return result


def _rollups_beside(stop: threading.Event, every: float = 5.0) -> None:
    """The rollup refresh on a connection of its own, beside the clock passes."""
    try:
        while not stop.is_set():
            close_old_connections()
            try:
                _refresh_rollups(clock.now(), ROLLUP_INTERVAL)
            except Exception:
                log.exception("statistics refresh failed; retrying")
            stop.wait(every)
    finally:
        connections.close_all()


def run_forever(stop: threading.Event | None = None, *, max_sleep: float = 1.0, limit: int = 500) -> None:
    stop = stop or threading.Event()
    log.info("worker %s started", WORKER_ID)
    beside = connection.vendor == "postgresql"
    refresher = threading.Thread(target=_rollups_beside, args=(stop,), name="stats-refresh", daemon=True)
    if beside:
        refresher.start()
    try:
        _loop(stop, max_sleep=max_sleep, limit=limit, rollups=not beside)
    finally:
        if beside:
            refresher.join(60)  # a refresh under way finishes its day
        connections.close_all()
    log.info("worker %s stopped", WORKER_ID)


def _loop(stop: threading.Event, *, max_sleep: float, limit: int, rollups: bool) -> None:
    while not stop.is_set():
        close_old_connections()
        try:
            result = run_pass(limit=limit, rollups=rollups, rollup_interval=ROLLUP_INTERVAL)
            if result.total:
                log.info(
                    "warned %d, breached %d, delivered %d", result.warned, result.breached, result.delivered
                )
            upcoming = escalation.next_due(clock.now())
        except Exception:
            log.exception("worker pass failed; retrying")
            upcoming = None
        wait = max_sleep
        if upcoming is not None:
            wait = min(max_sleep, max(0.0, (upcoming - clock.now()).total_seconds()))
        stop.wait(wait)
