"""Working days by China's official calendar, adjusted working days (调休) included.

Where a day's answer comes from, first match wins:

1. the city's own schedule for that year (``HolidaySchedule``: entered in the pages at
   ``/calendar/`` or loaded with ``minsheng loadholidays``), a day it lists as a holiday (休)
   or an adjusted working day (班), any other day by Monday–Friday;
2. the ``chinese-calendar`` package, for the years its installed release knows;
3. Monday–Friday, with a warning logged once per year (the *fallback*): a case is never
   refused because of the calendar. Limits counted under the fallback are recomputed when
   the year's schedule arrives (``minsheng.core.holidays.save_schedule``).

The city's schedules are read once and kept for ``REFRESH_S`` seconds in each process (the
process that saves one forgets its copy at once).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import chinese_calendar

log = logging.getLogger(__name__)
CITY_TZ = ZoneInfo("Asia/Shanghai")
REFRESH_S = 60.0
_warned_years: set[int] = set()


@dataclass(frozen=True)
class CitySchedules:
    """The city's entered years and the days they list (True: a working day)."""

    years: frozenset[int] = frozenset()
    days: dict[dt.date, bool] = field(default_factory=dict)


_lock = threading.Lock()
_cached: tuple[float, CitySchedules] | None = None


def _load_city_schedules() -> CitySchedules:
    from .models import DayKind, HolidayDay, HolidaySchedule

    years = frozenset(HolidaySchedule.objects.values_list("year", flat=True))
    days = {d: kind == DayKind.WORK for d, kind in HolidayDay.objects.values_list("date", "kind")}
    return CitySchedules(years, days)


def city_schedules() -> CitySchedules:
    global _cached
    with _lock:
        if _cached is None or time.monotonic() - _cached[0] > REFRESH_S:
            _cached = (time.monotonic(), _load_city_schedules())
        return _cached[1]


def forget() -> None:
    """Read the city's schedules again on the next question (after one was saved)."""
    global _cached
    with _lock:
        _cached = None


def package_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def source_of(year: int) -> str | None:
    """``"city"``, ``"package"``, or ``None`` when the year would fall back to Mon–Fri."""
    if year in city_schedules().years:
        return "city"
    return "package" if package_knows(year) else None


def is_workday(day: dt.date) -> bool:
    city = city_schedules()
    listed = city.days.get(day)
    if listed is not None:
        return listed
    if day.year in city.years:
        return day.weekday() < 5
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            log.warning(
                "No holiday schedule for %s: counting Mon-Fri. Enter the State Council's schedule "
                "at /calendar/ or load it with 'minsheng loadholidays' (or upgrade chinese-calendar).",
                day.year,
            )
        return day.weekday() < 5


def _anchor(start: dt.datetime) -> dt.datetime:
    """Where counting starts: ``start`` on a working day, else the next working day's 00:00."""
    local = start.astimezone(CITY_TZ)
    day = local.date()
    if is_workday(day):
        return local
    while not is_workday(day):
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=CITY_TZ)


def add_working_days(start: dt.datetime, days: int) -> dt.datetime:
    """The moment ``days`` working days after ``start``, at the same local time of day.

    A request accepted on a rest day starts counting from the next working day's start,
    which is how hotline centres count: the limit never ends on a holiday.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    local = _anchor(start)
    day = local.date()
    remaining = days
    while remaining:
        day += dt.timedelta(days=1)
        if is_workday(day):
            remaining -= 1
    result = dt.datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=CITY_TZ)
    return result.astimezone(dt.UTC)


def count_working_days(start: dt.datetime, due: dt.datetime) -> int:
    """How many working days ``add_working_days(start, n)`` needed to reach ``due``'s day,
    on the calendar in force now (the inverse, used to recount a limit on a new schedule)."""
    day = _anchor(start).date()
    end = due.astimezone(CITY_TZ).date()
    n = 0
    while day < end:
        day += dt.timedelta(days=1)
        if is_workday(day):
            n += 1
    return n


def years_between(start: dt.datetime, due: dt.datetime) -> range:
    return range(start.astimezone(CITY_TZ).year, due.astimezone(CITY_TZ).year + 1)
