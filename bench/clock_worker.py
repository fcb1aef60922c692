"""Clocks that act, at scale (PostgreSQL):

1. breach latency — 1,000,000 open cases, each with running feedback and resolve clocks;
   2,000 sign clocks fall due over 40 s while one worker runs; latency = the breach event's
   time minus the due time.
2. idle cost — the worker's CPU seconds and queries per minute with nothing due.
3. two workers — 100,000 clocks due at once, two worker processes; no clock is acted on
   twice, none is missed.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/minsheng_clockbench python bench/clock_worker.py

Data is generated with SQL (generate_series) into the database named by DATABASE_URL,
which is emptied first: point it at a database of its own.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OPEN_CASES = int(os.environ.get("BENCH_OPEN_CASES", "1000000"))
DUE_SOON = int(os.environ.get("BENCH_DUE_SOON", "2000"))
BREACHES = int(os.environ.get("BENCH_BREACHES", "100000"))

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minsheng.settings")
if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
    sys.exit("set DATABASE_URL to a PostgreSQL database of its own")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402


def sql(statement: str, params=None):
    with connection.cursor() as cur:
        cur.execute(statement, params or [])
        try:
            return cur.fetchall()
        except Exception:
            return None


def setup() -> None:
    call_command("migrate", verbosity=0)
    from minsheng.demo.actions import load_demo

    load_demo(with_cases=False)
    # A database of its own: empty every case table (TRUNCATE fires no row triggers).
    sql("TRUNCATE cases_case, cases_caseevent, cases_caseclock, notify_outboxmessage CASCADE")
    unit = sql("SELECT id FROM accounts_unit WHERE code='zjj'")[0][0]
    matter = sql("SELECT id FROM catalog_matter WHERE code='road.manhole'")[0][0]
    t0 = time.perf_counter()
    sql(f"""
        INSERT INTO cases_case (number, channel, text, title, matter_id, lat, lng, address,
            requester_name, requester_phone, urgent, state, owner_unit_id, dispatched_people,
            feedback_text, rating, rating_note, extension_reason, supervision_count,
            reopen_count, public_token, created_at, updated_at, version, routing)
        SELECT 'B' || lpad(g::text, 12, '0'), 'hotline', '井盖破了', '井盖破了', {matter},
            30.70, 121.02, '', '', '', false, 'signed', {unit}, '[]', '', '', '', '', 0, 0,
            md5(g::text), now() - interval '1 hour', now() - interval '1 hour', 1, '{{}}'
        FROM generate_series(1, {OPEN_CASES}) g""")
    # Every open case has running feedback and resolve clocks, far from due.
    sql(f"""
        INSERT INTO cases_caseclock (case_id, name, unit_id, started_at, due_at, warn_at)
        SELECT id, n, {unit}, now() - interval '1 hour', now() + interval '5 days',
               now() + interval '4 days'
        FROM cases_case, unnest(array['feedback', 'resolve']) n""")
    sql("ANALYZE")
    print(
        f"generated {OPEN_CASES} open cases and {2 * OPEN_CASES} running clocks "
        f"in {time.perf_counter() - t0:.0f} s",
        flush=True,
    )


def worker(*extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "minsheng", "worker", *extra], env=dict(os.environ, LOG_LEVEL="WARNING")
    )


def bench_latency() -> dict:
    # DUE_SOON sign clocks falling due evenly over the next 40 s (no warning first).
    sql(f"""
        INSERT INTO cases_caseclock (case_id, name, unit_id, started_at, due_at, warn_at)
        SELECT id, 'sign', owner_unit_id, now(),
               now() + interval '10 seconds' + (row_number() OVER () * interval '40 seconds'
                   / {DUE_SOON}), NULL
        FROM (SELECT id, owner_unit_id FROM cases_case ORDER BY id LIMIT {DUE_SOON}) c""")
    proc = worker()
    time.sleep(60)
    proc.terminate()
    proc.wait()
    rows = sql("""
        SELECT extract(epoch FROM (e.at - c.due_at)) * 1000
        FROM cases_caseclock c JOIN cases_caseevent e
          ON e.case_id = c.case_id AND e.action = 'clock_breach' AND e.data->>'clock' = 'sign'
        WHERE c.name = 'sign'""")
    lat = sorted(float(r[0]) for r in rows)
    return {
        "open_cases": OPEN_CASES,
        "breaches": len(lat),
        "expected": DUE_SOON,
        "p50_ms": round(lat[len(lat) // 2], 1),
        "p99_ms": round(lat[int(len(lat) * 0.99)], 1),
        "max_ms": round(lat[-1], 1),
    }


def bench_idle() -> dict:
    sql("UPDATE cases_caseclock SET met_at = now() WHERE name = 'sign' AND met_at IS NULL")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    calls0 = sql(
        "SELECT coalesce(sum(xact_commit + xact_rollback), 0) FROM pg_stat_database "
        "WHERE datname = current_database()"
    )[0][0]
    proc = worker()
    time.sleep(60)
    proc.terminate()
    proc.wait()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    calls1 = sql(
        "SELECT coalesce(sum(xact_commit + xact_rollback), 0) FROM pg_stat_database "
        "WHERE datname = current_database()"
    )[0][0]
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {
        "cpu_seconds_per_idle_minute_incl_startup": round(cpu, 2),
        "transactions_per_idle_minute": int(calls1 - calls0),
    }


def bench_two_workers() -> dict:
    sql(f"""
        INSERT INTO cases_caseclock (case_id, name, unit_id, started_at, due_at, warn_at)
        SELECT id, 'dispatch', owner_unit_id, now() - interval '10 minutes',
               now() - interval '1 minute', NULL
        FROM (SELECT id, owner_unit_id FROM cases_case ORDER BY id LIMIT {BREACHES}) c""")
    t0 = time.perf_counter()
    procs = [worker("--batch", "500"), worker("--batch", "500")]
    while sql("""SELECT count(*) FROM cases_caseclock WHERE name = 'dispatch'
                 AND breached_at IS NULL""")[0][0]:
        time.sleep(1)
    elapsed = time.perf_counter() - t0
    for p in procs:
        p.terminate()
        p.wait()
    events = sql("""SELECT count(*), count(DISTINCT case_id) FROM cases_caseevent
                    WHERE action = 'clock_breach' AND data->>'clock' = 'dispatch'""")[0]
    return {
        "breaches": BREACHES,
        "events": events[0],
        "distinct_cases": events[1],
        "acted_twice": events[0] - events[1],
        "seconds": round(elapsed, 1),
    }


if __name__ == "__main__":
    setup()
    print("breach latency:", json.dumps(bench_latency()), flush=True)
    print("idle worker:", json.dumps(bench_idle()), flush=True)
    print("two workers:", json.dumps(bench_two_workers()), flush=True)
