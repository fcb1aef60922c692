"""Callers' numbers as personal data (issue 14): what encrypting them costs.

    python bench/calls_personal_data.py        # BENCH_CALLS=50000; DATABASE_URL for PostgreSQL

On a fresh database (a temporary SQLite file unless ``DATABASE_URL`` names one, which must be
empty: every table is created by migrating): BENCH_CALLS calls in plain text at migration
calls 0002, then

1. migration 0003 (encrypts every number in place, 2,000 a batch);
2. the worker's retention pass over calls when nothing is due (it runs every pass);
3. finding calls by number through the keyed hash;
4. erasing every number once the period has passed.

Not a test: numbers go to docs/PERFORMANCE.md.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

CALLS = int(os.environ.get("BENCH_CALLS", "50000"))
PASSES = 100


def main() -> None:
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minsheng.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor
    from django.test.utils import override_settings

    before = [("calls", "0002_seed_callback_template")]
    after = [("calls", "0003_caller_numbers_encrypted")]

    def migrate(target):
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(target)
        return executor.loader.project_state(target).apps

    call_command("migrate", verbosity=0)
    old = migrate(before).get_model("calls", "Call")
    at = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    old.objects.bulk_create(
        [
            old(
                call_id=f"b{i}",
                caller=f"138{i:08d}",
                state="ended",
                created_at=at,
                updated_at=at,
                ended_at=at,
            )
            for i in range(CALLS)
        ],
        batch_size=5000,
    )
    t = time.perf_counter()
    migrate(after)
    print(f"{connection.vendor}, {CALLS} calls")
    print(f"  migration 0003 (encrypt in place): {time.perf_counter() - t:.1f} s")
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE calls_call")

    from minsheng.calls import retention
    from minsheng.calls.models import Call

    with override_settings(MINSHENG_PERSONAL_DATA_DAYS=365):
        soon = at + dt.timedelta(days=100)
        t = time.perf_counter()
        for _ in range(PASSES):
            retention.erase_due(soon)
        print(f"  retention pass, nothing due: {(time.perf_counter() - t) * 1000 / PASSES:.2f} ms")
        t = time.perf_counter()
        for i in range(PASSES):
            assert Call.objects.filter(caller=f"138{i * 7:08d}").exists()
        print(f"  a call found by number: {(time.perf_counter() - t) * 1000 / PASSES:.2f} ms")
        t = time.perf_counter()
        erased, _callbacks = retention.erase_due(at + dt.timedelta(days=400))
        print(f"  {erased} numbers erased: {time.perf_counter() - t:.1f} s")


if __name__ == "__main__":
    main()
