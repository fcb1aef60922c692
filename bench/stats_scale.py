"""Does the statistics page stay under 300 ms for a year of a large city on PostgreSQL?

Why: the measures are the figures leaders judge every unit by; they must open as fast on
the last day of the year as on the first. Method:

1. a separate database (``--database-url``, default ``minsheng_stats_bench`` on the local
   server) is created and migrated with ``minsheng migrate``;
2. a city like the demo one but bigger (8 towns/streets of 16 villages/communities each,
   40 departments, 100 matters) gets ``--cases`` cases (default 1,000,000) spread evenly
   over 2025-01-01 … 2026-01-01 18:00 (local), with their clocks and events, written by
   ``INSERT … SELECT`` over ``generate_series`` one month at a time (secondary indexes
   dropped during the load and rebuilt after, foreign-key triggers off). Delays are
   exponential: signing ~35 s mean (≈82 % within 1 min), dispatch ~150 s, feedback ~8 h
   after dispatch, closing ~1 day after feedback; 85 % rated (70 % satisfied, 20 %
   basically, 10 % unsatisfied, a third of those reopened), 3 % returned first by a wrong
   department, 5 % sensor alarms with the 15-minute response clock;
3. the rollups are built from scratch (``refresh_rollups(rebuild=True)``), timed;
4. the page's queries (``build_report`` + the table) are timed, 50 runs each after two
   warm-up runs, p50/p99, for: the whole city over calendar 2025 and over the last 365
   days, one unit over a month (as a leader and as that unit's handler), one town over a
   quarter (leader filter, and the town's sub-centre dispatcher), today (live only), and a
   town+matter+channel year; plus the whole page over HTTP (Django test client). A period
   ending today counts today on a second connection while the rollups are read, as the
   page does on PostgreSQL (``--serial``: one after the other, for comparison). With
   ``--today-rollup SECONDS`` (default 120, PostgreSQL's default) a refresh first builds
   today's rollup (timed: what the refresh pays every minute) and the page reads today
   from it; ``--today-rollup 0`` counts today live on every view (SQLite's default);
5. five minutes of activity (250 open cases signed/fed back/closed) and the incremental
   ``refresh_rollups`` that follows are timed.

    .venv/bin/python bench/stats_scale.py                     # 1 M cases
    .venv/bin/python bench/stats_scale.py --cases 5000000
    .venv/bin/python bench/stats_scale.py --reuse             # time again, no reload
    .venv/bin/python bench/stats_scale.py --reuse --no-refresh --today-rollup 0
    .venv/bin/python bench/stats_scale.py --reuse --no-refresh --today-rollup 0 --serial

Results go into docs/stats.md by hand, with the machine they ran on.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/minsheng_stats_bench"
CST = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime(2025, 1, 1, tzinfo=CST)
NOW = dt.datetime(2026, 1, 1, 18, 0, tzinfo=CST)
TOWNS, VILLAGES, DEPARTMENTS, MATTERS = 8, 16, 40, 100
SENSOR_MATTER = 2  # a water-department matter: sensor alarms are all outfall flow alarms


STARTED = time.monotonic()


def log(msg: str) -> None:
    print(f"[{time.monotonic() - STARTED:7.0f} s] {msg}", flush=True)


# --- database ------------------------------------------------------------------------------


def recreate_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def migrate(url: str) -> None:
    env = dict(os.environ, DATABASE_URL=url)
    subprocess.run(
        [sys.executable, "-m", "minsheng", "migrate", "--no-input", "-v", "0"], env=env, check=True
    )


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minsheng.settings")
    import django

    django.setup()
    import logging

    logging.getLogger("minsheng").setLevel(logging.WARNING)


def sql(statement: str, params: Any = None) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(statement, params)
        return cur.fetchall() if cur.description else []


# --- the city ------------------------------------------------------------------------------


def seed_city() -> None:
    """Places, units, matters and three people, by the ORM (a few hundred rows)."""
    from django.contrib.auth import get_user_model

    from minsheng.accounts.models import Profile, Role, Unit, UnitKind
    from minsheng.catalog.models import Matter
    from minsheng.places.models import Place, PlaceKind

    city = Place.objects.create(code="bench", name="基准市", kind=PlaceKind.CITY)
    centre = Unit.objects.create(code="centre", name="市指挥中心", kind=UnitKind.CENTRE, place=city)
    villages = []
    for t in range(TOWNS):
        kind = PlaceKind.STREET if t % 2 else PlaceKind.TOWN
        town = Place.objects.create(code=f"t{t}", name=f"第{t + 1}镇街", kind=kind, parent=city)
        sub = Unit.objects.create(
            code=f"sub-t{t}", name=f"第{t + 1}镇街分中心", kind=UnitKind.SUBCENTRE, place=town, parent=centre
        )
        for v in range(VILLAGES):
            place = Place.objects.create(
                code=f"t{t}v{v}", name=f"第{t + 1}镇街{v + 1}村", kind=PlaceKind.VILLAGE, parent=town
            )
            unit = Unit.objects.create(
                code=f"gr-t{t}v{v}", name=place.name, kind=UnitKind.GRASSROOTS, place=place, parent=sub
            )
            villages.append((len(villages), place.pk, town.pk, unit.pk, sub.pk))
    depts = [
        Unit.objects.create(code=f"d{j:02d}", name=f"部门{j + 1:02d}", kind=UnitKind.DEPARTMENT)
        for j in range(DEPARTMENTS)
    ]
    days = (2, 3, 5, 7, 10, 15)
    matters = []
    for k in range(MATTERS):
        territorial = k % 5 in (1, 3)
        owner = None if territorial else depts[k % DEPARTMENTS]
        m = Matter.objects.create(
            code=f"m{k:03d}", name=f"事项{k:03d}", owner_unit=owner, resolve_working_days=days[k % len(days)]
        )
        matters.append((k, m.pk, owner.pk if owner else None, m.resolve_working_days))
    sql("CREATE UNLOGGED TABLE bench_matter (k int PRIMARY KEY, id bigint, dept bigint, resolve_days int)")
    sql(
        "CREATE UNLOGGED TABLE bench_village (v int PRIMARY KEY, place bigint, town bigint, "
        "unit bigint, sub bigint)"
    )
    sql("CREATE UNLOGGED TABLE bench_dept (j int PRIMARY KEY, id bigint)")
    for row in matters:
        sql("INSERT INTO bench_matter VALUES (%s, %s, %s, %s)", row)
    for row in villages:
        sql("INSERT INTO bench_village VALUES (%s, %s, %s, %s, %s)", row)
    for j, d in enumerate(depts):
        sql("INSERT INTO bench_dept VALUES (%s, %s)", [j, d.pk])

    users = get_user_model().objects
    busy = Matter.objects.get(code="m000").owner_unit
    for username, role, unit in (
        ("leader", Role.LEADER, None),
        ("handler", Role.HANDLER, busy),
        ("sub", Role.SUBCENTRE_DISPATCHER, Unit.objects.get(code="sub-t0")),
    ):
        user = users.create_user(username=username, password="bench-only")  # noqa: S106
        Profile.objects.create(user=user, role=role, unit=unit)


# --- the load ------------------------------------------------------------------------------


def _extra_not_null(table: str, known: set[str]) -> list[tuple[str, str]]:
    """Columns other engineers may add later, NOT NULL without a default: filled with a
    zero value of their type so that the load keeps working."""
    rows = sql(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = %s AND is_nullable = 'NO' AND column_default IS NULL "
        "AND is_identity = 'NO'",
        [table],
    )
    zero = {
        "text": "''",
        "character varying": "''",
        "integer": "0",
        "bigint": "0",
        "smallint": "0",
        "double precision": "0",
        "numeric": "0",
        "boolean": "false",
        "jsonb": "'{}'::jsonb",
        "timestamp with time zone": "p.created",
        "date": "p.created::date",
    }
    return [(c, zero.get(t, "''")) for c, t in rows if c not in known]


def secondary_indexes(tables: tuple[str, ...]) -> list[tuple[str, str]]:
    return sql(
        "SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x "
        "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
        "WHERE t.relname = ANY(%s) AND NOT x.indisunique AND NOT x.indisprimary",
        [list(tables)],
    )


PLAN = """
CREATE UNLOGGED TABLE bench_rand AS
SELECT i, %(t0)s::timestamptz + ((i - %(lo)s)::float8 / %(count)s) * %(span)s * interval '1 second'
         AS created,
       random() AS r_ch, random() AS r_m, random() AS r_v, random() AS r_own,
       random() AS r_sign, random() AS r_disp, random() AS r_fb, random() AS r_close,
       random() AS r_rated, random() AS r_rating, random() AS r_ret, random() AS r_retd,
       random() AS r_reo, random() AS r_urg
