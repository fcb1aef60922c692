"""Routing speed: one case classified, placed and checked for duplicates against 100,000
open cases (in process), and intake throughput through the HTTP API with routing on.

    python bench/routing_speed.py                      # SQLite file under var/bench/
    DATABASE_URL=postgresql://postgres@127.0.0.1/minsheng_bench python bench/routing_speed.py

Prints p50/p99 in milliseconds and requests per second. Not a test: numbers go to
docs/PERFORMANCE.md with the machine they were measured on.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OPEN_CASES = int(os.environ.get("BENCH_OPEN_CASES", "100000"))
ROUTED = int(os.environ.get("BENCH_ROUTED", "2000"))
HTTP_REQUESTS = int(os.environ.get("BENCH_HTTP_REQUESTS", "600"))
HTTP_THREADS = 4

if not os.environ.get("DATABASE_URL"):
    (ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{ROOT / 'var' / 'bench' / 'routing.sqlite3'}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minsheng.settings")
os.environ.setdefault("MINSHENG_MODEL_DIR", str(ROOT / "var" / "bench" / "models"))

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from minsheng.cases.intake import categorise, decide, place_case  # noqa: E402
from minsheng.cases.models import Case  # noqa: E402
from minsheng.cases.states import State  # noqa: E402
from minsheng.catalog.models import Matter  # noqa: E402
from minsheng.classify.model import load_corpus  # noqa: E402
from minsheng.core import clock  # noqa: E402
from minsheng.places.queries import locator  # noqa: E402


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def random_point(rng: random.Random) -> tuple[float, float]:
    loc = locator()
    min_lat, min_lng, max_lat, max_lng = loc.bounds
    while True:
        lat, lng = rng.uniform(min_lat, max_lat), rng.uniform(min_lng, max_lng)
        if loc.locate(lat, lng) is not None:
            return lat, lng


def setup() -> None:
    call_command("migrate", verbosity=0)
    call_command("loaddemo", "--quiet-accounts", verbosity=0)
    have = Case.objects.exclude(state=State.CLOSED).count()
    if have >= OPEN_CASES:
        return
    rng = random.Random(7)
    matters = {m.code: m for m in Matter.objects.all()}
    corpus = [r for r in load_corpus("train") if r["code"] in matters]
    now = clock.now()
    batch = []
    print(f"inserting {OPEN_CASES - have} open cases…", flush=True)
    for i in range(have, OPEN_CASES):
        row = corpus[i % len(corpus)]
        lat, lng = random_point(rng)
        at = now - dt.timedelta(minutes=rng.uniform(0, 72 * 60))
        batch.append(
            Case(
                number=f"BENCH{i:010d}",
                channel="hotline",
                text=row["text"],
                title=row["text"][:40],
                matter=matters[row["code"]],
                lat=lat,
                lng=lng,
                state=State.ASSIGNED,
                created_at=at,
                updated_at=at,
            )
        )
        if len(batch) == 5000:
            Case.objects.bulk_create(batch)
            batch = []
    Case.objects.bulk_create(batch)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE cases_case")


def bench_routing() -> dict:
    rng = random.Random(11)
    texts = [r["text"] for r in load_corpus("heldout")]
    categorise(Case(text=texts[0]), None)  # load the model once, outside the timing
    samples = []
    found_dups = 0
    now = clock.now()
    for i in range(ROUTED):
        lat, lng = random_point(rng)
        case = Case(text=texts[i % len(texts)], lat=lat, lng=lng, created_at=now, channel="app")
        t0 = time.perf_counter()
        place = place_case(case)
        decision = categorise(case, None)
        case.matter = Matter.objects.filter(code=decision.code).first() if decision.code else None
        decide(case, decision, place.get("reason"))
        samples.append((time.perf_counter() - t0) * 1000)
        found_dups += bool(decision.duplicates)
    return {
        "p50_ms": round(pct(samples, 0.5), 2),
        "p99_ms": round(pct(samples, 0.99), 2),
        "mean_ms": round(statistics.mean(samples), 2),
        "routed": ROUTED,
        "with_duplicate_candidates": found_dups,
    }


def bench_http() -> dict:
    from django.contrib.auth import get_user_model

    from minsheng.accounts.actions import create_token

    token = create_token(get_user_model().objects.get(username="operator"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ)
    server = subprocess.Popen(
        [sys.executable, "-m", "minsheng", "serve", "--port", str(port), "--workers", "2", "--threads", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/api/v1/cases"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        texts = [r["text"] for r in load_corpus("heldout")]
        rng = random.Random(5)
        points = [random_point(rng) for _ in range(HTTP_REQUESTS)]
        latencies: list[float] = []
        errors = [0]
        lock = threading.Lock()
        counter = iter(range(HTTP_REQUESTS))

        def worker():
            for i in counter:
                body = json.dumps(
                    {
                        "channel": "app",
                        "text": texts[i % len(texts)],
                        "lat": points[i][0],
                        "lng": points[i][1],
                    }
                ).encode()
                req = urllib.request.Request(
                    url,
                    body,
                    method="POST",
                    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                )
                t0 = time.perf_counter()
                try:
                    urllib.request.urlopen(req, timeout=30).read()
                except Exception:
                    with lock:
                        errors[0] += 1
                    continue
                with lock:
                    latencies.append((time.perf_counter() - t0) * 1000)

        # warm both gunicorn workers (model load) before timing
        for i in range(4):
            urllib.request.urlopen(
                urllib.request.Request(
                    url,
                    json.dumps({"channel": "app", "text": texts[i]}).encode(),
                    method="POST",
                    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                ),
                timeout=60,
            ).read()
        t0 = time.perf_counter()
        threads = [threading.Thread(target=worker) for _ in range(HTTP_THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        return {
            "requests": HTTP_REQUESTS,
            "errors": errors[0],
            "per_second": round(len(latencies) / elapsed, 1),
            "p50_ms": round(pct(latencies, 0.5), 1),
            "p99_ms": round(pct(latencies, 0.99), 1),
        }
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    setup()
    print(f"database: {connection.vendor}, open cases: {Case.objects.exclude(state=State.CLOSED).count()}")
    print("routing one case in process:", json.dumps(bench_routing()))
    print("intake over HTTP (gunicorn 2 workers x 2 threads, 4 clients):", json.dumps(bench_http()))
