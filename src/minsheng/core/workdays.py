"""Working days by China's official calendar, adjusted working days (调休) included.

The calendar comes from the maintained ``chinese-calendar`` package, which the State
Council's yearly announcement updates. For a year the installed release does not know yet
we fall back to Monday–Friday and log a warning once per year, so a case is never refused
because of the calendar; upgrading the package fixes the limits computed from then on.
"""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

import chinese_calendar

log = logging.getLogger(__name__)
CITY_TZ = ZoneInfo("Asia/Shanghai")
_warned_years: set[int] = set()


def is_workday(day: dt.date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            log.warning(
                "chinese-calendar has no official schedule for %s; counting Mon-Fri. "
                "Upgrade the chinese-calendar package.",
                day.year,
            )
        return day.weekday() < 5


def add_working_days(start: dt.datetime, days: int) -> dt.datetime:
    """The moment ``days`` working days after ``start``, at the same local time of day.

    A request accepted on a rest day starts counting from the next working day's start,
    which is how hotline centres count: the limit never ends on a holiday.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    local = start.astimezone(CITY_TZ)
    day = local.date()
    if not is_workday(day):
        while not is_workday(day):
            day += dt.timedelta(days=1)
        local = dt.datetime.combine(day, dt.time(0, 0), tzinfo=CITY_TZ)
    remaining = days
    while remaining:
        day += dt.timedelta(days=1)
        if is_workday(day):
            remaining -= 1
    result = dt.datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=CITY_TZ)
    return result.astimezone(dt.UTC)