FROM generate_series(%(lo)s, %(hi)s) AS i;

CREATE UNLOGGED TABLE bench_plan AS
SELECT r.i AS id, r.created,
       CASE WHEN r.r_ch < .45 THEN 'hotline' WHEN r.r_ch < .60 THEN 'app'
            WHEN r.r_ch < .80 THEN 'grid' WHEN r.r_ch < .85 THEN '110'
            WHEN r.r_ch < .90 THEN 'rider' WHEN r.r_ch < .95 THEN 'enterprise'
            ELSE 'sensor' END AS channel,
       m.id AS matter_id, m.resolve_days, v.place AS place_id, v.town AS town_id,
       COALESCE(m.dept, CASE WHEN r.r_own < .8 THEN v.unit ELSE v.sub END) AS owner,
       d.id AS wrong, r.r_ret < .03 AS returned, -ln(1 - r.r_retd) * 90 AS ret_s,
       r.r_urg < .05 AS urgent,
       -ln(1 - r.r_sign) * 35 AS sign_s, -ln(1 - r.r_disp) * 150 AS disp_s,
       -ln(1 - r.r_fb) * 28800 AS fb_s, -ln(1 - r.r_close) * 86400 AS close_s,
       r.r_rated < .85 AS rated,
       CASE WHEN r.r_rating < .7 THEN 'satisfied' WHEN r.r_rating < .9
            THEN 'basically_satisfied' ELSE 'unsatisfied' END AS rating,
       r.r_rated < .85 AND r.r_rating >= .9 AND r.r_reo < .33 AS reopened
