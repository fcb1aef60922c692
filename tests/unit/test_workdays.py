"""Working days by China's official calendar, adjusted working days (调休) included.

The 2026 dates below are those of 《国务院办公厅关于2026年部分节假日安排的通知》
(General Office of the State Council, 4 November 2025, published by Xinhua), which the
installed ``chinese_calendar`` package carries:

- 元旦: 1 Jan (Thu) – 3 Jan off; Sunday 4 Jan is a working day.
- 春节: 15 Feb – 23 Feb off (9 days); Saturdays 14 Feb and 28 Feb are working days.
- 劳动节: 1 May – 5 May off; Saturday 9 May is a working day.
- 国庆节: 1 Oct (Thu) – 7 Oct off; Sunday 20 Sep and Saturday 10 Oct are working days.

Limits are counted in the city's time (Asia/Shanghai); results come back in UTC.
"""

import datetime as dt
import logging
from zoneinfo import ZoneInfo

import pytest

from minsheng.core import workdays
from minsheng.core.workdays import add_working_days, is_workday

CST = ZoneInfo("Asia/Shanghai")


def local(y, m, d, h=10, mi=0):
    return dt.datetime(y, m, d, h, mi, tzinfo=CST)


@pytest.mark.parametrize(
    ("day", "works"),
    [
        (dt.date(2026, 1, 2), False),  # Friday, New Year holiday
        (dt.date(2026, 1, 4), True),  # Sunday, make-up day for New Year
        (dt.date(2026, 2, 14), True),  # Saturday, make-up day before Spring Festival
        (dt.date(2026, 2, 16), False),  # Monday in the Spring Festival holiday
        (dt.date(2026, 2, 23), False),  # Monday, last day of the Spring Festival holiday
        (dt.date(2026, 2, 28), True),  # Saturday, make-up day after Spring Festival
        (dt.date(2026, 5, 9), True),  # Saturday, make-up day for Labour Day
        (dt.date(2026, 9, 20), True),  # Sunday, make-up day for National Day
        (dt.date(2026, 10, 5), False),  # Monday in the National Day holiday
        (dt.date(2026, 10, 10), True),  # Saturday, make-up day for National Day
        (dt.date(2026, 11, 23), True),  # an ordinary Monday
        (dt.date(2026, 11, 28), False),  # an ordinary Saturday
    ],
)
def test_the_2026_official_schedule(day, works):
    assert is_workday(day) is works


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        # An ordinary week: Monday + 5 working days = next Monday, same time of day.
        (local(2026, 11, 23, 9), 5, local(2026, 11, 30, 9)),
        # Wednesday before National Day + 1: the seven days off do not count.
        (local(2026, 9, 30), 1, local(2026, 10, 8)),
        # ... + 3 reaches the make-up Saturday, 10 October.
        (local(2026, 9, 30), 3, local(2026, 10, 10)),
        # Friday 18 Sep + 1: Saturday is off, Sunday 20 Sep is a make-up working day.
        (local(2026, 9, 18), 1, local(2026, 9, 20)),
        # Accepted on the make-up Saturday itself: that day counts as a working day.
        (local(2026, 10, 10), 1, local(2026, 10, 12)),
        # Friday 13 Feb + 1: the make-up Saturday 14 Feb.
        (local(2026, 2, 13), 1, local(2026, 2, 14)),
        # ... + 2: then nine days of Spring Festival, back on Tuesday 24 Feb.
        (local(2026, 2, 13), 2, local(2026, 2, 24)),
        # Across Labour Day: Thursday 30 Apr + 1 = Wednesday 6 May, + 4 = make-up Sat 9 May.
        (local(2026, 4, 30), 1, local(2026, 5, 6)),
        (local(2026, 4, 30), 4, local(2026, 5, 9)),
        # Zero days on a working day: the start itself.
        (local(2026, 11, 23, 9), 0, local(2026, 11, 23, 9)),
    ],
)
def test_add_working_days_skips_holidays_and_counts_make_up_days(start, days, due):
    got = add_working_days(start, days)
    assert got == due
    assert got.tzinfo is not None and got.utcoffset() == dt.timedelta(0)


def test_a_request_accepted_on_a_holiday_counts_from_the_next_working_days_start():
    # 3 Oct is in the National Day holiday: counting starts at 00:00 on Thursday 8 Oct,
    # so one working day ends at 00:00 on Friday 9 Oct (a whole working day later).
    assert add_working_days(local(2026, 10, 3, 15, 30), 1) == local(2026, 10, 9, 0, 0)
    # Zero days accepted on a holiday: the start of the next working day.
    assert add_working_days(local(2026, 10, 3, 15, 30), 0) == local(2026, 10, 8, 0, 0)
    # An ordinary Saturday behaves the same: Saturday 28 Nov → Monday 30 Nov 00:00 + 1.
    assert add_working_days(local(2026, 11, 28, 11), 1) == local(2026, 12, 1, 0, 0)


def test_the_day_is_the_citys_local_day_not_utc():
    # 17:00 UTC on 30 Sep is 01:00 on 1 Oct in the city: a holiday, so the count starts
    # on 8 Oct, not at 30 Sep 17:00 UTC as a UTC-date reading would give.
    start = dt.datetime(2026, 9, 30, 17, 0, tzinfo=dt.UTC)
    assert add_working_days(start, 1) == local(2026, 10, 9, 0, 0)
    # 15:00 UTC on 30 Sep is 23:00 the same (working) day in the city.
    start = dt.datetime(2026, 9, 30, 15, 0, tzinfo=dt.UTC)
    assert add_working_days(start, 1) == local(2026, 10, 8, 23, 0)


def test_negative_days_are_refused():
    with pytest.raises(ValueError):
        add_working_days(local(2026, 11, 23), -1)


def test_a_year_the_calendar_does_not_know_falls_back_to_monday_to_friday_with_a_warning(monkeypatch, caplog):
    monkeypatch.setattr(workdays, "_warned_years", set())
    caplog.set_level(logging.WARNING, logger="minsheng.core.workdays")
    # 2099 is far beyond any published schedule. Thursday 1 Oct 2099 would be National
    # Day; without a schedule it counts as an ordinary Thursday.
    assert add_working_days(local(2099, 9, 30), 1) == local(2099, 10, 1)
    # Friday + 1 skips the weekend only.
    assert add_working_days(local(2099, 10, 2), 1) == local(2099, 10, 5)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, "one warning per unknown year, not one per day"
    assert "2099" in warnings[0].getMessage()
    assert "chinese-calendar" in warnings[0].getMessage()


def test_the_fallback_does_not_hide_a_known_year():
    # The installed calendar knows 2026, so nothing falls back for it: 1 Oct 2026 (a
    # Thursday, like 1 Oct 2099 above) is a holiday.
    assert is_workday(dt.date(2026, 10, 1)) is False
