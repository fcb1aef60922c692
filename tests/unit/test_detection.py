"""Detection rules, with no database: thresholds with hysteresis, hold times against
flapping, sudden rises, dry-weather flow, the same-hour median/MAD baseline, silence."""

import datetime as dt

import pytest

from minsheng.sensors.detection import (
    DEFAULTS,
    Context,
    DeviceDetector,
    is_dry,
    local_hour,
    median,
    median_mad,
    merge_rules,
    resolve_rules,
    robust_z,
)

T0 = dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC).timestamp()  # 09:00 in Pinghu
DRY = Context(dry=True)
WET = Context(dry=False)


def detector(quantities: dict, *, hold=60, clear=120, ranges=None, silence=None, active=()):
    config = merge_rules(
        DEFAULTS,
        {
            "hold_seconds": hold,
            "clear_seconds": clear,
            "quantities": quantities,
            "silence": silence if silence is not None else {"minutes": 30},
        },
    )
    return DeviceDetector(7, config, ranges or {}, None, active, started_t=T0)


def feed(det, values_at, ctx=DRY, q="flow"):
    """Feed ``[(seconds after T0, value), …]``; returns ``[(seconds, raised), …]``."""
    out = []
    for s, v in values_at:
        for f in det.feed(T0 + s, {q: v}, ctx):
            out.append((s, f.raised, f.rule))
    return out


# --- configuration --------------------------------------------------------------------


def test_rules_merge_by_key_and_a_device_can_switch_a_type_rule_off():
    type_rules = {
        "hold_seconds": 30,
        "quantities": {"flow": {"dry_weather": {"max": 1.0}, "rate": {"max_rise": 5}}},
    }
    device_rules = {"quantities": {"flow": {"dry_weather": {"max": 2.0}, "rate": False}}}
    merged = resolve_rules(type_rules, device_rules)
    assert merged["hold_seconds"] == 30
    assert merged["clear_seconds"] == DEFAULTS["clear_seconds"]
    assert merged["quantities"]["flow"] == {"dry_weather": {"max": 2.0}}
    assert "rate" in type_rules["quantities"]["flow"]  # the layers are not modified


def test_only_configured_rules_run():
    det = detector({"level": {"threshold": {}}}, ranges={"level": [None, 1.0]})
    assert [c.rule for c in det.checks()] == ["threshold"]
    # A threshold with no bound anywhere is not a check at all.
    assert list(detector({"level": {"threshold": {}}}).checks()) == []


# --- threshold, hold and hysteresis ---------------------------------------------------


def test_level_above_overflow_height_raises_only_after_holding():
    det = detector({"level": {"threshold": {"hysteresis": 0.1}}}, ranges={"level": [None, 1.0]})
    got = feed(det, [(0, 0.8), (10, 1.3), (40, 1.3), (70, 1.3), (80, 1.4)], q="level")
    assert got == [(70, True, "threshold")]


def test_a_short_excursion_is_not_an_alarm():
    det = detector({"level": {"threshold": {}}}, ranges={"level": [None, 1.0]})
    assert feed(det, [(0, 1.5), (30, 1.5), (50, 0.5), (100, 1.5), (140, 0.4)], q="level") == []


def test_clearing_needs_the_band_below_the_bound_held_for_clear_seconds():
    det = detector({"level": {"threshold": {"band": 0.1}}}, hold=0, clear=120, ranges={"level": [None, 1.0]})
    assert feed(det, [(0, 1.2)], q="level") == [(0, True, "threshold")]
    # Just under the bound is not clear (hysteresis); the clear timer needs 0.9 or less.
    assert feed(det, [(10, 0.95), (200, 0.95), (300, 0.98)], q="level") == []
    # Clear for 100 s, then back above the band: the clear timer starts again.
    assert feed(det, [(310, 0.8), (410, 0.8), (420, 0.95), (430, 0.8), (500, 0.7)], q="level") == []
    assert feed(det, [(560, 0.7)], q="level") == [(560, False, "threshold")]


def test_flapping_around_the_bound_raises_once_and_clears_once():
    det = detector({"level": {"threshold": {"band": 0.1}}}, hold=30, clear=60, ranges={"level": [None, 1.0]})
    wobble = [(i * 10, 1.02 if i % 2 else 0.97) for i in range(60)]  # ±, every 10 s
    # Never 30 s above the bound in a row: no alarm at all.
    assert feed(det, wobble, q="level") == []
    det = detector({"level": {"threshold": {"band": 0.1}}}, hold=30, clear=60, ranges={"level": [None, 1.0]})
    high = [(i * 10, 1.2) for i in range(5)]
    wobble = [(50 + i * 10, 1.02 if i % 2 else 0.97) for i in range(60)]  # inside the band
    calm = [(700 + i * 10, 0.5) for i in range(10)]
    got = feed(det, high + wobble + calm, q="level")
    assert got == [(30, True, "threshold"), (760, False, "threshold")]


