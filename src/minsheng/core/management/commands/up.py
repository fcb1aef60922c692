"""``minsheng up``: everything the embedded default needs, in one command.

Starts the web server and the background worker as child processes, prints what it
started, and stops them all when one of them stops or on Ctrl-C.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the web app and run the background worker together (the embedded default)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-worker", action="store_true")

    def _children(self, host: str, port: int, worker: bool) -> list[tuple[str, list[str]]]:
        me = [sys.executable, "-m", "minsheng"]
        out = [("web", [*me, "serve", "--host", host, "--port", str(port)])]
        if worker:
            out.append(("worker", [*me, "worker"]))
        return out

    def handle(self, *args, host: str, port: int, no_worker: bool, **options):
        procs: list[tuple[str, subprocess.Popen]] = []
        for name, cmd in self._children(host, port, not no_worker):
            procs.append((name, subprocess.Popen(cmd)))  # noqa: S603  (our own entry point)
            self.stdout.write(f"started {name} (pid {procs[-1][1].pid})")
        self.stdout.write(f"Minsheng is up: http://{host}:{port}/  (Ctrl-C stops it)")

        def stop(*_args):
            for _name, p in procs:
                if p.poll() is None:
                    p.terminate()
            for _name, p in procs:
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()

        signal.signal(signal.SIGTERM, lambda *a: (stop(), sys.exit(0)))
        try:
            while all(p.poll() is None for _n, p in procs):
                time.sleep(0.5)
            dead = [n for n, p in procs if p.poll() is not None]
            self.stderr.write(f"{', '.join(dead)} stopped; stopping the rest")
        except KeyboardInterrupt:
            pass
        finally:
            stop()
