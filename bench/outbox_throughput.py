"""How fast does the worker empty the outbox, and does a flaky receiver lose anything?

Why: a city's morning rush, or a breach wave after an outage, puts thousands of messages
in the outbox at once; units must hear of new cases within the 1-minute sign clock. Two runs
against a local webhook receiver that checks every HMAC signature (``notify.testing``):

1. throughput: N messages (default 5,000) to a unit with a signed webhook and three staff
   (so each message is one HTTP POST plus three in-app notifications), delivered by
   ``deliver_due`` in batches of 100 as the worker does; messages per second.
2. flaky: M messages (default 2,000) to a receiver that refuses 50% of requests at random;
   the worker runs, the clock jumps past every back-off, until nothing is pending; then
   every message id must have arrived exactly once (no loss, no duplicate).

It builds a throw-away database (SQLite in a temporary directory, or a ``test_…`` database
next to the one ``--database-url`` names) and removes it afterwards. Results go into
docs/notifications.md by hand, with the machine they ran on.

    .venv/bin/python bench/outbox_throughput.py
    .venv/bin/python bench/outbox_throughput.py --n 1000 --flaky 500
    .venv/bin/python bench/outbox_throughput.py --workers 2 \
        --database-url postgresql://postgres@127.0.0.1/minsheng
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import tempfile
import threading
import time

SECRET = "bench-only-secret"  # noqa: S105 (signs requests to the local receiver only)


def setup(database_url: str | None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minsheng.settings")
    # The receiver listens on loopback, which channels may not reach unless allowed.
    os.environ.setdefault("MINSHENG_NOTIFY_ALLOWED_NETWORKS", "127.0.0.0/8")
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
        os.environ["MINSHENG_VAR"] = tempfile.mkdtemp(prefix="minsheng-bench-")
    import django

    django.setup()
    from django.conf import settings

    settings.LOGGING_CONFIG = None
    import logging

    logging.getLogger("minsheng.notify").setLevel(logging.ERROR)


def make_unit(receiver_url: str, secret: str):
    from django.contrib.auth import get_user_model

    from minsheng.accounts.models import Profile, Role, Unit, UnitKind
    from minsheng.notify.models import UnitChannel

    n = Unit.objects.count()
    unit = Unit.objects.create(code=f"bench-{n}", name=f"压测单位{n}", kind=UnitKind.DEPARTMENT)
    for i in range(3):
        user = get_user_model().objects.create(username=f"bench{n}-{i}")
        Profile.objects.create(user=user, role=Role.HANDLER, unit=unit)
    UnitChannel.objects.create(unit=unit, kind="webhook", url=receiver_url, secret=secret)
    return unit


def fill(unit, n: int, at: dt.datetime) -> list[int]:
    from minsheng.notify.models import Audience, OutboxMessage

    rows = [
        OutboxMessage(
            kind="case_assigned",
            audience=Audience.UNIT,
            unit=unit,
            context={"number": f"MS-BENCH-{i:05d}", "title": "人行道井盖破损", "urgent": i % 10 == 0},
            created_at=at,
            next_attempt_at=at,
        )
        for i in range(n)
    ]
    return [m.pk for m in OutboxMessage.objects.bulk_create(rows, batch_size=1000)]


def run_workers(at: dt.datetime, workers: int) -> int:
    """Deliver everything due at ``at`` with ``workers`` threads (one on SQLite)."""
    from django.db import connection

    from minsheng.notify.delivery import deliver_due

    sent = [0]
    lock = threading.Lock()

    def work(name: str) -> None:
        try:
            while True:
                r = deliver_due(at, limit=100, worker_id=name)
                with lock:
                    sent[0] += r.sent
                if r.claimed == 0:
                    break
        finally:
            connection.close()

    if workers == 1:
        work("bench")
    else:
        threads = [threading.Thread(target=work, args=(f"bench-{i}",)) for i in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    return sent[0]


def throughput(n: int, workers: int) -> None:
    from minsheng.core import clock
    from minsheng.notify.models import Notification, OutboxMessage
    from minsheng.notify.testing import Receiver

    with Receiver("webhook", secret=SECRET) as rx:
        unit = make_unit(rx.url, rx.secret)
        at = clock.now()
        ids = fill(unit, n, at)
        t0 = time.perf_counter()
        run_workers(at, workers)
        elapsed = time.perf_counter() - t0
        counts = rx.counts()
    sent = OutboxMessage.objects.filter(pk__in=ids, status="sent").count()
    notes = Notification.objects.filter(message_id__in=ids).count()
    print(
        f"throughput: {n} messages, {workers} worker(s): {elapsed:.2f} s, "
        f"{n / elapsed:,.0f} messages/s ({notes} in-app notifications, {sum(counts.values())} "
        f"webhook POSTs, {len(counts)} distinct ids, {sent} marked sent)"
    )
    assert len(counts) == n and set(counts.values()) == {1} and sent == n


def flaky(m: int, workers: int) -> None:
    from django.conf import settings

    from minsheng.core import clock
    from minsheng.notify.models import Delivery, OutboxMessage
    from minsheng.notify.testing import Receiver

    settings.MINSHENG_NOTIFY_MAX_ATTEMPTS = 60  # the point here is "no loss", not parking
    start = clock.now()
    clock.set_now(start)
    try:
        with Receiver("webhook", secret=SECRET, fail_rate=0.5, seed=2026) as rx:
            unit = make_unit(rx.url, rx.secret)
            ids = fill(unit, m, start)
            t0 = time.perf_counter()
            rounds = 0
            while OutboxMessage.objects.filter(pk__in=ids, status="pending").exists():
                rounds += 1
                run_workers(clock.now(), workers)
                clock.advance(dt.timedelta(hours=1, minutes=15))  # past the longest back-off
                if rounds > 200:
                    raise SystemExit("the outbox never drained")
            elapsed = time.perf_counter() - t0
            counts, refused = rx.counts(), len(rx.refused)
    finally:
        clock.set_now(None)
    attempts = sum(
        Delivery.objects.filter(message_id__in=ids, channel__startswith="webhook").values_list(
            "attempts", flat=True
        )
    )
    parked = OutboxMessage.objects.filter(pk__in=ids, status="parked").count()
    worst = max(
        Delivery.objects.filter(message_id__in=ids, channel__startswith="webhook").values_list(
            "attempts", flat=True
        )
    )
    lost = m - len(counts)
    dup = sum(counts.values()) - len(counts)
    print(
        f"flaky (50% refused): {m} messages in {rounds} rounds, {elapsed:.2f} s; "
        f"{attempts} webhook attempts ({refused} refused), worst message {worst} attempts; "
        f"lost {lost}, duplicated {dup}, parked {parked}"
    )
    assert lost == 0 and dup == 0 and parked == 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=5000, help="messages for the throughput run")
    ap.add_argument("--flaky", type=int, default=2000, help="messages for the 50%%-failing run")
    ap.add_argument("--workers", type=int, default=1, help="worker threads (PostgreSQL only)")
    ap.add_argument("--database-url", help="a PostgreSQL server to build a test_… database on")
    args = ap.parse_args()
    setup(args.database_url)

    from django.db import connection

    if connection.vendor == "sqlite" and args.workers != 1:
        ap.error("SQLite runs one worker; use --database-url postgresql://… for more")
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        print(
            f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs, "
            f"{connection.vendor}, Django {__import__('django').get_version()}"
        )
        throughput(args.n, args.workers)
        flaky(args.flaky, args.workers)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    sys.exit(main())