def test_low_bound_too():
    det = detector({"ph": {"threshold": {}}}, hold=0, clear=0, ranges={"ph": [6.0, 9.0]})
    assert feed(det, [(0, 7.0), (10, 5.2), (20, 7.5)], q="ph") == [
        (10, True, "threshold"),
        (20, False, "threshold"),
    ]


def test_replayed_or_out_of_order_readings_do_not_advance_timers():
    det = detector({"level": {"threshold": {}}}, hold=60, ranges={"level": [None, 1.0]})
    assert feed(det, [(0, 2.0), (30, 2.0)], q="level") == []
    # A redelivered older message (QoS 1) carries an old time: ignored.
    assert feed(det, [(0, 2.0), (30, 2.0), (20, 2.0)], q="level") == []
    assert feed(det, [(60, 2.0)], q="level") == [(60, True, "threshold")]


def test_an_alarm_active_in_the_database_can_clear_after_a_restart():
    det = detector(
        {"level": {"threshold": {}}},
        hold=0,
        clear=0,
        ranges={"level": [None, 1.0]},
        active=[("threshold", "level")],
    )
    assert feed(det, [(0, 1.5)], q="level") == []  # already active: not raised again
    assert feed(det, [(10, 0.2)], q="level") == [(10, False, "threshold")]


# --- rate of change -------------------------------------------------------------------


def test_sudden_flow_spike_raises_and_a_new_steady_level_clears():
    det = detector({"flow": {"rate": {"max_rise": 10, "window_seconds": 300}}}, hold=0, clear=60)
    steady = [(i * 60, 20.0) for i in range(5)]
    assert feed(det, steady) == []
    assert feed(det, [(300, 45.0)]) == [(300, True, "rate")]
    # It stays high: once the window has forgotten the old level, the rise is gone.
    got = feed(det, [(300 + i * 60, 45.0) for i in range(1, 10)])
    assert got == [(660, False, "rate")]


def test_the_rise_is_measured_from_the_lowest_value_of_the_window():
    """Whatever the window holds (readings every few seconds fill it with hundreds)."""
    import random

    rng = random.Random(6)
    det = detector({"flow": {"rate": {"max_rise": 10, "window_seconds": 300}}}, hold=0)
    (check,) = det.checks()
    t, seen = 0.0, []
    for _ in range(3000):
        t += rng.choice((1.0, 5.0, 20.0, 90.0, 400.0))
        v = rng.choice((20.0, 20.0, 5.0, 40.0)) + rng.gauss(0, 3)
        lowest = min((x for s, x in seen if s >= t - 300), default=v)
        det.feed(T0 + t, {"flow": v}, DRY)
        assert check.rise == pytest.approx(v - min(lowest, v))
        seen.append((t, v))


def test_a_slow_rise_is_not_a_spike():
    det = detector({"flow": {"rate": {"max_rise": 10, "window_seconds": 300}}}, hold=0)
    assert feed(det, [(i * 60, 20.0 + i * 1.5) for i in range(30)]) == []


# --- dry weather ----------------------------------------------------------------------


def test_flow_at_a_rain_outfall_in_dry_weather_is_an_alarm_and_clears_when_it_stops():
    det = detector({"flow": {"dry_weather": {"max": 0.5}}}, hold=60, clear=120)
    assert feed(det, [(0, 0.02), (60, 0.05)]) == []
    assert feed(det, [(120, 9.0), (150, 8.5), (180, 8.8)]) == [(180, True, "dry_weather")]
    # 0.4 is under max but not under half of it: still not clear.
    assert feed(det, [(240, 0.4), (400, 0.4)]) == []
    assert feed(det, [(420, 0.0), (500, 0.0), (540, 0.0)]) == [(540, False, "dry_weather")]


def test_the_same_flow_while_it_rains_is_expected():
    det = detector({"flow": {"dry_weather": {"max": 0.5}}}, hold=0)
    assert feed(det, [(0, 9.0), (60, 9.0)], ctx=WET) == []


