"""The early-warning detector's rule (预警规则), pure Python: no database, no clock.

A key is one place × one matter. At a moment ``at`` the detector counts the key's reports
in the window ``(at - window, at]`` (every channel together: citizens, riders, grid workers,
sensors) and compares the count with the key's usual level at that hour of that weekday:

* **expected** — the mean count, over the past ``weeks`` weeks, of the same window shifted
  by whole weeks and widened by ``band`` on each side (the same hour, the same weekday,
  smoothed over the neighbouring hours), scaled to the window's length; at least
  ``floor_share`` of the key's flat level over those weeks (a key busy at other hours is not
  taken as silent at this one), and never under ``min_expected`` (a key that never had a
  report still has a small chance of one);
* **fire** — the count reaches ``min_count`` and a Poisson count with that mean reaches it
  with a chance of at most ``max_chance``.

The database side (:mod:`.actions`) and the benchmark (``bench/early_warning.py``) call the
same :func:`evaluate`, each with its own list of report times.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

WEEK = dt.timedelta(days=7)


@dataclass(frozen=True)
class Params:
    """What a city sets per matter (``WarningRule``), with the defaults tuned on the
    benchmark's tuning seed (docs/warning.md)."""

    window_minutes: int = 60
    min_count: int = 3
    max_chance: float = 1e-6
    weeks: int = 4
    band_minutes: int = 60
    floor_share: float = 0.5
    min_expected: float = 0.02

    @property
    def window(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.window_minutes)

    @property
    def history(self) -> dt.timedelta:
        """How far back :func:`evaluate` reads."""
        return self.weeks * WEEK + self.window + dt.timedelta(minutes=self.band_minutes)


@dataclass(frozen=True)
class Decision:
    count: int
    expected: float
    chance: float  # P(X >= count) for a Poisson X with the expected mean
    fire: bool


def _between(times: Sequence[dt.datetime], start: dt.datetime, end: dt.datetime) -> int:
    """Reports in ``(start, end]`` of a sorted list."""
    return bisect.bisect_right(times, end) - bisect.bisect_right(times, start)


def poisson_tail(k: int, mean: float) -> float:
    """P(X >= k) for X ~ Poisson(mean)."""
    if k <= 0:
        return 1.0
    term = math.exp(-mean)
    below = term
    for i in range(1, k):
        term *= mean / i
        below += term
    return max(0.0, 1.0 - below)


def expected_count(times: Sequence[dt.datetime], at: dt.datetime, p: Params) -> float:
    """The key's usual count in a window ending at ``at`` (see the module's docstring)."""
    band = dt.timedelta(minutes=p.band_minutes)
    widened = p.window + 2 * band
    seasonal = 0
    for k in range(1, p.weeks + 1):
        end = at - k * WEEK
        seasonal += _between(times, end - p.window - band, end + band)
    seasonal_mean = seasonal / p.weeks * (p.window / widened)
    span = p.weeks * WEEK
    flat = _between(times, at - p.window - span, at - p.window) * (p.window / span)
    return max(seasonal_mean, p.floor_share * flat, p.min_expected)


def evaluate(times: Sequence[dt.datetime], at: dt.datetime, p: Params) -> Decision:
    """The decision for a key at ``at``, from its sorted report times (those after ``at``
    are ignored)."""
    count = _between(times, at - p.window, at)
    expected = expected_count(times, at, p)
    chance = poisson_tail(count, expected)
    return Decision(count, expected, chance, count >= p.min_count and chance <= p.max_chance)
