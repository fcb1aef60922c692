"""The command centre's screen at a city's scale: its data endpoints' p50/p95 (issue #16).

    DATABASE_URL=postgresql://postgres@127.0.0.1/minsheng_cc .venv/bin/python bench/command_screen.py
    ... --cases 1000000 --open 250000      # the 1 M city
    ... --reuse                             # the endpoints again, no reload
    .venv/bin/python bench/command_screen.py   # SQLite (a file under var/bench/)

Method: the city is bench/scale.py's (``build_city``: the demo city, ``--cases`` bulk-written
cases over the past year, ``--open`` of them over the past 20 days, four clocks each). The
bulk writer skips the case log, so each case gets the ``accept`` entry intake writes (same
moment as the case; the statistics count received cases from it). Then the statistics'
rollups are built for the past days and the tables vacuumed and analysed, and before each reader's
requests the rollups are refreshed once more, as the worker keeps them (on PostgreSQL today's
rows are then at most ``MINSHENG_STATS_TODAY_ROLLUP_S`` old and the screen reads them). Each
endpoint is requested through Django's test ``Client`` as the leader (the city) and as
当湖街道's sub-centre (a town): two warm-up requests, ``--repeat`` timed ones, p50/p95 in
ms, and the SQL queries of one request (the session's own left out, as in the tests), twice:
``computed`` (``MINSHENG_COMMAND_CACHE_S=0``: every request computes; what a request costs
when nothing is kept) and ``kept`` (the deployment's setting, 60 s by default: what a
screen's poll waits for; the figures and map kept per scope, ``command/kept.py``). Prints
one JSON document; the figures go into docs/PERFORMANCE.md by hand.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scale  # bench/scale.py: the city builder, reused

ENDPOINTS = (
    "/command/data.json",
    "/command/panels/",
    "/command/map.json?zoom=12",
    "/command/map.json?zoom=15",
    "/command/feed/",
)
RECENT_DAYS = 40  # on --reuse, the days rebuilt after adding accept entries (the screen reads 31)


def add_accept_events(rebuild_days: int | None) -> int:
    """The ``accept`` entry of every case that has none (one INSERT … SELECT). With
    ``rebuild_days``, the rollup days of that many recent days are marked for rebuilding
    (a database built before this step)."""
    from django.db import connection
    from django.utils import timezone

    from minsheng.core import clock
    from minsheng.stats.models import RollupDay

    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO cases_caseevent"
            " (case_id, at, action, actor_label, from_state, to_state, note, data)"
            " SELECT c.id, c.created_at, 'accept', 'bench', '', 'accepted', '', '{}' FROM cases_case c"
            " WHERE NOT EXISTS"
            " (SELECT 1 FROM cases_caseevent e WHERE e.case_id = c.id AND e.action = 'accept')"
        )
        added = cur.rowcount
    if added and rebuild_days:
        since = timezone.localdate(clock.now()) - dt.timedelta(days=rebuild_days)
        RollupDay.objects.filter(day__gte=since).update(dirty=True)
    return added


def analyse() -> None:
    """Statistics for the planner and, on PostgreSQL, the visibility map that index-only
    scans need (autovacuum keeps both in production; a bulk load is ahead of it)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def queries_of(captured: list[dict]) -> int:
    """The request's own queries (the session's and savepoints left out, as in the tests)."""
    return sum(1 for q in captured if "django_session" not in q["sql"] and "SAVEPOINT" not in q["sql"])


def time_endpoint(client: Any, user: str, mode: str, path: str, repeat: int) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(2):
        client.get(path)
    with CaptureQueriesContext(connection) as ctx:
        client.get(path)
    count = queries_of(ctx.captured_queries)  # now: the next request clears the log
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        r = client.get(path)
        times.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, (path, r.status_code)
    return {
        "user": user,
        "mode": mode,
        "path": path,
        "p50_ms": round(scale.pct(times, 0.5), 1),
        "p95_ms": round(scale.pct(times, 0.95), 1),
        "queries": count,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--cases", type=int, default=100_000)
    p.add_argument("--open", type=int, default=25_000)
    p.add_argument("--repeat", type=int, default=20)
    p.add_argument("--reuse", action="store_true")
    args = p.parse_args()
    url = scale.database_url()
    if not args.reuse:
        scale.recreate(url)
    scale.setup_django()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings

    from minsheng.core import clock
    from minsheng.stats.rollup import refresh_rollups

    if args.reuse:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)  # indexes added since the city was built
    else:
        scale.build_city(args.cases, args.open)
    added = add_accept_events(RECENT_DAYS if args.reuse else None)
    scale.log(f"accept entries added: {added:,}")
    t = time.monotonic()
    refresh_rollups(clock.now())
    analyse()
    scale.log(f"rollups refreshed and tables analysed in {time.monotonic() - t:.0f} s")
    out = {"cases": args.cases, "open": args.open, "database": connection.vendor, "machine": scale.machine()}
    results = []
    users = get_user_model().objects
    kept_s = getattr(settings, "MINSHENG_COMMAND_CACHE_S", 0)  # 0: code before the screen kept
    for user in ("leader", "danghu"):
        refresh_rollups(clock.now())  # as the worker keeps them
        client = Client()
        client.force_login(users.get(username=user))
        for mode, seconds in (("computed", 0), ("kept", kept_s)):
            if mode == "kept" and not seconds:
                continue
            with override_settings(MINSHENG_COMMAND_CACHE_S=seconds):
                for path in ENDPOINTS:
                    results.append(time_endpoint(client, user, mode, path, args.repeat))
                    scale.log(f"{user} {mode} {path}: {results[-1]}")
    out["endpoints"] = results
    print(json.dumps(out, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