def test_weather_is_dry_only_long_enough_after_rain():
    hour = 3600.0
    rain = [(T0 - 10 * hour, T0 - 5 * hour)]
    assert not is_dry(T0, rain, dry_after_s=24 * hour)
    assert is_dry(T0, rain, dry_after_s=4 * hour)
    assert not is_dry(T0, [(T0 - hour, None)], dry_after_s=0)  # still raining
    assert is_dry(T0, [(T0 + hour, None)], dry_after_s=24 * hour)  # not yet raining
    assert is_dry(T0, [], dry_after_s=24 * hour)


# --- robust statistics and the same-hour baseline -------------------------------------


def test_median_and_mad_ignore_a_few_wild_values():
    values = [10, 11, 9, 10, 12, 10, 9, 500, 11, 10]
    med, mad = median_mad(values)
    assert med == 10
    assert mad == 1
    assert median([3, 1, 2, 4]) == 2.5
    assert robust_z(16, 10, 1) == pytest.approx(6 / 1.4826)
    assert robust_z(11, 10, 0, floor=2.0) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        median([])


def test_flow_far_from_this_hours_normal_raises_and_returns_within_it_clears():
    det = detector({"flow": {"baseline": {"k": 5, "min_samples": 7, "floor": 1.0}}}, hold=0, clear=0)
    check = next(iter(det.checks()))
    hour = local_hour(T0, DRY.utc_offset_s)
    assert hour == 9
    check.set_history(hour, [40, 42, 39, 41, 40, 43, 38, 41])  # median 40.5, MAD 1
    assert feed(det, [(0, 42.0), (60, 37.0)]) == []
    assert feed(det, [(120, 60.0)]) == [(120, True, "baseline")]
    assert feed(det, [(180, 52.0)]) == []  # z 7.7 > 3.5: not yet back
    assert feed(det, [(240, 43.0)]) == [(240, False, "baseline")]


def test_baseline_is_quiet_without_enough_history_or_at_another_hour():
    det = detector({"flow": {"baseline": {"k": 5, "min_samples": 7}}}, hold=0)
    check = next(iter(det.checks()))
    check.set_history(9, [40, 41, 39])  # three days only
    assert feed(det, [(0, 400.0)]) == []
    check.set_history(10, [40] * 10)  # an hour later's normal does not judge 09:xx
    assert feed(det, [(60, 400.0)]) == []
    assert feed(det, [(3600, 400.0)]) == [(3600, True, "baseline")]


# --- silence --------------------------------------------------------------------------


def test_no_reading_for_n_minutes_is_offline_and_readings_again_clear_it():
    det = detector({}, clear=60, silence={"minutes": 10})
    assert det.check_silence(T0 + 9 * 60) is None  # counted from start when never heard
    f = det.check_silence(T0 + 11 * 60)
    assert f is not None and f.raised and f.rule == "silence" and f.detail["minutes"] == 11.0
    assert det.check_silence(T0 + 20 * 60) is None  # raised once
    # Back: the first reading starts the clear timer, one a minute later clears it.
    assert feed(det, [(21 * 60, 1.0)]) == []
    assert feed(det, [(22 * 60, 1.0)]) == [(22 * 60, False, "silence")]
    assert det.check_silence(T0 + 31 * 60) is None
    assert det.check_silence(T0 + 33 * 60).raised


def test_silence_going_quiet_again_before_it_counted_as_back_stays_raised():
    det = detector({}, clear=300, silence={"minutes": 10})
    det.check_silence(T0 + 11 * 60)
    assert feed(det, [(12 * 60, 1.0)]) == []
    assert det.check_silence(T0 + 30 * 60) is None  # quiet again: still the same alarm
    assert feed(det, [(31 * 60, 1.0), (33 * 60, 1.0)]) == []  # timer restarted at 31
    assert feed(det, [(36 * 60, 1.0)]) == [(36 * 60, False, "silence")]


def test_silence_can_be_switched_off():
    det = detector({}, silence=False)
    assert det.check_silence(T0 + 10 * 86400) is None


def test_findings_carry_times_and_detail():
    det = detector({"flow": {"dry_weather": {"max": 0.5}}}, hold=60)
    det.feed(T0, {"flow": 3.0}, DRY)
    (f,) = det.feed(T0 + 90, {"flow": 3.5}, DRY)
    assert f.device == 7 and f.quantity == "flow" and f.value == 3.5
    assert f.since == dt.datetime.fromtimestamp(T0, tz=dt.UTC)
    assert f.at == dt.datetime.fromtimestamp(T0 + 90, tz=dt.UTC)
    assert f.detail == {"max": 0.5, "dry": True}
