"""The chores thread: the hourly roll-up, the retention purge and the baselines' reads
(:class:`HourlyJob`), run by :class:`Chores` beside the readings; the pipeline applies what
a job read in its own thread, on a later tick.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass, field

from django.db import close_old_connections

from .. import storage
from ..detection import BaselineCheck
from .writer import OwnThread

log = logging.getLogger("minsheng.sensors.ingest")  # one logger for the whole package


class Chores(OwnThread):
    """The hourly roll-up, the retention purge and the baselines' reads, in a thread of
    their own with its own database connection: at 10,000 devices a roll-up reads hundreds
    of thousands of rows, and the readings must not wait for it."""

    def __init__(self) -> None:
        super().__init__("sensors-chores")


@dataclass
class HourlyJob:
    """What one hourly tick asks of the database; ``run`` does it (in any thread) and
    keeps what it read; the pipeline then applies it in its own thread."""

    now: dt.datetime
    hour: int
    roll: tuple[dt.datetime, dt.datetime] | None
    wanted: dict[tuple[str, int], list[BaselineCheck]]
    purge: bool
    means: dict[tuple[str, int], dict[int, list[float]]] = field(default_factory=dict)
    purged: tuple[int, int] = (0, 0)
    error: str | None = None

    def run(self) -> HourlyJob:
        try:
            if self.roll is not None:
                storage.rollup(*self.roll)
            for (q, weeks), checks in self.wanted.items():
                self.means[(q, weeks)] = storage.same_hour_means(
                    [c.device for c in checks], q, self.now, weeks * 7
                )
            if self.purge:
                self.purged = storage.purge(self.now)
        except Exception as exc:
            log.exception("sensors hourly job failed")
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            if threading.current_thread() is not threading.main_thread():
                close_old_connections()
        return self
