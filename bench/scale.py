"""Scale: every list page and list API at a big city's size, and intake per request.

Why: a dispatcher opens the queue hundreds of times a day and partner platforms push cases
in bursts; both must stay fast when the city has a year of cases behind it (issue #15).

    .venv/bin/python bench/scale.py                            # SQLite file under var/bench/
    DATABASE_URL=postgresql://postgres@127.0.0.1/minsheng_bench .venv/bin/python bench/scale.py
    .venv/bin/python bench/scale.py --cases 1000000 --open 250000   # the 1 M city
    .venv/bin/python bench/scale.py --reuse --skip-intake           # lists again, no reload
    .venv/bin/python bench/scale.py --peer      # django-helpdesk after it (bench/helpdesk_peer.py)

Method:

1. the database is emptied and migrated, the demo city loaded (places, units, matters, the
   demo staff), then ``--cases`` cases (default 100,000, ``--open`` of them open, default
   25,000) are written with ``bulk_create``: texts from the classifier's training corpus
   with their matter and owner, spread over the past year (open ones over the past 20
   days), four clocks each (sign and dispatch met; feedback and resolve met when closed,
   running otherwise, so most open cases are overdue: the queue's worst case);
2. every list page and list API is requested through Django's test ``Client`` as a
   signed-in person (the city dispatcher; 住建局's handler for its inbox): two warm-up
   requests, then ``--repeat`` timed ones; p50/p95 in ms and the number of SQL queries;
3. intake per request: a real server (``minsheng serve``, 2 workers × 2 threads unless
   ``--workers`` and ``--threads`` say otherwise) and
   ``--clients`` concurrent clients POSTing ``/api/v1/cases`` with routing on, and the
   batch endpoint (``/api/v1/cases/batch``, 100 a request) when the server has it;
4. the machine's own one-row-transaction ceiling in the same run: 8 clients each
   committing one-row UPDATEs as fast as they can (``pgbench`` on PostgreSQL; 8 Python
   threads on SQLite, WAL, ``synchronous=NORMAL`` as the project's settings), so intake
   reads as a share of what this machine can commit at all.

Prints one JSON document; the figures go into docs/PERFORMANCE.md by hand with the machine.
Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import random
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
STARTED = time.monotonic()


def log(msg: str) -> None:
    print(f"[{time.monotonic() - STARTED:7.1f} s] {msg}", file=sys.stderr, flush=True)


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", type=int, default=100_000)
    p.add_argument("--open", type=int, default=25_000)
    p.add_argument("--reuse", action="store_true", help="keep the database as it is")
    p.add_argument("--repeat", type=int, default=30)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--requests", type=int, default=600)
    p.add_argument("--batches", type=int, default=20, help="batch requests of 100 cases")
    p.add_argument("--skip-lists", action="store_true")
    p.add_argument("--skip-intake", action="store_true")
    p.add_argument("--ceiling-seconds", type=int, default=10)
    p.add_argument("--workers", type=int, default=2, help="the intake server's processes")
    p.add_argument("--threads", type=int, default=2, help="threads in each of them")
    p.add_argument(
        "--peer",
        action="store_true",
        help="then django-helpdesk on the same city and database server (bench/helpdesk_peer.py)",
    )
    return p.parse_args()


# --- database --------------------------------------------------------------------------------


def database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        (ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{ROOT / 'var' / 'bench' / 'scale.sqlite3'}"
        os.environ["DATABASE_URL"] = url
    return url


def recreate(url: str) -> None:
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    name = url.rsplit("/", 1)[1]
    if name in ("test", "postgres", "root"):
        raise SystemExit(f"refusing to drop {name!r}: give a database of the benchmark's own")
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minsheng.settings")
    os.environ.setdefault("MINSHENG_MODEL_DIR", str(ROOT / "var" / "bench" / "models"))
    import django

    django.setup()
    import logging

    logging.getLogger("minsheng").setLevel(logging.WARNING)


# --- the city --------------------------------------------------------------------------------


def build_city(total: int, open_: int) -> None:
    from django.core.management import call_command
    from django.db import connection

    from minsheng.accounts.models import Unit, UnitKind
    from minsheng.cases.models import Case, CaseClock
    from minsheng.cases.states import State
    from minsheng.catalog.models import Matter
    from minsheng.classify.model import load_corpus
    from minsheng.core import clock
    from minsheng.places.models import Place

    call_command("migrate", verbosity=0)
    call_command("loaddemo", "--quiet-accounts", verbosity=0, stdout=sys.stderr)  # stdout is the JSON
    rng = random.Random(15)
    matters = {m.code: m for m in Matter.objects.filter(active=True).select_related("owner_unit")}
    corpus = [r for r in load_corpus("train") if r["code"] in matters]
    subcentres = {u.place_id: u for u in Unit.objects.filter(kind=UnitKind.SUBCENTRE, active=True)}
    places = [p for p in Place.objects.filter(kind__in=("village", "community")).select_related("parent")]
    now = clock.now()
    open_states = [
        (State.ACCEPTED, 3),
        (State.RETURNED, 1),
        (State.ASSIGNED, 10),
        (State.SIGNED, 10),
        (State.DISPATCHED, 20),
        (State.HANDLING, 30),
        (State.FEEDBACK, 16),
        (State.RATED, 10),
    ]
    weights = [w for _, w in open_states]
    log(f"writing {total:,} cases ({open_:,} open)…")
    chunk = 5000
    for start in range(0, total, chunk):
        cases: list[Case] = []
        for i in range(start, min(total, start + chunk)):
            row = corpus[i % len(corpus)]
            matter = matters[row["code"]]
            place = places[i % len(places)]
            is_open = i >= total - open_
            if is_open:
                at = now - dt.timedelta(minutes=rng.uniform(1, 20 * 24 * 60))
                state = rng.choices(open_states, weights)[0][0]
            else:
                at = now - dt.timedelta(minutes=rng.uniform(20 * 24 * 60, 365 * 24 * 60))
                state = State.CLOSED
            owner = matter.owner_unit or subcentres.get(place.parent_id)
            if state in (State.ACCEPTED, State.RETURNED):
                owner = None
            lat = (place.center_lat or 30.7) + rng.uniform(-0.004, 0.004)
            lng = (place.center_lng or 121.0) + rng.uniform(-0.004, 0.004)
            cases.append(
                Case(
                    number=f"BN{i:012d}",
                    channel="hotline",
                    text=row["text"],
                    title=row["text"][:40],
                    matter=matter,
                    lat=lat,
                    lng=lng,
                    place=place,
                    town=place.parent,
                    state=state,
                    owner_unit=owner,
                    urgent=rng.random() < 0.05,
                    created_at=at,
                    updated_at=at + dt.timedelta(minutes=5),
                    closed_at=at + dt.timedelta(days=3) if state == State.CLOSED else None,
                    routing={"code": matter.code, "auto": True},
                )
            )
        Case.objects.bulk_create(cases, batch_size=1000)
        if cases[0].pk is None:  # a backend without RETURNING: read the ids back
            ids = dict(Case.objects.filter(number__in=[c.number for c in cases]).values_list("number", "pk"))
            for c in cases:
                c.pk = ids[c.number]
        clocks: list[CaseClock] = []
        for c in cases:
            closed = c.state == State.CLOSED
            for name, due in (
                ("sign", dt.timedelta(minutes=1)),
                ("dispatch", dt.timedelta(minutes=5)),
                ("feedback", dt.timedelta(hours=24)),
                ("resolve", dt.timedelta(days=7)),
            ):
                met = closed or name in ("sign", "dispatch")
                clocks.append(
                    CaseClock(
                        case_id=c.pk,
                        name=name,
                        unit_id=c.owner_unit_id,
                        started_at=c.created_at,
                        due_at=c.created_at + due,
                        warn_at=c.created_at + due * 0.8,
                        met_at=c.created_at + due * 0.5 if met else None,
                    )
                )
        CaseClock.objects.bulk_create(clocks, batch_size=2000)
        log(f"  {start + len(cases):,}")
    with connection.cursor() as cur:
        # A city's database is vacuumed as it goes (autovacuum): the visibility map lets
        # PostgreSQL count off an index alone, as it would in service.
        cur.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


# --- lists -----------------------------------------------------------------------------------


def list_targets() -> list[tuple[str, str, str]]:
    """(label, user, path): every list page and list API."""
    return [
        ("dispatcher's queue /queue/", "dispatcher", "/queue/"),
        ("queue, breaching tab", "dispatcher", "/queue/?tab=breaching"),
        ("case search /cases/ page 1", "dispatcher", "/cases/"),
        ("case search ?q=窨井", "dispatcher", "/cases/?q=%E7%AA%A8%E4%BA%95"),
        ("case search ?overdue=1", "dispatcher", "/cases/?overdue=1"),
        ("住建局 inbox /inbox/", "zjj", "/inbox/"),
        ("sub-centre queue /queue/ (当湖)", "danghu", "/queue/"),
        ("leader's overview /overview/", "leader", "/overview/"),
        ("GET /api/v1/cases", "dispatcher", "/api/v1/cases"),
        ("GET /api/v1/cases?state=closed", "dispatcher", "/api/v1/cases?state=closed"),
        ("GET /api/v1/cases?overdue=true", "dispatcher", "/api/v1/cases?overdue=true"),
        ("GET /api/v1/cases?q=窨井", "dispatcher", "/api/v1/cases?q=%E7%AA%A8%E4%BA%95"),
        ("GET /api/v1/cases (住建局)", "zjj", "/api/v1/cases"),
        ("GET /api/v1/cases?overdue=true (住建局)", "zjj", "/api/v1/cases?overdue=true"),
        ("case search /cases/ (住建局)", "zjj", "/cases/"),
        ("sub-centre breaching tab (当湖)", "danghu", "/queue/?tab=breaching"),
        ("GET /api/v1/sensors/devices", "dispatcher", "/api/v1/sensors/devices"),
    ]


def bench_lists(repeat: int) -> list[dict[str, Any]]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    users = {u.username: u for u in get_user_model().objects.all()}
    # As `minsheng serve` does before its workers fork: what is loaded so far (here also
    # the objects of building the city) out of the collector's sight, so that a timed
    # request is not the one that walks them all.
    gc.collect()
    gc.freeze()
    out = []
    for label, who, path in list_targets():
        client = Client()
        client.force_login(users[who])
        for _ in range(2):
            r = client.get(path)
        times, cpu, db = [], [], []
        queries = 0
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as ctx:
                t0, c0 = time.perf_counter(), time.process_time()
                r = client.get(path)
                times.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
            queries = len(ctx.captured_queries)
            db.append(sum(float(q["time"]) for q in ctx.captured_queries) * 1000)
        # On a machine shared with other work the wall clock measures the queue for the
        # CPU as much as the page: the process's own CPU time (SQLite's work included, it
        # runs in-process) and the time spent waiting on queries are kept beside it.
        row = {
            "page": label,
            "status": r.status_code,
            "p50_ms": round(pct(times, 0.5), 1),
            "p95_ms": round(pct(times, 0.95), 1),
            "cpu_p50_ms": round(pct(cpu, 0.5), 1),
            "db_p50_ms": round(pct(db, 0.5), 1),
            "queries": queries,
            "kb": round(len(r.content) / 1024, 1),
        }
        log(json.dumps(row, ensure_ascii=False))
        out.append(row)
    return out


# --- intake ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(url: str, token: str, body: Any, timeout: float = 60, scheme: str = "Bearer") -> tuple[int, bytes]:
    req = urllib.request.Request(
        url,
        json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"{scheme} {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _bodies(n: int, seed: int) -> list[dict[str, Any]]:
    from minsheng.classify.model import load_corpus
    from minsheng.places.models import Place

    rng = random.Random(seed)
    texts = [r["text"] for r in load_corpus("heldout")]
    places = list(Place.objects.filter(kind__in=("village", "community")).exclude(center_lat=None))
    out = []
    for i in range(n):
        p = places[rng.randrange(len(places))]
        out.append(
            {
                "channel": "app",
                "text": texts[i % len(texts)],
                "lat": p.center_lat + rng.uniform(-0.002, 0.002),
                "lng": p.center_lng + rng.uniform(-0.002, 0.002),
            }
        )
    return out


def _load(fn, jobs: list[Any], clients: int) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    it = iter(jobs)

    def worker() -> None:
        for job in it:
            t0 = time.perf_counter()
            ok = fn(job)
            ms = (time.perf_counter() - t0) * 1000
            with lock:
                if ok:
                    latencies.append(ms)
                else:
                    errors[0] += 1

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, latencies, errors[0]


def _tree_cpu(root: int) -> float:
    """User + system CPU seconds of a process and its children (Linux /proc; 0 elsewhere)."""
    try:
        pids = [root, *(int(p) for p in Path(f"/proc/{root}/task/{root}/children").read_text().split())]
        return sum(_cpu(pid) for pid in pids)
    except (OSError, ValueError):
        return 0.0


def _cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    except (OSError, ValueError, IndexError):
        return 0.0


def _postgres_cpu() -> float:
    """CPU seconds of this run's PostgreSQL: the backends serving the benchmark's database
    and the server's own processes (WAL writer, checkpointer…), not other databases'
    backends (0 on SQLite)."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("sqlite"):
        return 0.0
    database = url.rsplit("/", 1)[1]
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() != "postgres":
                    continue
                title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            # "postgres: 15/main: user db host(port) …", "… autovacuum worker db"
            client = "(" in title or "[local]" in title or "autovacuum worker" in title
            if not client or f" {database} " in title:
                total += _cpu(int(entry.name))
    return total


