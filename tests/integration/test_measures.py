"""The measures the city is judged by: exact figures for cases driven through the named
actions, the rollup agreeing with the live count, scoping, and the page's query count."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from minsheng.cases import actions
from minsheng.stats import buckets
from minsheng.stats.measures import DURATIONS, MEASURES, NO_UNIT, PERCENTILES, Filters, local_date
from minsheng.stats.models import Rollup, RollupDay, RollupDuration
from minsheng.stats.report import build_report, plan_terms, split_period
from minsheng.stats.rollup import refresh_rollups
from tests.common.factories import PASSWORD, intake

pytestmark = pytest.mark.django_db


# --- driving cases -------------------------------------------------------------------------


def through(
    city,
    now,
    *,
    sign=30,
    dispatch=120,
    feedback=3600,
    rating=None,
    close=False,
    category="road.manhole",
    point="east.a",
    channel="hotline",
    unit="roads",
):
    """Accept a case and take it as far as the keyword arguments say, advancing the clock by
    each step's seconds first. ``None`` stops there."""
    case = intake(city, category=category, point=point, channel=channel)
    actor = city.actor(unit)
    if sign is None:
        return case
    now.advance(seconds=sign)
    actions.sign_case(actor, case.pk)
    if dispatch is None:
        return case
    now.advance(seconds=dispatch)
    actions.dispatch_case(actor, case.pk, people=["抢修一班"])
    if feedback is None:
        return case
    now.advance(seconds=feedback)
    actions.feedback_case(actor, case.pk, note="已处理")
    if rating is not None:
        actions.rate_case(city.actor("operator"), case.pk, rating=rating)
    if close:
        note = "已解释" if rating == "unsatisfied" else ""
        actions.close_case(city.actor("operator"), case.pk, note=note)
    return case


def today_filters(now, **kw) -> Filters:
    day = local_date(now())
    return Filters(start=day, end=day, **kw)


def period(first: dt.date, last: dt.date, **kw) -> Filters:
    return Filters(start=first, end=last, **kw)


def row_of(report, unit):
    for row in report.rows:
        if row.unit_id == (unit.pk if unit is not None else None):
            return row
    raise AssertionError(f"no row for {unit}")


def fig(row, key):
    f = row.figure(key)
    return (f.numerator, f.denominator)


def approx_duration(value, seconds):
    """The bucketed value stands for ``seconds``: same bucket, within the error bound."""
    assert value == buckets.value_of(buckets.bucket_of(seconds))
    assert abs(value - seconds) <= max(0.5, seconds * buckets.REL_ERROR)


# --- exact figures -------------------------------------------------------------------------


def test_sign_and_dispatch_in_time_late_running_past_due_and_pending(city, now):
    through(city, now, sign=30, dispatch=120, feedback=None)  # both in time
    through(city, now, sign=180, dispatch=400, feedback=None)  # both late
    intake(city)  # never signed …
    now.advance(minutes=2)  # … and now past due: missed
    intake(city)  # pending: not counted yet
    report = build_report(city.actor("leader"), today_filters(now), now())
    roads = row_of(report, city.units["roads"])
    assert fig(roads, "sign") == (1, 3)
    assert fig(roads, "dispatch") == (1, 2)
    assert roads.figure("sign").value == pytest.approx(1 / 3)
    approx_duration(roads.percentile("sign", 0.5), 30)
    approx_duration(roads.percentile("sign", 0.9), 180)
    approx_duration(roads.percentile("dispatch", 0.5), 120)
    approx_duration(roads.percentile("dispatch", 0.9), 400)
    assert fig(report.total, "sign") == (1, 3)


