"""Detection (智能预警): turning a device's readings into alarms that are worth a work order.

Pure code: no database, no clock. Times are seconds since the epoch (floats) in the hot
path, because the ingest process runs every reading of every device through here.

Rules
-----
Per device, the rules are the merge of :data:`DEFAULTS`, the device type's ``rules`` and
the device's own ``rules`` (later layers win key by key; ``false`` or ``null`` switches an
inherited rule off)::

    {
      "hold_seconds": 60,         # a condition must hold this long before it is an alarm
      "clear_seconds": 300,       # ... and be clear this long before the alarm clears
      "dry_after_rain_hours": 24, # weather counts as dry this long after rain ended
      "silence": {"minutes": 30}, # no reading this long: device offline (离线)
      "quantities": {
        "level": {"threshold": {"hysteresis": 0.05}},
        "flow": {
          "threshold": {},                                  # outside the normal range
          "rate": {"max_rise": 30, "window_seconds": 300},  # sudden rise (突增)
          "dry_weather": {"max": 0.5},                      # flow in dry weather (偷排?)
          "baseline": {"k": 6, "min_samples": 7, "floor": 1.0}  # unusual for the hour
        }
      }
    }

Every rule object may carry its own ``hold_seconds`` / ``clear_seconds``.

* ``threshold``: the normal range of the quantity (``[low, high]`` from the registry, or
  ``low``/``high`` in the rule; e.g. level above the overflow height). It clears inside
  the range by a hysteresis band (``band``, or ``hysteresis`` × the range's width).
* ``rate``: the value rose more than ``max_rise`` above the lowest value of the last
  ``window_seconds`` (a sudden flow spike); clears when the rise is under half of that.
* ``dry_weather``: flow above ``max`` while the weather is dry, where there should be
  none (rain outfalls, overflow weirs); clears under half of ``max`` or when it rains.
* ``baseline``: the robust z-score against the same local hour's normal, the median and
  MAD of that hour's means over the last weeks, exceeds ``k``; clears under 0.7·k. Needs
  ``min_samples`` past days of that hour, else it stays quiet.
* ``silence``: no reading for ``minutes``; clears when readings have come again for
  ``clear_seconds``.

Flapping is suppressed twice: a condition must hold for ``hold_seconds`` before it raises,
and an alarm clears only on a stricter condition (the hysteresis band) held for
``clear_seconds``.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULTS: dict[str, Any] = {
    "hold_seconds": 60,
    "clear_seconds": 300,
    "dry_after_rain_hours": 24,
    "silence": {"minutes": 30},
    "quantities": {},
}
RULES = ("threshold", "rate", "dry_weather", "baseline")
SILENCE = "silence"
MAD_TO_SIGMA = 1.4826  # MAD × this estimates σ for normally distributed data


# --- configuration --------------------------------------------------------------------


def merge_rules(*layers: Mapping[str, Any] | None) -> dict[str, Any]:
    """Deep-merge rule layers, later ones winning; ``None``/``False`` removes a key."""
    out: dict[str, Any] = {}
    for layer in layers:
        if layer:
            _merge_into(out, layer)
    return out


def _merge_into(target: dict[str, Any], layer: Mapping[str, Any]) -> None:
    for key, value in layer.items():
        if value is None or value is False:
            target.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge_into(target[key], value)
        elif isinstance(value, Mapping):
            target[key] = {}
            _merge_into(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def resolve_rules(
    type_rules: Mapping[str, Any] | None, device_rules: Mapping[str, Any] | None
) -> dict[str, Any]:
    return merge_rules(DEFAULTS, type_rules, device_rules)


# --- statistics -----------------------------------------------------------------------


def median(values: Iterable[float]) -> float:
    xs = sorted(values)
    if not xs:
        raise ValueError("median of nothing")
    mid = len(xs) // 2
    return xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2.0


def median_mad(values: Iterable[float]) -> tuple[float, float]:
    """Median and median absolute deviation: a centre and a spread that a few wild past
    values (a storm, a broken sensor) do not drag, unlike mean and standard deviation."""
    xs = [v for v in values if v is not None and math.isfinite(v)]
    med = median(xs)
    return med, median(abs(x - med) for x in xs)


def robust_z(value: float, med: float, mad: float, floor: float = 0.0) -> float:
    """How many (robust) standard deviations ``value`` is from ``med``. ``floor`` keeps a
    near-constant history (MAD 0) from making every small change look enormous."""
    scale = max(MAD_TO_SIGMA * mad, floor, 1e-9)
    return (value - med) / scale


def baseline_from(values: Iterable[float], min_samples: int) -> tuple[float, float] | None:
    xs = [v for v in values if v is not None and math.isfinite(v)]
    if len(xs) < max(1, min_samples):
        return None
    return median_mad(xs)


def local_hour(t: float, utc_offset_s: float) -> int:
    return int((t + utc_offset_s) // 3600) % 24


def is_dry(t: float, rain: Iterable[tuple[float, float | None]], dry_after_s: float) -> bool:
    """Dry weather (旱天): no rain period touches ``[t - dry_after_s, t]``."""
    return not any(start <= t and (end is None or end + dry_after_s >= t) for start, end in rain)


# --- findings and the hold/hysteresis machine ----------------------------------------


@dataclass(frozen=True)
class Finding:
    """A rule's verdict changed: ``raised`` True for a new alarm, False for a clear."""

    device: int
    rule: str
    quantity: str
    raised: bool
    at: dt.datetime
    since: dt.datetime
    value: float | None
    detail: dict[str, Any] = field(default_factory=dict)


