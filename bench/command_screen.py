"""The command centre's screen at a city's scale: its data endpoints' p50/p95 (issue #16).

    DATABASE_URL=postgresql://postgres@127.0.0.1/minsheng_cc .venv/bin/python bench/command_screen.py
    ... --cases 1000000 --open 250000      # the 1 M city
    ... --reuse                             # the endpoints again, no reload

Method: the city is bench/scale.py's (``build_city``: the demo city, ``--cases`` bulk-written
cases over the past year, ``--open`` of them over the past 20 days, four clocks each), then
the statistics' rollups are built for the past days (``refresh_rollups``), as the worker
keeps them; then each endpoint is requested through Django's test ``Client`` as the leader
(the city) and as 当湖街道's sub-centre (a town): two warm-up requests, ``--repeat`` timed
ones, p50/p95 in ms and the number of SQL queries. No cache: every request computes.
Prints one JSON document; the figures go into docs/PERFORMANCE.md by hand.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scale  # bench/scale.py: the city builder, reused

ENDPOINTS = ("/command/data.json", "/command/map.json?zoom=12", "/command/map.json?zoom=15", "/command/feed/")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", type=int, default=100_000)
    p.add_argument("--open", type=int, default=25_000)
    p.add_argument("--repeat", type=int, default=20)
    p.add_argument("--reuse", action="store_true")
    args = p.parse_args()
    url = scale.database_url()
    if not args.reuse:
        scale.recreate(url)
    scale.setup_django()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from minsheng.core import clock
    from minsheng.stats.rollup import refresh_rollups

    if not args.reuse:
        scale.build_city(args.cases, args.open)
        t = time.monotonic()
        refresh_rollups(clock.now())
        scale.log(f"rollups built in {time.monotonic() - t:.0f} s")
    out = {"cases": args.cases, "open": args.open, "database": connection.vendor, "machine": scale.machine()}
    results = []
    for user in ("leader", "danghu"):
        client = Client()
        from django.contrib.auth import get_user_model

        client.force_login(get_user_model().objects.get(username=user))
        for path in ENDPOINTS:
            for _ in range(2):
                client.get(path)
            times = []
            with CaptureQueriesContext(connection) as ctx:
                client.get(path)
            for _ in range(args.repeat):
                t = time.perf_counter()
                r = client.get(path)
                times.append((time.perf_counter() - t) * 1000)
                assert r.status_code == 200, (path, r.status_code)
            results.append(
                {
                    "user": user,
                    "path": path,
                    "p50_ms": round(scale.pct(times, 0.5), 1),
                    "p95_ms": round(scale.pct(times, 0.95), 1),
                    "queries": len(ctx.captured_queries),
                }
            )
            scale.log(f"{user} {path}: {results[-1]}")
    out["endpoints"] = results
    print(json.dumps(out, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