def test_feedback_within_24_hours_and_resolve_within_limit(city, now):
    day = local_date(now())
    a, b, c = intake(city), intake(city), intake(city)
    roads, operator = city.actor("roads"), city.actor("operator")
    now.advance(seconds=10)
    for case in (a, b, c):
        actions.sign_case(roads, case.pk)
    now.advance(seconds=60)
    for case in (a, b, c):
        actions.dispatch_case(roads, case.pk, people=["抢修一班"])
    now.advance(seconds=3600)
    actions.feedback_case(roads, c.pk, note="已处理")  # 1 h, never closed
    now.advance(seconds=3600)
    actions.feedback_case(roads, a.pk, note="已处理")  # 2 h, closed at once
    actions.rate_case(operator, a.pk, rating="satisfied")
    actions.close_case(operator, a.pk)
    now.advance(seconds=23 * 3600)
    actions.feedback_case(roads, b.pk, note="已处理")  # 25 h: late; closed within 2 working days
    actions.rate_case(operator, b.pk, rating="satisfied")
    actions.close_case(operator, b.pk)
    now.advance(days=5)  # c's resolve clock (2 working days for manholes) ran out
    report = build_report(city.actor("leader"), period(day, day), now())
    row = row_of(report, city.units["roads"])
    assert fig(row, "feedback") == (2, 3)
    assert fig(row, "resolve") == (2, 3)
    approx_duration(row.percentile("feedback", 0.5), 70 + 2 * 3600)
    approx_duration(row.percentile("feedback", 0.9), 70 + 25 * 3600)
    approx_duration(row.percentile("resolve", 0.5), 70 + 2 * 3600)


def test_sensor_cases_are_held_to_the_15_minute_response(city, now):
    through(city, now, sign=10 * 60, dispatch=None, category="water.sewage", channel="sensor", unit="water")
    through(city, now, sign=20 * 60, dispatch=None, category="water.sewage", channel="sensor", unit="water")
    through(city, now, sign=20, dispatch=None)  # a hotline case has no response clock
    report = build_report(city.actor("leader"), today_filters(now), now())
    water = row_of(report, city.units["water"])
    assert fig(water, "response") == (1, 2)
    assert fig(water, "sign") == (0, 2)  # 10 and 20 minutes are both late for signing
    approx_duration(water.percentile("response", 0.5), 600)
    assert fig(report.total, "response") == (1, 2)
    only_sensor = build_report(city.actor("leader"), today_filters(now, channel="sensor"), now())
    assert fig(only_sensor.total, "sign") == (0, 2)


def test_satisfaction_counts_basically_satisfied_and_reopen_rate(city, now):
    through(city, now, rating="satisfied", close=True)
    through(city, now, rating="basically_satisfied", close=True)
    bad = through(city, now, rating="unsatisfied", close=True)
    actions.reopen_case(city.actor("dispatcher"), bad.pk, note="群众不满意，重新办理")
    report = build_report(city.actor("leader"), today_filters(now), now())
    roads = row_of(report, city.units["roads"])
    assert fig(roads, "satisfaction") == (2, 3)
    assert roads.figure("satisfaction").value == pytest.approx(2 / 3)
    assert fig(roads, "reopen") == (1, 3)


def test_returns_count_for_the_returning_unit(city, now):
    for _ in range(3):
        through(city, now, sign=None)  # three manhole cases assigned to roads
    case = intake(city)
    now.advance(seconds=10)
    actions.return_case(city.actor("roads"), case.pk, note="不是我们的井盖，是水务的")
    actions.assign_case(city.actor("dispatcher"), case.pk, unit_id=city.units["water"].pk)
    now.advance(minutes=2)
    actions.sign_case(city.actor("water"), case.pk)
    report = build_report(city.actor("leader"), today_filters(now), now())
    roads, water = row_of(report, city.units["roads"]), row_of(report, city.units["water"])
    assert fig(roads, "returns") == (1, 4)
    assert fig(water, "returns") == (0, 1)
    # The sign clock roads gave up within its minute is void; water's late one is missed.
    assert fig(water, "sign") == (0, 1)
    assert fig(roads, "sign") == (0, 3)  # the three others were never signed: missed