FROM bench_rand r
JOIN bench_matter m ON m.k = CASE WHEN r.r_ch >= .95 THEN %(sensor)s
                                  ELSE least(%(matters)s - 1, floor(%(matters)s * r.r_m * r.r_m)::int) END
JOIN bench_village v ON v.v = least(%(villages)s - 1, floor(%(villages)s * r.r_v)::int)
JOIN bench_dept d ON d.j = (m.k + 1) %% %(depts)s;

CREATE UNLOGGED TABLE bench_t AS
SELECT p.*, ou.code AS owner_code, wu.code AS wrong_code,
       p.created + CASE WHEN p.returned THEN p.ret_s ELSE 0 END * interval '1 second' AS a0
FROM bench_plan p JOIN accounts_unit ou ON ou.id = p.owner JOIN accounts_unit wu ON wu.id = p.wrong;

CREATE UNLOGGED TABLE bench_times AS
SELECT t.*, s1, d1, f1, r1, c1, c1 + interval '1 hour' AS o1
FROM bench_t t,
LATERAL (SELECT t.a0 + t.sign_s * interval '1 second' AS s1) a,
LATERAL (SELECT s1 + t.disp_s * interval '1 second' AS d1) b,
LATERAL (SELECT d1 + t.fb_s * interval '1 second' AS f1) c,
LATERAL (SELECT f1 + t.close_s * 0.5 * interval '1 second' AS r1,
                f1 + t.close_s * interval '1 second' AS c1) e;
"""

CASES = """
INSERT INTO cases_case (id, number, channel, text, title, matter_id, address, place_id, town_id,
  requester_name, requester_phone, urgent, state, owner_unit_id, dispatched_people,
  feedback_text, rating, rating_note, extension_reason, supervision_count, reopen_count,
  public_token, created_at, updated_at, closed_at, version{extra_cols})