def to_dt(t: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(t, tz=dt.UTC)


@dataclass
class Context:
    """What a batch of readings is judged against besides the readings themselves."""

    dry: bool = False
    utc_offset_s: float = 8 * 3600  # Asia/Shanghai; the engine passes the city's own


class Check:
    """One rule on one quantity of one device, with its hold/hysteresis state."""

    __slots__ = ("active", "clear_s", "clear_since", "device", "hold_s", "quantity", "since")
    rule = ""

    def __init__(
        self, device: int, quantity: str, cfg: Mapping[str, Any], defaults: Mapping[str, Any]
    ) -> None:
        self.device = device
        self.quantity = quantity
        self.hold_s = float(cfg.get("hold_seconds", defaults.get("hold_seconds", 60)))
        self.clear_s = float(cfg.get("clear_seconds", defaults.get("clear_seconds", 300)))
        self.active = False
        self.since: float | None = None
        self.clear_since: float | None = None

    def judge(self, t: float, v: float, ctx: Context) -> tuple[bool, bool]:
        """(bad, good): the raising condition, and the stricter clearing condition."""
        raise NotImplementedError

    def detail(self, v: float, ctx: Context) -> dict[str, Any]:
        return {}

    def step(self, t: float, v: float, ctx: Context) -> Finding | None:
        bad, good = self.judge(t, v, ctx)
        if not self.active:
            if not bad:
                self.since = None
                return None
            if self.since is None:
                self.since = t
            if t - self.since < self.hold_s:
                return None
            self.active, self.clear_since = True, None
            return Finding(
                self.device,
                self.rule,
                self.quantity,
                True,
                to_dt(t),
                to_dt(self.since),
                v,
                self.detail(v, ctx),
            )
        if not good:
            self.clear_since = None
            return None
        if self.clear_since is None:
            self.clear_since = t
        if t - self.clear_since < self.clear_s:
            return None
        since = self.clear_since
        self.active, self.since, self.clear_since = False, None, None
        return Finding(
            self.device, self.rule, self.quantity, False, to_dt(t), to_dt(since), v, self.detail(v, ctx)
        )


class ThresholdCheck(Check):
    __slots__ = ("band", "high", "low")
    rule = "threshold"

    def __init__(
        self,
        device: int,
        quantity: str,
        cfg: Mapping[str, Any],
        defaults: Mapping[str, Any],
        normal: list[float | None] | None,
    ) -> None:
        super().__init__(device, quantity, cfg, defaults)
        low, high = [*(normal or []), None, None][:2]
        low = cfg.get("low", low)
        high = cfg.get("high", high)
        self.low = None if low is None else float(low)
        self.high = None if high is None else float(high)
        if "band" in cfg:
            band = float(cfg["band"])
        else:
            share = float(cfg.get("hysteresis", 0.05))
            if self.low is not None and self.high is not None:
                width = self.high - self.low
            else:
                width = abs(self.high if self.high is not None else (self.low or 0.0)) or 1.0
            band = share * width
        self.band = band

    @property
    def useful(self) -> bool:
        return self.low is not None or self.high is not None

    def judge(self, t: float, v: float, ctx: Context) -> tuple[bool, bool]:
        low, high, band = self.low, self.high, self.band
        bad = (high is not None and v > high) or (low is not None and v < low)
        good = (high is None or v <= high - band) and (low is None or v >= low + band)
        return bad, good

    def detail(self, v: float, ctx: Context) -> dict[str, Any]:
        side = "high" if self.high is not None and v > (self.high - self.band) else "low"
        return {"low": self.low, "high": self.high, "side": side}


class RateCheck(Check):
    __slots__ = ("max_rise", "recent", "rise", "window_s")
    rule = "rate"

    def __init__(
        self, device: int, quantity: str, cfg: Mapping[str, Any], defaults: Mapping[str, Any]
    ) -> None:
        super().__init__(device, quantity, cfg, defaults)
        self.max_rise = float(cfg["max_rise"])
        self.window_s = float(cfg.get("window_seconds", 300))
        self.recent: deque[tuple[float, float]] = deque()
        self.rise = 0.0

    def judge(self, t: float, v: float, ctx: Context) -> tuple[bool, bool]:
        # The lowest value of the window by a monotonic deque (values rise from front to
        # back; a value no lower than a newer one can never be the lowest again): O(1) a
        # reading however many the window holds. Times only increase (feed drops the rest).
        recent = self.recent
        horizon = t - self.window_s
        while recent and recent[0][0] < horizon:
            recent.popleft()
        lowest = recent[0][1] if recent and recent[0][1] < v else v
        while recent and recent[-1][1] >= v:
            recent.pop()
        recent.append((t, v))
        self.rise = rise = v - lowest
        return rise > self.max_rise, rise <= self.max_rise * 0.5

    def detail(self, v: float, ctx: Context) -> dict[str, Any]:
        return {"rise": round(self.rise, 4), "max_rise": self.max_rise, "window_seconds": self.window_s}


class DryWeatherCheck(Check):
    __slots__ = ("max",)
    rule = "dry_weather"

    def __init__(
        self, device: int, quantity: str, cfg: Mapping[str, Any], defaults: Mapping[str, Any]
    ) -> None:
        super().__init__(device, quantity, cfg, defaults)
        self.max = float(cfg.get("max", 0.5))

    def judge(self, t: float, v: float, ctx: Context) -> tuple[bool, bool]:
        if not ctx.dry:
            return False, True
        return v > self.max, v <= self.max * 0.5

    def detail(self, v: float, ctx: Context) -> dict[str, Any]:
        return {"max": self.max, "dry": ctx.dry}


class BaselineCheck(Check):
    """Compares with ``profile[local hour] = (median, MAD)``, which the engine fills from
    the hourly roll-ups (this module never reads the database)."""

    __slots__ = ("floor", "k", "min_samples", "profile", "z")
    rule = "baseline"

    def __init__(
        self, device: int, quantity: str, cfg: Mapping[str, Any], defaults: Mapping[str, Any]
    ) -> None:
        super().__init__(device, quantity, cfg, defaults)
        self.k = float(cfg.get("k", 6.0))
        self.min_samples = int(cfg.get("min_samples", 7))
        self.floor = float(cfg.get("floor", 0.0))
        self.profile: dict[int, tuple[float, float]] = {}
        self.z = 0.0

    def set_history(self, hour: int, values: Iterable[float]) -> None:
        base = baseline_from(values, self.min_samples)
        if base is None:
            self.profile.pop(hour, None)
        else:
            self.profile[hour] = base

    def judge(self, t: float, v: float, ctx: Context) -> tuple[bool, bool]:
        base = self.profile.get(local_hour(t, ctx.utc_offset_s))
        if base is None:
            self.z = 0.0
            return False, True
        self.z = z = abs(robust_z(v, base[0], base[1], self.floor))
        return z > self.k, z <= self.k * 0.7

    def detail(self, v: float, ctx: Context) -> dict[str, Any]:
        return {"z": round(self.z, 2), "k": self.k}


# --- one device -----------------------------------------------------------------------


class DeviceDetector:
    """All checks of one device, fed its readings in time order.

    A reading not newer than the last one fed is ignored, so a redelivered or replayed
    message never advances a hold timer twice.
    """

    __slots__ = (
        "by_quantity",
        "config",
        "device",
        "last_t",
        "resumed_since",
        "silence_active",
        "silence_clear_s",
        "silence_s",
        "started_t",
    )

    def __init__(
        self,
        device: int,
        config: Mapping[str, Any],
        ranges: Mapping[str, list[float | None]] | None = None,
        quantities: Iterable[str] | None = None,
        active: Iterable[tuple[str, str]] = (),
        started_t: float = 0.0,
    ) -> None:
        self.device = device
        self.config = config
        self.last_t: float | None = None
        self.started_t = started_t
        ranges = ranges or {}
        wanted = set(quantities) if quantities is not None else None
        by_q: dict[str, list[Check]] = {}
        for q, rules in (config.get("quantities") or {}).items():
            if (wanted is not None and q not in wanted) or not isinstance(rules, Mapping):
                continue
            checks: list[Check] = []
            for name in RULES:
                cfg = rules.get(name)
                if not isinstance(cfg, Mapping):
                    continue
                check = _make_check(name, device, q, cfg, config, ranges.get(q))
                if check is not None:
                    checks.append(check)
            if checks:
                by_q[q] = checks
        self.by_quantity = by_q
        silence = config.get("silence")
        self.silence_s = float(silence.get("minutes", 30)) * 60.0 if isinstance(silence, Mapping) else None
        self.silence_clear_s = (
            float(silence.get("clear_seconds", config.get("clear_seconds", 300)))
            if isinstance(silence, Mapping)
            else 0.0
        )
        self.silence_active = False
        self.resumed_since: float | None = None
        for rule, q in active:
            self.restore_active(rule, q)

    def restore_active(self, rule: str, quantity: str) -> None:
        """An alarm is active in the database (e.g. after a restart): the check starts
        active so that it can clear it."""
        if rule == SILENCE:
            self.silence_active = True
            return
        for c in self.by_quantity.get(quantity, ()):
            if c.rule == rule:
                c.active = True

    def checks(self) -> Iterable[Check]:
        for checks in self.by_quantity.values():
            yield from checks

    def feed(self, t: float, values: Mapping[str, float], ctx: Context) -> list[Finding]:
        last = self.last_t
        if last is not None and t <= last:
            return []
        self.last_t = t
        out: list[Finding] = []
        if self.silence_active:
            if self.resumed_since is None:
                self.resumed_since = t
            if t - self.resumed_since >= self.silence_clear_s:
                since = self.resumed_since
                self.silence_active, self.resumed_since = False, None
                out.append(Finding(self.device, SILENCE, "", False, to_dt(t), to_dt(since), None, {}))
        for q, checks in self.by_quantity.items():
            v = values.get(q)
            if v is None:
                continue
            for c in checks:
                f = c.step(t, v, ctx)
                if f is not None:
                    out.append(f)
        return out

    def check_silence(self, now_t: float) -> Finding | None:
        """Called periodically: raises ``silence`` when nothing came for too long."""
        if self.silence_s is None:
            return None
        ref = self.last_t if self.last_t is not None else self.started_t
        gap = now_t - ref
        if self.silence_active:
            if self.resumed_since is not None and gap > self.silence_s:
                self.resumed_since = None  # went quiet again before it counted as back
            return None
        if gap <= self.silence_s:
            return None
        self.silence_active = True
        self.resumed_since = None
        return Finding(
            self.device,
            SILENCE,
            "",
            True,
            to_dt(now_t),
            to_dt(ref),
            None,
            {
                "minutes": round(gap / 60.0, 1),
                "last_seen": to_dt(self.last_t).isoformat() if self.last_t else None,
            },
        )


def _make_check(
    name: str,
    device: int,
    q: str,
    cfg: Mapping[str, Any],
    defaults: Mapping[str, Any],
    normal: list[float | None] | None,
) -> Check | None:
    if name == "threshold":
        check = ThresholdCheck(device, q, cfg, defaults, normal)
        return check if check.useful else None
    if name == "rate":
        return RateCheck(device, q, cfg, defaults) if "max_rise" in cfg else None
    if name == "dry_weather":
        return DryWeatherCheck(device, q, cfg, defaults)
    if name == "baseline":
        return BaselineCheck(device, q, cfg, defaults)
    return None