def test_a_reassigned_clock_already_breached_counts_as_missed(city, now):
    case = intake(city)
    now.advance(minutes=3)  # roads lets the sign clock run out, then the case moves
    actions.assign_case(city.actor("dispatcher"), case.pk, unit_id=city.units["water"].pk)
    now.advance(seconds=20)
    actions.sign_case(city.actor("water"), case.pk)
    report = build_report(city.actor("leader"), today_filters(now), now())
    assert fig(row_of(report, city.units["roads"]), "sign") == (0, 1)
    assert fig(row_of(report, city.units["water"]), "sign") == (1, 1)


def test_unassigned_cases_count_under_no_unit(city, now):
    intake(city, category="neighbor.dispute", point=None)  # no place: waits for a dispatcher
    now.advance(days=2)
    report = build_report(
        city.actor("leader"), period(local_date(now()) - dt.timedelta(days=2), local_date(now())), now()
    )
    nobody = row_of(report, None)
    assert fig(nobody, "feedback") == (0, 1)
    only = build_report(
        city.actor("leader"), period(report.filters.start, report.filters.end, unit=NO_UNIT), now()
    )
    assert [r.unit_id for r in only.rows] == [None]


# --- rollups --------------------------------------------------------------------------------


def _week_of_cases(city, now):
    """Cases over several local days, in several units, towns, matters and channels, with
    late and reopened and returned ones, and clocks still running at the end."""
    kinds = [
        dict(sign=30, dispatch=120, feedback=3600, rating="satisfied", close=True),
        dict(sign=200, dispatch=30, feedback=26 * 3600, rating="basically_satisfied", close=True),
        dict(sign=20, dispatch=400, feedback=600, rating="unsatisfied", close=True),
        dict(sign=15, dispatch=None),
        dict(sign=None),
        dict(sign=900, dispatch=None, category="water.sewage", channel="sensor", unit="water"),
        dict(
            sign=40,
            dispatch=50,
            feedback=100,
            category="water.sewage",
            point="west.b",
            unit="water",
            rating="satisfied",
            close=True,
        ),
        dict(
            sign=50, dispatch=50, feedback=None, category="neighbor.dispute", point="west.a", unit="sub_west"
        ),
    ]
    reopened = []
    for day in range(4):
        for i, kw in enumerate(kinds):
            case = through(city, now, **kw)
            if kw.get("rating") == "unsatisfied" and day % 2 == 0:
                actions.reopen_case(city.actor("dispatcher"), case.pk, note="重新办理")
                reopened.append(case)
            if i == 4 and day == 1:
                actions.return_case(city.actor("roads"), case.pk, note="不是本单位")
        now.advance(hours=20)
        refresh_rollups(now())
    # Late activity on old cases: a reopened case is signed days later, touching its day.
    for case in reopened:
        actions.sign_case(city.actor("roads"), case.pk)
    now.advance(hours=30)


def _figures(report):
    out = {}
    for row in report.all_rows:
        key = "total" if row.is_total else row.unit_id
        out[key] = (
            [(f.measure, f.numerator, f.denominator) for f in row.figures],
            [row.percentile(name, p) for name in DURATIONS for p, _k in PERCENTILES],
        )
    return out


def test_rollup_gives_the_same_figures_as_the_live_count(city, now):
    first = local_date(now())
    _week_of_cases(city, now)
    result = refresh_rollups(now())
    last = local_date(now())
    assert result.complete_through == last - dt.timedelta(days=1)
    assert Rollup.objects.exists() and RollupDuration.objects.exists()
    leader, sub_west, roads = city.actor("leader"), city.actor("sub_west"), city.actor("roads")
    town_west = city.places["west"].pk
    cases = [
        (leader, period(first, last)),
        (leader, period(first + dt.timedelta(days=1), last - dt.timedelta(days=1))),
        (leader, period(first, last, town=town_west)),
        (leader, period(first, last, matter=city.matters["road.manhole"].pk)),
        (leader, period(first, last, channel="sensor")),
        (leader, period(first, last, town=city.places["east"].pk, channel="hotline")),
        (leader, period(first, last, unit=city.units["roads"].pk)),
        (sub_west, period(first, last)),
        (roads, period(first, last)),
    ]
    for actor, filters in cases:
        rolled = build_report(actor, filters, now())
        live = build_report(actor, filters, now(), use_rollups=False)
        assert rolled.rolled, "the rollup must be used for past days"
        assert _figures(rolled) == _figures(live), (actor.label, filters)
        assert rolled.total.figure("sign").denominator > 0 or actor is sub_west