SELECT p.id, 'MB' || lpad(p.id::text, 12, '0'), p.channel, '基准工单', '基准工单', p.matter_id, '',
  p.place_id, p.town_id, '', '', p.urgent,
  CASE WHEN p.c1 <= %(now)s THEN 'closed' WHEN p.f1 <= %(now)s THEN 'feedback'
       WHEN p.d1 <= %(now)s THEN 'dispatched' WHEN p.s1 <= %(now)s THEN 'signed'
       ELSE 'assigned' END,
  p.owner, '[]'::jsonb, '',
  CASE WHEN p.rated AND p.r1 <= %(now)s AND NOT p.reopened THEN p.rating ELSE '' END, '', '', 0,
  CASE WHEN p.reopened AND p.o1 <= %(now)s THEN 1 ELSE 0 END,
  md5(p.id::text), p.created, least(p.c1, %(now)s),
  CASE WHEN p.c1 <= %(now)s THEN p.c1 END, 1{extra_vals}
FROM bench_times p;
"""

# (name, unit, started, due, met, stopped, condition)
CLOCKS = [
    ("'sign'", "p.wrong", "p.created", "p.created + interval '1 minute'", "NULL", "p.a0", "p.returned"),
    ("'sign'", "p.owner", "p.a0", "p.a0 + interval '1 minute'", "p.s1", "NULL", "true"),
    ("'dispatch'", "p.owner", "p.s1", "p.s1 + interval '5 minutes'", "p.d1", "NULL", "true"),
    ("'feedback'", "p.owner", "p.created", "p.created + interval '24 hours'", "p.f1", "NULL", "true"),
    (
        "'resolve'",
        "p.owner",
        "p.created",
        "p.created + CASE WHEN p.urgent THEN interval '24 hours' "
        "ELSE p.resolve_days * interval '33.6 hours' END",
        "p.c1",
        "NULL",
        "true",
    ),
    (
        "'response'",
        "p.owner",
        "p.created",
        "p.created + interval '15 minutes'",
        "p.s1",
        "NULL",
        "p.channel = 'sensor'",
    ),
    # Reopened after an unsatisfied rating: fresh sign, feedback and resolve clocks.
    (
        "'sign'",
        "p.owner",
        "p.o1",
        "p.o1 + interval '1 minute'",
        "p.o1 + p.sign_s * interval '1 second'",
        "NULL",
        "p.reopened",
    ),
    (
        "'feedback'",
        "p.owner",
        "p.o1",
        "p.o1 + interval '24 hours'",
        "p.o1 + p.fb_s * interval '1 second'",
        "NULL",
        "p.reopened",
    ),
    (
        "'resolve'",
        "p.owner",
        "p.o1",
        "p.o1 + p.resolve_days * interval '33.6 hours'",
        "p.o1 + p.close_s * interval '1 second'",
        "NULL",
        "p.reopened",
    ),
]

# (action, at, actor unit, data, condition)
EVENTS = [
    ("'accept'", "p.created", "NULL", "jsonb_build_object('channel', p.channel)", "true"),
    (
        "'assign'",
        "p.created",
        "NULL",
        "jsonb_build_object('unit', CASE WHEN p.returned THEN p.wrong_code ELSE p.owner_code END)",
        "true",
    ),
    ("'return'", "p.a0", "p.wrong", "jsonb_build_object('returned_by', p.wrong_code)", "p.returned"),
    ("'assign'", "p.a0", "NULL", "jsonb_build_object('unit', p.owner_code)", "p.returned"),
    ("'sign'", "p.s1", "p.owner", "'{}'::jsonb", "true"),
    ("'dispatch'", "p.d1", "p.owner", "'{}'::jsonb", "true"),
    ("'handle'", "p.d1 + p.fb_s * 0.5 * interval '1 second'", "p.owner", "'{}'::jsonb", "true"),
    ("'feedback'", "p.f1", "p.owner", "'{}'::jsonb", "true"),
    ("'rate'", "p.r1", "NULL", "jsonb_build_object('rating', p.rating)", "p.rated"),
    ("'close'", "p.c1", "NULL", "'{}'::jsonb", "true"),
    ("'reopen'", "p.o1", "NULL", "'{}'::jsonb", "p.reopened"),
    ("'feedback'", "p.o1 + p.fb_s * interval '1 second'", "p.owner", "'{}'::jsonb", "p.reopened"),
    ("'close'", "p.o1 + p.close_s * interval '1 second'", "NULL", "'{}'::jsonb", "p.reopened"),
]


def load(n: int) -> dict[str, float]:
    """Generate ``n`` cases month by month; returns seconds spent per phase."""
    spent: dict[str, float] = {}
    tables = ("cases_case", "cases_caseclock", "cases_caseevent")
    indexes = secondary_indexes(tables)
    sql("SET session_replication_role = replica")  # no FK or append-only triggers while loading
    sql("SET maintenance_work_mem = '1GB'")
    for name, _ddl in indexes:
        sql(f'DROP INDEX "{name}"')
    known = {
        "id",
        "number",
        "channel",
        "text",
        "title",
        "matter_id",
        "address",
        "place_id",
        "town_id",
        "requester_name",
        "requester_phone",
        "urgent",
        "state",
        "owner_unit_id",
        "dispatched_people",
        "feedback_text",
        "rating",
        "rating_note",
        "extension_reason",
        "supervision_count",
        "reopen_count",
        "public_token",
        "created_at",
        "updated_at",
        "closed_at",
        "version",
    }
    extra = _extra_not_null("cases_case", known)
    cases_sql = CASES.format(
        extra_cols="".join(f", {c}" for c, _ in extra), extra_vals="".join(f", {v}" for _, v in extra)
    )
    clock_known = {
        "id",
        "case_id",
        "name",
        "unit_id",
        "started_at",
        "due_at",
        "warn_at",
        "met_at",
        "stopped_at",
        "warned_at",
        "breached_at",
    }
    clock_extra = _extra_not_null("cases_caseclock", clock_known)
    event_known = {
        "id",
        "case_id",
        "at",
        "action",
        "actor_id",
        "actor_label",
        "actor_unit_id",
        "from_state",
        "to_state",
        "note",
        "data",
    }
    event_extra = _extra_not_null("cases_caseevent", event_known)
    span = (NOW - T0).total_seconds()
    months = []
    m = T0
    while m < NOW:
        nxt = (m.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        months.append((m, min(nxt, NOW)))
        m = nxt
    lo = 1
    for i, (start, end) in enumerate(months):
        hi = round(n * (end - T0).total_seconds() / span)
        if hi < lo:
            continue
        t = time.perf_counter()
        sql("SELECT setseed(%s)", [(i + 1) / (len(months) + 2)])
        for stmt in ("bench_rand", "bench_plan", "bench_t", "bench_times"):
            sql(f"DROP TABLE IF EXISTS {stmt}")
        sql(
            PLAN,
            {
                "t0": start,
                "lo": lo,
                "hi": hi,
                "count": hi - lo + 1,
                "span": (end - start).total_seconds(),
                "sensor": SENSOR_MATTER,
                "matters": MATTERS,
                "villages": TOWNS * VILLAGES,
                "depts": DEPARTMENTS,
            },
        )
        sql(cases_sql, {"now": NOW})
        for name, unit, started, due, met, stopped, cond in CLOCKS:
            cols = "".join(f", {c}" for c, _ in clock_extra)
            vals = "".join(f", {v}" for _, v in clock_extra)
            sql(
                f"""
                INSERT INTO cases_caseclock (case_id, name, unit_id, started_at, due_at, warn_at,
                                             met_at, stopped_at, warned_at, breached_at{cols})
                SELECT p.id, {name}, {unit}, s, d, s + (d - s) * 0.8,
                       CASE WHEN mt <= %(now)s THEN mt END,
                       CASE WHEN st <= %(now)s THEN st END, NULL,
                       CASE WHEN d <= %(now)s AND (mt IS NULL OR mt > d)
                                 AND (st IS NULL OR st > d) THEN d END{vals}
                FROM bench_times p,
                LATERAL (SELECT {started} AS s, {due} AS d, ({met})::timestamptz AS mt,
                                ({stopped})::timestamptz AS st) x
                WHERE {cond} AND s <= %(now)s
            """,
                {"now": NOW},
            )
        for action, at, unit, data, cond in EVENTS:
            cols = "".join(f", {c}" for c, _ in event_extra)
            vals = "".join(f", {v}" for _, v in event_extra)
            sql(
                f"""
                INSERT INTO cases_caseevent (case_id, at, action, actor_id, actor_label,
                                             actor_unit_id, from_state, to_state, note, data{cols})
                SELECT p.id, a, {action}, NULL, '', {unit}, '', '', '', {data}{vals}
                FROM bench_times p, LATERAL (SELECT {at} AS a) x
                WHERE {cond} AND a <= %(now)s
            """,
                {"now": NOW},
            )
        log(f"  {start:%Y-%m}: cases {lo:,}–{hi:,} in {time.perf_counter() - t:.1f} s")
        lo = hi + 1
    for stmt in ("bench_rand", "bench_plan", "bench_t", "bench_times"):
        sql(f"DROP TABLE IF EXISTS {stmt}")
    sql("SELECT setval(pg_get_serial_sequence('cases_case', 'id'), (SELECT max(id) FROM cases_case))")
    sql("SET session_replication_role = origin")
    t = time.perf_counter()
    for name, ddl in indexes:
        sql(ddl)
        log(f"  index {name} rebuilt")
    spent["indexes"] = time.perf_counter() - t
    t = time.perf_counter()
    for table in tables:
        sql(f"VACUUM ANALYZE {table}")
    spent["vacuum"] = time.perf_counter() - t
    return spent


# --- timing --------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p * (len(values) - 1))))
    return values[k]


def time_report(actor: Any, filters: Any, runs: int, parallel: bool | None = None) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from minsheng.stats.report import build_report
    from minsheng.stats.table import table_rows

    for _ in range(2):
        table_rows(build_report(actor, filters, NOW, parallel=parallel))
    took = []
    for _ in range(runs):
        t = time.perf_counter()
        report = build_report(actor, filters, NOW, parallel=parallel)
        table_rows(report)
        took.append((time.perf_counter() - t) * 1000)
    with CaptureQueriesContext(connection) as ctx:  # this connection's queries only
        report = build_report(actor, filters, NOW, parallel=parallel)
    sign = report.total.figure("sign")
    return {
        "p50_ms": round(statistics.median(took), 1),
        "p99_ms": round(percentile(took, 0.99), 1),
        "queries": len(ctx.captured_queries),
        "rows": len(report.rows),
        "sign": f"{sign.numerator}/{sign.denominator}",
        "terms": len(report.rolled),
        "rolled": [f"{'+' if s > 0 else '-'}{g}:{p}" for s, g, p in report.rolled][:6],
        "live_from": str(report.live_from) if report.live_from else None,
    }


def time_page(username: str, params: dict[str, str], runs: int) -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    took = []
    for i in range(runs + 2):
        t = time.perf_counter()
        response = client.get("/stats/", params)
        if i >= 2:
            took.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200, response.status_code
    return {"p50_ms": round(statistics.median(took), 1), "p99_ms": round(percentile(took, 0.99), 1)}


def scenarios() -> tuple[list[tuple[str, str, Any]], Any]:
    from minsheng.accounts.actors import Actor
    from minsheng.accounts.models import Unit
    from minsheng.catalog.models import Matter
    from minsheng.places.models import Place
    from minsheng.stats.measures import Filters

    def actor(username: str) -> Actor:
        from django.contrib.auth import get_user_model

        return Actor.of(get_user_model().objects.select_related("profile__unit").get(username=username))

    d = dt.date
    busy = Unit.objects.get(code="d00").pk
    town = Place.objects.get(code="t0").pk
    return [
        ("whole city, calendar 2025", "leader", Filters(d(2025, 1, 1), d(2025, 12, 31))),
        ("whole city, last 365 days incl. today", "leader", Filters(d(2025, 1, 2), d(2026, 1, 1))),
        ("one unit, December", "leader", Filters(d(2025, 12, 1), d(2025, 12, 31), unit=busy)),
        ("one unit, December, as its handler", "handler", Filters(d(2025, 12, 1), d(2025, 12, 31))),
        ("one town, Q4", "leader", Filters(d(2025, 10, 1), d(2025, 12, 31), town=town)),
        ("one town, Q4, as its sub-centre", "sub", Filters(d(2025, 10, 1), d(2025, 12, 31))),
        ("whole city, today (live only)", "leader", Filters(d(2026, 1, 1), d(2026, 1, 1))),
        (
            "town + matter + channel, 2025",
            "leader",
            Filters(
                d(2025, 1, 1),
                d(2025, 12, 31),
                town=town,
                matter=Matter.objects.get(code="m000").pk,
                channel="hotline",
            ),
        ),
    ], actor


def simulate_activity(k: int = 250) -> dt.datetime:
    """Five minutes of work on ``k`` open cases picked at random (most are from the last
    few days, some older): their running clocks are met and one event each is written,
    the same columns the named actions write."""
    later = NOW + dt.timedelta(minutes=5)
    sql(
        """
        CREATE UNLOGGED TABLE bench_picked AS
        SELECT id FROM cases_case WHERE state <> 'closed' ORDER BY md5(id::text) LIMIT %s
    """,
        [k],
    )
    sql(
        """
        UPDATE cases_caseclock c SET met_at = %s::timestamptz - interval '1 minute'
        FROM bench_picked p WHERE c.case_id = p.id AND c.met_at IS NULL AND c.stopped_at IS NULL
    """,
        [later],
    )
    sql(
        """
        INSERT INTO cases_caseevent (case_id, at, action, actor_label, from_state, to_state,
                                     note, data)
        SELECT id, %s::timestamptz - interval '1 minute', 'close', '', '', '', '', '{}'::jsonb
        FROM bench_picked
    """,
        [later],
    )
    sql("DROP TABLE bench_picked")
    return later


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = next(
            int(x.split()[1])
            for x in Path("/proc/meminfo").read_text().splitlines()
            if x.startswith("MemTotal")
        )
    except OSError:
        mem = 0
    settings = dict(
        sql(
            "SELECT name, current_setting(name) FROM pg_settings WHERE name IN "
            "('shared_buffers', 'work_mem', 'max_parallel_workers_per_gather', "
            "'effective_cache_size')"
        )
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": round(mem / 1024 / 1024, 1),
        "python": platform.python_version(),
        "postgres": sql("SHOW server_version")[0][0],
        "pg_settings": settings,
    }


def sizes() -> dict[str, Any]:
    out = {}
    for table in ("cases_case", "cases_caseclock", "cases_caseevent", "stats_rollup", "stats_rollupduration"):
        # A table name from the tuple above.
        query = f"SELECT count(*), pg_size_pretty(pg_total_relation_size('{table}')) FROM {table}"
        rows, size = sql(query)[0]
        out[table] = {"rows": rows, "size": size}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--reuse", action="store_true", help="keep the data, time again")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument(
        "--serial",
        action="store_true",
        help="count today after the rollup read, on the same connection "
        "(the page does both side by side on PostgreSQL)",
    )
    parser.add_argument(
        "--today-rollup",
        type=int,
        default=120,
        metavar="SECONDS",
        help="MINSHENG_STATS_TODAY_ROLLUP_S (PostgreSQL's default 120): build "
        "today's rollup (timed) and let the page read it while at most "
        "this old; 0: count today live",
    )
    parser.add_argument(
        "--no-refresh",
        action="store_true",
        help="skip the refresh timings (they write five minutes of activity)",
    )
    args = parser.parse_args()
    results: dict[str, Any] = {"cases_asked": args.cases}

    if not args.reuse:
        log(f"creating the database and loading {args.cases:,} cases")
        recreate_database(args.database_url)
        migrate(args.database_url)
    setup_django(args.database_url)
    from minsheng.core import clock
    from minsheng.stats.rollup import refresh_rollups, rollup_extent

    clock.set_now(NOW)
    results["machine"] = machine()
    if not args.reuse:
        t = time.perf_counter()
        seed_city()
        spent = load(args.cases)
        spent["total_load"] = time.perf_counter() - t
        results["load_s"] = {k: round(v, 1) for k, v in spent.items()}
        log(f"loaded in {spent['total_load']:.0f} s")
        t = time.perf_counter()
        result = refresh_rollups(NOW, rebuild=True)
        results["rollup_build_s"] = round(time.perf_counter() - t, 1)
        results["rollup_build"] = {
            "days": result.days_built,
            "months": result.months_built,
            "years": result.years_built,
        }
        sql("VACUUM ANALYZE stats_rollup")
        sql("VACUUM ANALYZE stats_rollupduration")
        log(f"rollups built in {results['rollup_build_s']} s: {results['rollup_build']}")
    results["sizes"] = sizes()
    extent = rollup_extent()
    results["rollup_extent"] = {k: str(v) for k, v in extent.items()}

    from django.conf import settings

    settings.MINSHENG_STATS_TODAY_ROLLUP_S = args.today_rollup
    results["today_rollup_s"] = args.today_rollup
    if args.today_rollup:
        t = time.perf_counter()
        built = refresh_rollups(NOW)
        results["refresh_building_today_s"] = round(time.perf_counter() - t, 2)
        results["refresh_building_today_days"] = built.days_built
        log(
            f"today's rollup built in {results['refresh_building_today_s']} s "
            f"({built.days_built} days recomputed); the page reads it while at most "
            f"{args.today_rollup} s old"
        )
    plans, actor = scenarios()
    results["load_average_before_timing"] = os.getloadavg()
    results["report"] = {}
    results["today_side_by_side"] = not args.serial
    for label, username, filters in plans:
        r = time_report(actor(username), filters, args.runs, False if args.serial else None)
        results["report"][label] = r
        log(
            f"{label:45s} p50 {r['p50_ms']:7.1f} ms  p99 {r['p99_ms']:7.1f} ms  "
            f"{r['queries']} queries  sign {r['sign']}"
        )
    results["page"] = {
        "leader, calendar 2025": time_page(
            "leader", {"period": "custom", "start": "2025-01-01", "end": "2025-12-31"}, 20
        ),
        "leader, this month (today)": time_page("leader", {"period": "month"}, 20),
        "sub-centre, Q4": time_page(
            "sub", {"period": "custom", "start": "2025-10-01", "end": "2025-12-31"}, 20
        ),
    }
    for label, r in results["page"].items():
        log(f"page {label:40s} p50 {r['p50_ms']:7.1f} ms  p99 {r['p99_ms']:7.1f} ms")

    if args.no_refresh:
        finish(results, args.json)
        return
    t = time.perf_counter()
    nothing = refresh_rollups(NOW)
    results["refresh_nothing_new_s"] = round(time.perf_counter() - t, 2)
    later = simulate_activity()
    clock.set_now(later)
    t = time.perf_counter()
    touched = refresh_rollups(later)
    results["refresh_after_5_min_s"] = round(time.perf_counter() - t, 2)
    results["refresh_after_5_min_days"] = touched.days_built
    results["refresh_after_5_min_months"] = touched.months_built
    log(
        f"refresh with nothing new: {results['refresh_nothing_new_s']} s "
        f"({nothing.days_built} days); after 5 minutes of activity on 250 cases: "
        f"{results['refresh_after_5_min_s']} s ({touched.days_built} days, "
        f"{touched.months_built} months rebuilt)"
    )
    finish(results, args.json)


def finish(results: dict[str, Any], path: str | None) -> None:
    text = json.dumps(results, indent=2, ensure_ascii=False, default=str)
    print(text)
    if path:
        Path(path).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
