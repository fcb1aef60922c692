"""``minsheng up``: everything the embedded default needs, in one command.

Starts the web server, the background worker (clocks and notifications), the sensor ingest
(the city's broker when ``MQTT_URL`` is set, else an embedded one) and a simulator playing
the demo's devices, as child processes; prints what it started; and stops them all when one
of them stops or on Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.core.management.base import BaseCommand

from minsheng.core import clock


class Command(BaseCommand):
    help = "Serve the web app and run the background worker together (the embedded default)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-worker", action="store_true")
        parser.add_argument(
            "--no-sensors", action="store_true", help="neither the sensor ingest nor the device simulator"
        )
        parser.add_argument(
            "--no-simulator", action="store_true", help="ingest sensors but do not simulate the demo devices"
        )

    def _children(
        self, host: str, port: int, *, worker: bool, sensors: bool, simulator: bool
    ) -> list[tuple[str, list[str]]]:
        me = [sys.executable, "-m", "minsheng"]
        out = [("web", [*me, "serve", "--host", host, "--port", str(port)])]
        if worker:
            out.append(("worker", [*me, "worker"]))
        if sensors:
            city_broker = bool(os.environ.get("MQTT_URL"))
            out.append(("sensors", [*me, "sensors", *([] if city_broker else ["--embedded"])]))
            if simulator:
                out.append(
                    (
                        "simulator",
                        [
                            *me,
                            "simulate-devices",
                            "--demo",
                            "--count",
                            "6",
                            "--http-url",
                            f"http://{host}:{port}",
                            *([] if city_broker else ["--embedded"]),
                        ],
                    )
                )
        return out

    def handle(
        self, *args, host: str, port: int, no_worker: bool, no_sensors: bool, no_simulator: bool, **options
    ):
        procs: list[tuple[str, subprocess.Popen]] = []
        children = self._children(
            host, port, worker=not no_worker, sensors=not no_sensors, simulator=not no_simulator
        )
        for name, cmd in children:
            procs.append((name, subprocess.Popen(cmd, env=clock.child_env())))  # noqa: S603  (our own entry point)
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