def test_today_counted_on_a_second_connection_gives_the_same_figures(
    transactional_db, city, now, monkeypatch
):
    """A period ending today reads the rollups and counts today side by side: committed
    data only (no test transaction around it), the same figures as one after the other."""
    from django.db import transaction

    from minsheng.stats import measures, report

    first = local_date(now())
    _week_of_cases(city, now)
    refresh_rollups(now())
    through(city, now, sign=30, dispatch=200, feedback=None)  # today, live
    through(city, now, sign=None)
    counted_in: list[str] = []
    live_tallies = measures.live_tallies

    def spy(*args, **kw):
        import threading

        counted_in.append(threading.current_thread().name)
        return live_tallies(*args, **kw)

    monkeypatch.setattr(measures, "live_tallies", spy)
    filters = period(first, local_date(now()))
    for actor in (city.actor("leader"), city.actor("sub_west"), city.actor("roads")):
        counted_in.clear()
        side_by_side = build_report(actor, filters, now(), parallel=True)
        one_by_one = build_report(actor, filters, now(), parallel=False)
        assert side_by_side.rolled and side_by_side.live_from == local_date(now())
        assert counted_in == ["stats-live", "MainThread"]
        assert _figures(side_by_side) == _figures(one_by_one), actor.label
    leader = build_report(city.actor("leader"), filters, now(), parallel=True)
    assert fig(row_of(leader, city.units["roads"]), "sign")[1] >= 10
    # The default: side by side on PostgreSQL outside a transaction, never inside one.
    assert report.parallel_live() == (connection.vendor == "postgresql")
    with transaction.atomic():
        assert report.parallel_live() is False


def test_a_failing_live_count_on_the_second_connection_fails_the_report(
    transactional_db, city, now, monkeypatch
):
    from minsheng.stats import measures

    first = local_date(now())
    through(city, now, sign=30, dispatch=None)
    now.advance(days=2)
    refresh_rollups(now())

    def broken(*args, **kw):
        raise RuntimeError("live count failed")

    monkeypatch.setattr(measures, "live_tallies", broken)
    with pytest.raises(RuntimeError, match="live count failed"):
        build_report(city.actor("leader"), period(first, local_date(now())), now(), parallel=True)