class CpuMeter:
    """Where a run's CPU went, per item: the server (app), PostgreSQL's processes (db) and
    this process (the clients); and the rate those figures allow on this machine's cores
    if nothing else ran: the bound the measured rate is to be read against."""

    def __init__(self, server: int):
        self.server = server
        self.start = (_tree_cpu(server), _postgres_cpu(), time.process_time())

    def per_item(self, items: int) -> dict[str, Any]:
        now = (_tree_cpu(self.server), _postgres_cpu(), time.process_time())
        app, db, client = ((b - a) * 1000 / max(items, 1) for a, b in zip(self.start, now, strict=True))
        total = app + db + client
        cpus = os.cpu_count() or 1
        return {
            "cpu_ms_each": {"app": round(app, 2), "db": round(db, 2), "clients": round(client, 2)},
            "cpu_bound_per_second": round(cpus * 1000 / total, 1) if total else None,
        }


def bench_intake(
    clients: int, requests: int, batches: int, workers: int = 2, threads: int = 2
) -> dict[str, Any]:
    from django.contrib.auth import get_user_model

    from minsheng.accounts.actions import create_token

    token = create_token(get_user_model().objects.get(username="operator"))
    port = _free_port()
    shape = ("--workers", str(workers), "--threads", str(threads))
    server = subprocess.Popen(
        [sys.executable, "-m", "minsheng", "serve", "--port", str(port), *shape],
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/api/v1/cases"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        for body in _bodies(8, 1):  # load the model in both workers
            _post(base, token, body)
        bodies = _bodies(requests, 2)
        meter = CpuMeter(server.pid)
        elapsed, lat, errors = _load(lambda b: _post(base, token, b)[0] == 201, bodies, clients)
        single = {
            "requests": requests,
            "clients": clients,
            "errors": errors,
            "per_second": round(len(lat) / elapsed, 1),
            "p50_ms": round(pct(lat, 0.5), 1),
            "p95_ms": round(pct(lat, 0.95), 1),
            **meter.per_item(len(lat)),
        }
        log(f"intake per request: {single}")
        result: dict[str, Any] = {"per_request": single}
        status, _ = _post(f"{base}/batch", token, {"cases": []})
        if status == 200 and batches:
            chunks = [{"cases": _bodies(100, 100 + k)} for k in range(batches)]

            def one(chunk: dict) -> bool:
                code, raw = _post(f"{base}/batch", token, chunk, timeout=120)
                return code == 200 and all(r["status"] == 201 for r in json.loads(raw)["results"])

            # As many batches at once as the server has threads (2 workers x 2 threads).
            meter = CpuMeter(server.pid)
            elapsed, lat, errors = _load(one, chunks, 4)
            result["batch"] = {
                **meter.per_item(len(lat) * 100),
                "requests": batches,
                "cases_each": 100,
                "clients": 4,
                "errors": errors,
                "cases_per_second": round(len(lat) * 100 / elapsed, 1),
                "p50_ms": round(pct(lat, 0.5), 1) if lat else None,
            }
            log(f"intake in batches: {result['batch']}")
        return result
    finally:
        server.terminate()
        server.wait(timeout=20)


# --- the machine's own ceiling ---------------------------------------------------------------


def ceiling_postgres(url: str, seconds: int) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_ceiling")
        conn.execute("CREATE TABLE bench_ceiling (id int PRIMARY KEY, n bigint NOT NULL DEFAULT 0)")
        conn.execute("INSERT INTO bench_ceiling (id) SELECT generate_series(1, 100000)")
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write("\\set id random(1, 100000)\nUPDATE bench_ceiling SET n = n + 1 WHERE id = :id;\n")
        script = f.name
    try:
        out = subprocess.run(
            ["pgbench", "-n", "-c", "8", "-j", "2", "-T", str(seconds), "-f", script, url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP TABLE IF EXISTS bench_ceiling")
    tps = next(float(line.split("=")[1].split()[0]) for line in out.splitlines() if line.startswith("tps"))
    return {"tool": "pgbench -c 8 -j 2, one-row UPDATE per transaction", "tps": round(tps)}


def ceiling_sqlite(seconds: int) -> dict[str, Any]:
    path = ROOT / "var" / "bench" / "ceiling.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    conn.executescript(
        "PRAGMA journal_mode=WAL; CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL DEFAULT 0);"
    )
    conn.executemany("INSERT INTO t (id) VALUES (?)", [(i,) for i in range(1, 100_001)])
    conn.commit()
    conn.close()
    done = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(seed: int) -> None:
        rng = random.Random(seed)
        c = sqlite3.connect(path, timeout=30, isolation_level=None)
        c.execute("PRAGMA synchronous=NORMAL")
        n = 0
        while time.monotonic() < stop:
            c.execute("BEGIN IMMEDIATE")
            c.execute("UPDATE t SET n = n + 1 WHERE id = ?", (rng.randint(1, 100_000),))
            c.execute("COMMIT")
            n += 1
        with lock:
            done[0] += n
        c.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    tool = "8 Python threads, BEGIN IMMEDIATE + one-row UPDATE + COMMIT"
    return {"tool": tool, "tps": round(done[0] / seconds)}


# --- the peer --------------------------------------------------------------------------------


def run_peer(args: argparse.Namespace, url: str) -> dict[str, Any]:
    """bench/helpdesk_peer.py with this run's sizes and options, on the same kind of database
    (PostgreSQL: a database of its own, helpdesk_bench, on the same server); its JSON."""
    cmd = [
        sys.executable,
        str(ROOT / "bench" / "helpdesk_peer.py"),
        *("--tickets", str(args.cases), "--open", str(args.open), "--repeat", str(args.repeat)),
        *("--clients", str(args.clients), "--requests", str(args.requests)),
        *("--workers", str(args.workers), "--threads", str(args.threads)),  # the same server shape
    ]
    if not url.startswith("sqlite"):
        cmd += ["--database-url", url.rsplit("/", 1)[0] + "/helpdesk_bench"]
    for flag in ("reuse", "skip_lists", "skip_intake"):
        if getattr(args, flag):
            cmd.append("--" + flag.replace("_", "-"))
    log("the peer: " + " ".join(cmd[1:]))
    out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True).stdout
    return json.loads(out)


# --- main ------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    args = parse_args()
    url = database_url()
    if not args.reuse:
        recreate(url)
    setup_django()
    from django.db import connection

    from minsheng.cases.models import Case
    from minsheng.cases.states import State

    if not args.reuse:
        t0 = time.perf_counter()
        build_city(args.cases, args.open)
        log(f"city built in {time.perf_counter() - t0:.0f} s")
    result: dict[str, Any] = {
        "database": connection.vendor,
        "cases": Case.objects.count(),
        "open": Case.objects.exclude(state=State.CLOSED).count(),
        "machine": machine(),
    }
    if not args.skip_lists:
        result["lists"] = bench_lists(args.repeat)
    if not args.skip_intake:
        result["intake"] = bench_intake(args.clients, args.requests, args.batches, args.workers, args.threads)
        if connection.vendor == "postgresql":
            result["ceiling"] = ceiling_postgres(url, args.ceiling_seconds)
        else:
            result["ceiling"] = ceiling_sqlite(args.ceiling_seconds)
        per_s = result["intake"]["per_request"]["per_second"]
        result["intake_share_of_ceiling"] = round(per_s / result["ceiling"]["tps"], 4)
    result["machine"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    if args.peer:
        result["peer"] = run_peer(args, url)
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
