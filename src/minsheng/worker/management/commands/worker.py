"""``minsheng worker``: clocks that act and the outbox delivered, until stopped."""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand

from minsheng.worker.loop import run_forever, run_pass


class Command(BaseCommand):
    help = "Watch every open clock and deliver notifications. --once: one pass, then exit."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one pass over what is due")
        parser.add_argument("--max-sleep", type=float, default=1.0)
        parser.add_argument("--batch", type=int, default=500, help="clocks per transaction")

    def handle(self, *args, once: bool, max_sleep: float, batch: int, **options):
        if once:
            r = run_pass(limit=batch, rollups=True)
            self.stdout.write(f"warned {r.warned}, breached {r.breached}, delivered {r.delivered}")
            return
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_a: stop.set())
        run_forever(stop, max_sleep=max_sleep, limit=batch)