def test_today_is_read_from_its_rollup_while_it_is_fresh_enough(city, now, settings):
    """A large city lets the page read today from the rollup the refresh keeps (at most
    MINSHENG_STATS_TODAY_ROLLUP_S old): the figures are those of the last refresh, exact as
    of then; older than that, today is counted live again; the day after, the day is
    recomputed whole like any other."""
    settings.MINSHENG_STATS_TODAY_ROLLUP_S = 300
    leader = city.actor("leader")
    first = local_date(now())
    through(city, now, sign=30, dispatch=60, feedback=60, rating="satisfied", close=True)
    now.advance(days=1)
    through(city, now, sign=200, dispatch=30, feedback=None)  # today: late sign
    through(city, now, sign=20, dispatch=None)
    refresh_rollups(now())
    built = now()
    today = local_date(now())
    whole = period(first, today)

    read = build_report(leader, whole, now())
    assert read.today_as_of == built and read.live_from is None
    assert _figures(read) == _figures(build_report(leader, whole, now(), use_rollups=False))
    assert fig(row_of(read, city.units["roads"]), "sign") == (2, 3)

    through(city, now, sign=30, dispatch=None)  # after the refresh
    read = build_report(leader, whole, now())
    live = build_report(leader, whole, now(), use_rollups=False)
    assert read.today_as_of == built
    assert fig(row_of(read, city.units["roads"]), "sign") == (2, 3)  # as of the refresh
    assert fig(row_of(live, city.units["roads"]), "sign") == (3, 4)

    now.advance(minutes=6)  # older than allowed
    read = build_report(leader, whole, now())
    assert read.today_as_of is None and read.live_from == today
    assert _figures(read) == _figures(build_report(leader, whole, now(), use_rollups=False))

    refresh_rollups(now())
    read = build_report(leader, whole, now())
    assert read.today_as_of == now()
    assert _figures(read) == _figures(build_report(leader, whole, now(), use_rollups=False))

    through(city, now, sign=500, dispatch=None)  # late, still today
    now.advance(days=1)
    refresh_rollups(now())
    yesterday = period(first, today)
    read = build_report(leader, yesterday, now())
    assert read.today_as_of is None and read.live_from is None
    assert _figures(read) == _figures(build_report(leader, yesterday, now(), use_rollups=False))
    assert fig(row_of(read, city.units["roads"]), "sign") == (3, 5)

    page = _client_for(city, "leader").get(reverse("stats:index"), {"period": "today"})
    assert "今日数据截至" in page.content.decode()


def test_the_worker_rebuilds_today_twice_within_the_age_the_page_accepts(city, now, settings):
    from minsheng.worker.loop import ROLLUP_INTERVAL, run_pass

    settings.MINSHENG_STATS_TODAY_ROLLUP_S = 120
    through(city, now, sign=30, dispatch=None)
    run_pass(now(), deliver=False, rollups=True, rollup_interval=ROLLUP_INTERVAL)
    first_build = RollupDay.objects.get(day=local_date(now())).built_at
    assert first_build == now()
    now.advance(seconds=61)
    run_pass(now(), deliver=False, rollups=True, rollup_interval=ROLLUP_INTERVAL)
    assert RollupDay.objects.get(day=local_date(now())).built_at == now()
    read = build_report(city.actor("leader"), today_filters(now), now())
    assert read.today_as_of == now()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite refreshes in the pass")
def test_on_postgresql_the_worker_refreshes_beside_its_clock_passes(
    transactional_db, city, now, settings, monkeypatch
):
    """The refresh takes seconds on a big city: it runs in a thread of its own, so that a
    clock falling due meanwhile is not kept waiting behind it."""
    import threading
    import time

    from minsheng.worker import loop

    settings.MINSHENG_STATS_TODAY_ROLLUP_S = 120
    through(city, now, sign=30, dispatch=None)
    refreshed_in: list[str] = []
    passes_with_rollups: list[bool] = []
    refresh, run_pass = loop._refresh_rollups, loop.run_pass

    def spy_refresh(*args, **kw):
        refreshed_in.append(threading.current_thread().name)
        return refresh(*args, **kw)

    def spy_pass(*args, **kw):
        passes_with_rollups.append(kw.get("rollups", False))
        return run_pass(*args, **kw)

    monkeypatch.setattr(loop, "_refresh_rollups", spy_refresh)
    monkeypatch.setattr(loop, "run_pass", spy_pass)
    stop = threading.Event()
    worker = threading.Thread(target=loop.run_forever, args=(stop,), kwargs={"max_sleep": 0.05})
    worker.start()
    try:
        deadline = time.monotonic() + 20
        while (
            time.monotonic() < deadline
            and not RollupDay.objects.filter(day=local_date(now()), built_at__isnull=False).exists()
        ):
            time.sleep(0.1)
    finally:
        stop.set()
        worker.join(20)
    assert RollupDay.objects.get(day=local_date(now())).built_at == now()
    assert refreshed_in and set(refreshed_in) == {"stats-refresh"}
    assert passes_with_rollups and not any(passes_with_rollups)


