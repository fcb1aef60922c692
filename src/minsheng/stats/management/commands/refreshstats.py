"""``minsheng refreshstats``: bring the statistics rollups up to date, once or in a loop.

The worker may call ``refresh_rollups`` itself; on a large city, where recomputing a
touched day takes seconds, running this as its own process keeps the clock worker's
passes short.
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.management.base import BaseCommand

from minsheng.core import clock
from minsheng.stats.rollup import refresh_rollups


class Command(BaseCommand):
    help = "Refresh the statistics rollups (once, or every --every seconds)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--every", type=float, default=0, help="repeat every this many seconds (0: once)")
        parser.add_argument(
            "--max-days", type=int, default=None, help="recompute at most this many days per run"
        )
        parser.add_argument(
            "--rebuild", action="store_true", help="forget the rollups and build them from scratch"
        )

    def handle(self, *args: Any, every: float, max_days: int | None, rebuild: bool, **options: Any) -> None:
        stop = threading.Event()
        while True:
            result = refresh_rollups(max_days=max_days, rebuild=rebuild)
            rebuild = False
            self.stdout.write(
                f"{clock.now():%Y-%m-%d %H:%M:%S} days {result.days_built}, "
                f"keys {result.keys_changed}, months {result.months_built}, "
                f"years {result.years_built}, waiting {result.days_waiting}, "
                f"complete through {result.complete_through}"
                + (f" ({result.skipped})" if result.skipped else "")
            )
            if not every or stop.wait(every):
                return
