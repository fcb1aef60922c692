"""Intake in process, no server: batches through ``accept_cases`` and single creates through
``accept_case``, on the city ``bench/scale.py`` builds (issue #15).

Why: batch intake must reach 1,000 cases a second for partner platforms, 110 transfers and
migrations, and every create should cost little CPU and hold the write lock briefly; the
HTTP server, the token and the JSON are measured by ``bench/scale.py``, not here.

    .venv/bin/python bench/scale.py --skip-intake --skip-lists        # build the 100 k city once
    .venv/bin/python bench/intake_batch.py                             # SQLite file under var/bench/
    DATABASE_URL=postgresql://postgres@127.0.0.1/minsheng_bench .venv/bin/python bench/intake_batch.py

Method: the demo's operator as the actor; bodies as ``bench/scale.py`` sends them (a text of
the classifier's held-out set without its category, a point near a village's centre); one
warm-up batch (the model, the places' index); then ``--rounds`` batches of each size in
``--sizes`` (cases/s by the wall clock, and ms of CPU a case by ``time.process_time``, which
the other processes on a loaded machine do not inflate), then ``--singles`` creates one by
one (ms of CPU and of wall time a create, and SQL statements a create). The cases are
written for real (committed): run it on a copy of the city when the figures are to be
compared run against run. Prints one JSON document with the load average before and after.
Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale import _bodies, database_url, setup_django


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[100, 500])
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--singles", type=int, default=200)
    p.add_argument("--seed", type=int, default=int(time.time()) % 10_000)
    args = p.parse_args()
    database_url()
    load_before = [round(x, 2) for x in os.getloadavg()]
    setup_django()
    from django.contrib.auth import get_user_model
    from django.db import connection

    from minsheng.accounts.actors import Actor
    from minsheng.cases.actions import Intake, accept_cases
    from minsheng.cases.models import Case

    def intakes(n: int, seed: int) -> list[Intake]:
        return [
            Intake(channel=b["channel"], text=b["text"], lat=b["lat"], lng=b["lng"]) for b in _bodies(n, seed)
        ]

    actor = Actor.of(get_user_model().objects.select_related("profile__unit").get(username="operator"))
    accept_cases(actor, intakes(20, args.seed))  # warm-up
    result: dict[str, Any] = {
        "database": connection.vendor,
        "cases": Case.objects.count(),
        "load_average_before": load_before,
        "batches": {},
    }
    seed = args.seed + 1
    for size in args.sizes:
        walls, cpus, routed = [], [], 0
        for _ in range(args.rounds):
            items = intakes(size, seed)
            seed += 1
            w0, c0 = time.perf_counter(), time.process_time()
            got = accept_cases(actor, items)
            walls.append(time.perf_counter() - w0)
            cpus.append(time.process_time() - c0)
            made = [g for g in got if isinstance(g, Case)]
            routed += sum(1 for c in made if c.owner_unit_id is not None)
            assert len(made) == size, [g for g in got if not isinstance(g, Case)][:3]
        result["batches"][str(size)] = {
            "rounds": args.rounds,
            "cases_per_s": round(size * args.rounds / sum(walls), 1),
            "best_cases_per_s": round(size / min(walls), 1),
            "cpu_ms_per_case": round(1000 * sum(cpus) / (size * args.rounds), 3),
            "routed_share": round(routed / (size * args.rounds), 3),
        }
    if args.singles:
        result["single"] = singles(actor, intakes(args.singles + 20, seed), args.singles)
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(result, ensure_ascii=False, indent=1))


def singles(actor: Any, items: list[Any], n: int) -> dict[str, Any]:
    """``n`` creates one by one (ms of CPU and of wall time), then 20 more counting their
    SQL statements."""
    from django.db import connection, reset_queries

    from minsheng.cases.actions import accept_case

    walls, cpus = [], []
    for item in items[:n]:
        w0, c0 = time.perf_counter(), time.process_time()
        accept_case(actor, item)
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    connection.force_debug_cursor = True  # the statements of 20 more, counted apart
    reset_queries()
    for item in items[n:]:
        accept_case(actor, item)
    statements = len(connection.queries) / 20
    connection.force_debug_cursor = False
    walls.sort()
    return {
        "creates": n,
        "cpu_ms_per_create": round(1000 * sum(cpus) / n, 3),
        "wall_ms_p50": round(1000 * walls[len(walls) // 2], 2),
        "statements_per_create": round(statements, 2),
    }


if __name__ == "__main__":
    main()