def test_today_is_counted_live_unless_the_setting_allows_its_rollup(city, now):
    through(city, now, sign=30, dispatch=None)
    now.advance(days=1)
    through(city, now, sign=30, dispatch=None)
    refresh_rollups(now())
    assert not RollupDay.objects.filter(day=local_date(now())).exists()
    read = build_report(city.actor("leader"), today_filters(now), now())
    assert read.today_as_of is None and read.live_from == local_date(now())


def test_refresh_is_idempotent_and_rebuilds_only_touched_days(city, now):
    first = local_date(now())
    old = through(city, now, sign=30, dispatch=60, feedback=None)
    now.advance(days=3)
    refresh_rollups(now())
    before = sorted(Rollup.objects.values_list("grain", "period", "gset", "unit_id", "kind", "n", "ok"))
    refresh_rollups(now())
    after = sorted(Rollup.objects.values_list("grain", "period", "gset", "unit_id", "kind", "n", "ok"))
    assert before == after
    built = dict(RollupDay.objects.values_list("day", "built_at"))
    now.advance(hours=1)
    actions.feedback_case(city.actor("roads"), old.pk, note="反馈")  # late: 3 days
    refresh_rollups(now())
    rebuilt = {d for d, at in RollupDay.objects.values_list("day", "built_at") if at != built[d]}
    assert rebuilt == {first}
    report = build_report(city.actor("leader"), period(first, first), now())
    assert report.rolled and report.live_from is None
    assert fig(row_of(report, city.units["roads"]), "feedback") == (0, 1)


def test_a_clock_passing_its_limit_unnoticed_is_caught_by_the_next_refresh(city, now):
    first = local_date(now())
    intake(city, category="neighbor.dispute", point="east.a")  # resolve: 7 working days
    now.advance(days=1)
    refresh_rollups(now())
    f = period(first, first)
    assert build_report(city.actor("leader"), f, now()).total.figure("resolve").denominator == 0
    now.advance(days=12)  # no worker ran, nobody touched the case
    refresh_rollups(now())
    report = build_report(city.actor("leader"), f, now())
    assert report.rolled and fig(report.total, "resolve") == (0, 1)


