"""Shards (分片) of the ingest: devices split across ingest processes by a stable hash of
their ``device_id``, so that each device's readings, detector state and order live in one
process, and the processes together use more than one core.

Shard 0 also does the work only one process should do (publishing and expiring valve
commands, hourly roll-ups, the retention purge). See docs/sensors.md, "Shards".
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from minsheng.core import clock
from minsheng.core.conf import setting


def shard_of(device_id: str, count: int) -> int:
    """The shard that owns ``device_id`` among ``count``: CRC-32 of its UTF-8 bytes, the
    same in every process, on every machine and across Python versions (unlike ``hash``)."""
    if count <= 1:
        return 0
    return zlib.crc32(device_id.encode()) % count


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (``Shard(0, 1)``: everything, as without shards)."""

    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ValueError(f"no shard {self.index} of {self.count}")

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``"1/4"`` → ``Shard(1, 4)``."""
        try:
            index, count = (int(p) for p in text.split("/"))
        except ValueError:
            raise ValueError(f"a shard is INDEX/COUNT, e.g. 0/2, not {text!r}") from None
        return cls(index, count)

    @property
    def sharded(self) -> bool:
        return self.count > 1

    @property
    def leads(self) -> bool:
        """Shard 0 does the work that must run once, not once per shard."""
        return self.index == 0

    def owns(self, device_id: str) -> bool:
        return shard_of(device_id, self.count) == self.index

    def client_id(self, base: str) -> str:
        """Each shard its own persistent MQTT session: ``minsheng-ingest-0of2``."""
        return f"{base}-{self.index}of{self.count}" if self.sharded else base

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def configured_count() -> int:
    """``MINSHENG_SENSORS_SHARDS`` (default 1): how many ingest processes share the devices.
    The HTTP endpoint splits its hand-over by it, so web and ingest must agree."""
    return max(1, int(setting("MINSHENG_SENSORS_SHARDS", 1)))


# --- the supervisor -------------------------------------------------------------------


class Supervisor:
    """Runs one child process per shard (``minsheng sensors --shard i/N …``), passes
    SIGTERM/SIGINT on to them, and starts a child again when it dies, after a back-off
    that doubles from 1 s to 60 s (and starts over once a child has run for 5 minutes)."""

    MIN_BACKOFF = 1.0
    MAX_BACKOFF = 60.0
    HEALTHY_AFTER = 300.0
    STOP_WAIT = 30.0

    def __init__(
        self,
        commands: list[list[str]],
        *,
        env: dict[str, str] | None = None,
        log: Callable[[str], None] = print,
    ) -> None:
        self.commands = commands
        self.env = env
        self.log = log
        self.procs: list[subprocess.Popen[bytes] | None] = [None] * len(commands)
        self.started: list[float] = [0.0] * len(commands)
        self.backoff: list[float] = [0.0] * len(commands)  # 0: the next wait is the least
        self.due: list[float] = [0.0] * len(commands)
        self.restarts = 0
        self.stop = threading.Event()

    def _start(self, i: int) -> None:
        # A restarted shard starts at this moment of the supervisor's clock (core.clock).
        proc = subprocess.Popen(self.commands[i], env=clock.child_env(self.env))  # noqa: S603  (our own entry point)
        self.procs[i], self.started[i] = proc, time.monotonic()
        self.log(f"sensors: shard {i}/{len(self.commands)} started (pid {proc.pid})")

    def handle_signals(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_a: self.stop.set())

    def run(self) -> None:
        for i in range(len(self.commands)):
            self._start(i)
        try:
            while not self.stop.wait(0.5):
                self.poll()
        finally:
            self.shutdown()

    def poll(self) -> None:
        now = time.monotonic()
        for i, proc in enumerate(self.procs):
            if proc is None:
                if now >= self.due[i]:
                    self._start(i)
                continue
            code = proc.poll()
            if code is None:
                continue
            if now - self.started[i] >= self.HEALTHY_AFTER:
                self.backoff[i] = 0.0
            wait = max(self.MIN_BACKOFF, self.backoff[i])
            self.backoff[i] = min(self.MAX_BACKOFF, wait * 2)
            self.procs[i], self.due[i] = None, now + wait
            self.restarts += 1
            self.log(
                f"sensors: shard {i}/{len(self.commands)} (pid {proc.pid}) exited with "
                f"{code}; starting it again in {wait:.0f} s"
            )

    def shutdown(self) -> None:
        running = [p for p in self.procs if p is not None and p.poll() is None]
        for p in running:
            p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.STOP_WAIT
        for p in running:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