def test_a_change_to_an_old_day_goes_into_its_summed_month_and_year(city, now):
    from minsheng.stats.models import RollupPeriod

    first = local_date(now())
    slow = through(city, now, sign=30, dispatch=60, feedback=None)  # feedback still owed
    moved = intake(city)  # never signed by roads
    now.advance(days=40)  # into January 2027: November, December and 2026 are over
    refresh_rollups(now())
    assert set(RollupPeriod.objects.values_list("grain", "period")) == {
        ("m", dt.date(2026, 11, 1)),
        ("m", dt.date(2026, 12, 1)),
        ("y", dt.date(2026, 1, 1)),
    }
    leader = city.actor("leader")
    year = period(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    before = build_report(leader, year, now())
    assert before.rolled == [(1, "y", dt.date(2026, 1, 1))]
    assert fig(row_of(before, city.units["roads"]), "feedback") == (0, 2)

    actions.feedback_case(city.actor("roads"), slow.pk, note="迟到的反馈")  # a duration appears
    actions.assign_case(city.actor("dispatcher"), moved.pk, unit_id=city.units["water"].pk)
    result = refresh_rollups(now())
    assert result.days_built == 1 and result.months_built == 0 and result.keys_changed > 0
    for f in (year, period(dt.date(2026, 11, 1), dt.date(2026, 11, 30)), period(first, first)):
        rolled, live = build_report(leader, f, now()), build_report(leader, f, now(), use_rollups=False)
        assert rolled.rolled and _figures(rolled) == _figures(live)
    after = build_report(leader, year, now())
    assert fig(row_of(after, city.units["roads"]), "feedback") == (0, 1)
    assert fig(row_of(after, city.units["water"]), "feedback") == (0, 1)
    approx_duration(row_of(after, city.units["roads"]).percentile("feedback", 0.5), 40 * 86400 + 90)
    assert refresh_rollups(now()).keys_changed == 0  # nothing new: nothing written


def test_refreshstats_command_refreshes_once(city, now):
    from io import StringIO

    from django.core.management import call_command

    through(city, now, sign=30, dispatch=None)
    now.advance(days=2)
    out = StringIO()
    call_command("refreshstats", stdout=out)
    assert "days 2" in out.getvalue() and RollupDay.objects.filter(dirty=False).count() == 2


def test_periods_are_read_as_signed_years_months_and_days():
    d = dt.date
    assert split_period(d(2025, 12, 30), d(2027, 2, 3)) == [
        ("d", d(2025, 12, 30), d(2025, 12, 31)),
        ("y", d(2026, 1, 1), d(2026, 12, 31)),
        ("m", d(2027, 1, 1), d(2027, 1, 31)),
        ("d", d(2027, 2, 1), d(2027, 2, 3)),
    ]
    everything = {("y", d(2025, 1, 1))} | {("m", d(2025, m, 1)) for m in range(1, 13)}
    # The last 365 days: the year minus its first day.
    assert plan_terms(d(2025, 1, 2), d(2025, 12, 31), everything) == [
        (-1, "d", d(2025, 1, 1)),
        (1, "y", d(2025, 1, 1)),
    ]
    # Most of a month: the month minus the days left out.
    assert plan_terms(d(2025, 3, 4), d(2025, 3, 31), everything) == [
        (-1, "d", d(2025, 3, 1)),
        (-1, "d", d(2025, 3, 2)),
        (-1, "d", d(2025, 3, 3)),
        (1, "m", d(2025, 3, 1)),
    ]
    # Nothing summed yet: days.
    assert plan_terms(d(2025, 3, 4), d(2025, 3, 6), set()) == [
        (1, "d", d(2025, 3, 4)),
        (1, "d", d(2025, 3, 5)),
        (1, "d", d(2025, 3, 6)),
    ]


def test_the_year_minus_a_fortnight_is_the_sum_of_its_days(city, now):
    """A period read as year − days gives what the days alone give."""
    from minsheng.stats.models import RollupPeriod

    start = local_date(now())
    through(city, now, sign=30, dispatch=60, feedback=3600, rating="satisfied", close=True)
    now.advance(days=3)
    through(city, now, sign=200, dispatch=None)
    now.advance(days=45)  # into 2027: 2026 is summed
    refresh_rollups(now())
    assert RollupPeriod.objects.filter(grain="y").exists()
    leader = city.actor("leader")
    f = period(dt.date(2026, 1, 15), dt.date(2026, 12, 31))
    rolled = build_report(leader, f, now())
    assert (1, "y", dt.date(2026, 1, 1)) in rolled.rolled
    assert any(sign < 0 for sign, _g, _p in rolled.rolled)
    assert _figures(rolled) == _figures(build_report(leader, f, now(), use_rollups=False))
    assert fig(rolled.total, "sign") == (1, 2)
    assert start.year == 2026


# --- scoping --------------------------------------------------------------------------------


def test_a_handler_counts_only_its_own_unit(city, now):
    through(city, now, sign=30, dispatch=None)  # roads
    through(city, now, sign=200, dispatch=None, category="water.sewage", unit="water")
    f = today_filters(now)
    roads = build_report(city.actor("roads"), f, now())
    assert [r.unit_id for r in roads.rows] == [city.units["roads"].pk]
    assert fig(roads.total, "sign") == (1, 1)
    water = build_report(city.actor("water"), f, now())
    assert fig(water.total, "sign") == (0, 1)
    # Asking for another unit does not widen it.
    other = build_report(city.actor("roads"), today_filters(now, unit=city.units["water"].pk), now())
    assert other.rows == []


def test_a_subcentre_counts_its_town_and_units_only(city, now):
    through(city, now, sign=30, dispatch=None, category="neighbor.dispute", point="west.a", unit="sub_west")
    through(city, now, sign=30, dispatch=None, category="neighbor.dispute", point="east.a", unit="sub_east")
    through(city, now, sign=200, dispatch=None, point="west.b")  # roads, in the west
    report = build_report(city.actor("sub_west"), today_filters(now), now())
    units = {r.unit_id for r in report.rows}
    assert units == {city.units["sub-west"].pk, city.units["roads"].pk}
    assert fig(report.total, "sign") == (1, 2)


def test_field_workers_and_operators_see_nothing(city, now):
    through(city, now, sign=30, dispatch=None)
    for name in ("field_roads", "operator"):
        client = _client_for(city, name)
        assert client.get(reverse("stats:index")).status_code == 403
        assert client.get(reverse("stats:export_csv")).status_code == 403


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(reverse("stats:index"))
    assert response.status_code == 302 and "login" in response["Location"]


# --- the page -------------------------------------------------------------------------------


def _client_for(city, name):
    from django.test import Client

    client = Client()
    assert client.login(username=name, password=PASSWORD)
    return client


def _page_queries(client, params):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("stats:index"), params)
    assert response.status_code == 200
    return len(ctx.captured_queries), response


def test_page_query_count_does_not_grow_with_units_or_cases(city, now):
    from minsheng.accounts.models import Unit, UnitKind

    client = _client_for(city, "leader")
    first = local_date(now())
    through(city, now, sign=30, dispatch=60, feedback=60, rating="satisfied", close=True)
    now.advance(days=2)
    refresh_rollups(now())
    through(city, now, sign=30, dispatch=None)  # something live today
    params = {"period": "custom", "start": first.isoformat(), "end": "2026-12-31"}
    small, _ = _page_queries(client, params)

    for i in range(6):
        Unit.objects.create(code=f"extra-{i}", name=f"额外单位{i}", kind=UnitKind.DEPARTMENT)
    for kw in ({"category": "water.sewage", "unit": "water"}, {}, {"point": "west.b"}):
        for _ in range(3):
            through(city, now, sign=90, dispatch=60, feedback=60, rating="unsatisfied", close=True, **kw)
    now.advance(days=2)
    refresh_rollups(now())
    through(city, now, sign=30, dispatch=None)
    large, response = _page_queries(client, params)
    assert large == small
    assert response.content.decode().count("<tr") >= 4


def test_page_shows_chinese_figures_and_exports_the_same(city, now):
    through(city, now, sign=30, dispatch=120, feedback=3600, rating="satisfied", close=True)
    through(city, now, sign=200, dispatch=None)
    client = _client_for(city, "leader")
    page = client.get(reverse("stats:index"), {"period": "today"}).content.decode()
    assert "签收及时率" in page and "50.0%" in page
    csv_text = client.get(reverse("stats:export_csv"), {"period": "today"}).content.decode("utf-8-sig")
    assert "签收及时率" in csv_text and "50.0%" in csv_text
    assert client.get(reverse("stats:export_xlsx"), {"period": "today"}).status_code == 200


def test_audit_lists_the_cases_behind_a_figure(city, now):
    ok = through(city, now, sign=30, dispatch=None)
    late = through(city, now, sign=200, dispatch=None)
    client = _client_for(city, "leader")
    day = local_date(now()).isoformat()
    base = {
        "period": "custom",
        "start": day,
        "end": day,
        "measure": "sign",
        "unit": str(city.units["roads"].pk),
    }
    num = client.get(reverse("stats:audit"), {**base, "part": "num"}).content.decode()
    den = client.get(reverse("stats:audit"), {**base, "part": "den"}).content.decode()
    assert ok.number in num and late.number not in num
    assert ok.number in den and late.number in den
    # A handler of another unit cannot list them.
    water = _client_for(city, "water").get(reverse("stats:audit"), {**base, "part": "den"})
    assert ok.number not in water.content.decode()


def test_every_measure_has_a_definition():
    for m in MEASURES:
        assert str(m.definition) and str(m.label)
