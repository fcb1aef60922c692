"""Entering the State Council's yearly holiday schedule (节假日安排) and what follows it.

A schedule comes as text (the page's box, one line per holiday or adjusted working day) or
as a JSON file (``minsheng loadholidays``); both end in :func:`save_schedule`, which replaces
the year's days in one transaction and lets the parts that counted limits on the old
calendar recount them (hooks registered with :func:`on_schedule_change`: ``cases`` moves
its running resolve limits).

Text, one line each (``休`` or ``rest``: days off; ``班`` or ``work``: an adjusted working
day; a range with ``至`` or ``..``; the name last)::

    休 2027-02-05 至 2027-02-11 春节
    班 2027-02-14 春节
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from . import clock, workdays
from .models import DayKind, HolidayDay, HolidaySchedule

MAX_RANGE_DAYS = 15  # the longest holiday the State Council has given is 9 days

# A hook is called before a year's schedule changes, with the year; it reads what it needs on
# the calendar in force and returns a function to call once the new one is in force.
ScheduleHook = Callable[[int], Callable[[], int]]
_hooks: list[ScheduleHook] = []


def on_schedule_change(hook: ScheduleHook) -> None:
    if hook not in _hooks:
        _hooks.append(hook)


class ScheduleError(ValueError):
    """What is wrong with a schedule, line by line (``errors``: ``(line or field, message)``)."""

    def __init__(self, errors: list[tuple[str, str]]):
        super().__init__("; ".join(f"{where}: {msg}" for where, msg in errors))
        self.errors = errors


@dataclass(frozen=True)
class Day:
    date: dt.date
    kind: str
    name: str = ""


_KIND = {"休": DayKind.REST, "rest": DayKind.REST, "班": DayKind.WORK, "work": DayKind.WORK}
_LINE = re.compile(
    r"^(?P<kind>\S+)\s+(?P<start>\d{4}-\d{1,2}-\d{1,2})"
    r"(?:\s*(?:至|到|\.\.|~|–|—)\s*(?P<end>\d{4}-\d{1,2}-\d{1,2}))?\s*(?P<name>.*)$"
)


def _date(raw: str) -> dt.date:
    y, m, d = (int(p) for p in raw.split("-"))
    return dt.date(y, m, d)


def _span(start: dt.date, end: dt.date) -> list[dt.date]:
    if end < start:
        raise ValueError(_("the range ends before it starts"))
    if (end - start).days >= MAX_RANGE_DAYS:
        raise ValueError(_("a range may span at most %(n)d days") % {"n": MAX_RANGE_DAYS})
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def parse_text(text: str) -> list[Day]:
    """The page's box into days; :class:`ScheduleError` names every bad line."""
    days: list[Day] = []
    errors: list[tuple[str, str]] = []
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = _("line %(n)d") % {"n": n}
        m = _LINE.match(line)
        if m is None or m["kind"].lower() not in _KIND:
            errors.append(
                (where, _("write 休 or 班, a date (YYYY-MM-DD), optionally 至 and a date, then the name"))
            )
            continue
        try:
            start = _date(m["start"])
            dates = _span(start, _date(m["end"])) if m["end"] else [start]
        except ValueError as exc:
            errors.append((where, str(exc)))
            continue
        kind = _KIND[m["kind"].lower()]
        days += [Day(d, kind, m["name"].strip()[:20]) for d in dates]
    if errors:
        raise ScheduleError(errors)
    return days


def parse_file(path: Path) -> tuple[int, str, list[Day]]:
    """A JSON file: ``{"year", "notice", "holidays": [{"name", "from", "to"}],
    "workdays": [{"name", "date"}]}`` (``to`` may be left out for one day)."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ScheduleError([(str(path), str(exc))]) from None
    errors: list[tuple[str, str]] = []
    if not isinstance(data, dict) or not isinstance(data.get("year"), int):
        raise ScheduleError([("year", _("the file must be an object with a whole-number year"))])
    days: list[Day] = []
    for i, item in enumerate(data.get("holidays") or []):
        try:
            start = _date(str(item["from"]))
            end = _date(str(item.get("to") or item["from"]))
            days += [Day(d, DayKind.REST, str(item.get("name", ""))[:20]) for d in _span(start, end)]
        except (KeyError, TypeError, ValueError) as exc:
            errors.append((f"holidays[{i}]", str(exc) or "from/to"))
    for i, item in enumerate(data.get("workdays") or []):
        try:
            days.append(Day(_date(str(item["date"])), DayKind.WORK, str(item.get("name", ""))[:20]))
        except (KeyError, TypeError, ValueError) as exc:
            errors.append((f"workdays[{i}]", str(exc) or "date"))
    if errors:
        raise ScheduleError(errors)
    return data["year"], str(data.get("notice", ""))[:200], days


def as_text(schedule: HolidaySchedule) -> str:
    """A saved schedule in the page's line format."""
    return days_as_text(Day(d.date, d.kind, d.name) for d in schedule.days.all())


def _check(year: int, days: Iterable[Day]) -> list[Day]:
    errors: list[tuple[str, str]] = []
    if not 2000 <= year <= 2100:
        errors.append(("year", _("the year must be between 2000 and 2100")))
    seen: dict[dt.date, Day] = {}
    first = dt.date(year - 1, 12, 1)
    for day in days:
        if not first <= day.date <= dt.date(year, 12, 31):
            errors.append((str(day.date), _("not in %(year)d (or its December before)") % {"year": year}))
        elif day.date in seen and seen[day.date].kind != day.kind:
            errors.append((str(day.date), _("listed both as a day off and as a working day")))
        seen[day.date] = day
    if not seen and not errors:
        errors.append(("days", _("a schedule lists at least one holiday")))
    taken = (
        HolidayDay.objects.filter(date__in=list(seen))
        .exclude(schedule__year=year)
        .values_list("date", flat=True)
    )
    errors += [(str(d), _("already in another year's schedule")) for d in taken]
    if errors:
        raise ScheduleError(errors)
    return sorted(seen.values(), key=lambda d: d.date)


def save_schedule(
    year: int,
    days: Iterable[Day],
    *,
    notice: str = "",
    source: str = HolidaySchedule.Source.PAGE,
    by: str = "",
) -> tuple[HolidaySchedule, int]:
    """Replace the year's schedule; returns it and how many running limits moved.

    All or nothing: a bad day refuses the whole schedule and nothing is written."""
    checked = _check(year, days)
    with transaction.atomic():
        workdays.forget()
        then = [hook(year) for hook in _hooks]  # read on the calendar in force
        schedule, _created = HolidaySchedule.objects.update_or_create(
            year=year,
            defaults={"notice": notice, "source": source, "updated_at": clock.now(), "updated_by": by},
        )
        schedule.days.all().delete()
        HolidayDay.objects.bulk_create(
            HolidayDay(schedule=schedule, date=d.date, kind=d.kind, name=d.name) for d in checked
        )
        workdays.forget()
        moved = sum(finish() for finish in then)
        transaction.on_commit(workdays.forget)
    return schedule, moved


@dataclass(frozen=True)
class Notice:
    """What the centre is told about the calendar: a year counted Mon–Fri, or next year's
    schedule missing from 1 December."""

    year: int
    level: str  # "error": this year falls back now; "warning": next year's will

    @property
    def message(self) -> str:
        if self.level == "error":
            return _(
                "There is no holiday schedule for %(year)d: limits are counted Monday to Friday. "
                "Enter the State Council's schedule."
            ) % {"year": self.year}
        return _(
            "The holiday schedule for %(year)d has not been entered yet; limits reaching into "
            "%(year)d are counted Monday to Friday until it is."
        ) % {"year": self.year}


def notices(at: dt.datetime | None = None) -> list[Notice]:
    today = (at or clock.now()).astimezone(workdays.CITY_TZ).date()
    out = []
    if workdays.source_of(today.year) is None:
        out.append(Notice(today.year, "error"))
    if today.month == 12 and workdays.source_of(today.year + 1) is None:
        out.append(Notice(today.year + 1, "warning"))
    return out


def package_days(year: int) -> list[Day]:
    """What the ``chinese-calendar`` package says of ``year`` (empty if it does not know it):
    the starting point the page offers for a year the city has not entered."""
    import chinese_calendar

    if not workdays.package_knows(year):
        return []

    def name(value: object) -> str:
        try:
            return str(chinese_calendar.Holiday(value).chinese)
        except ValueError:
            return ""

    rest = [Day(d, DayKind.REST, name(v)) for d, v in chinese_calendar.holidays.items() if d.year == year]
    work = [
        Day(d, DayKind.WORK, name(v))
        for d, v in chinese_calendar.workdays.items()
        if d.year == year and d.weekday() >= 5
    ]
    return sorted(rest + work, key=lambda d: d.date)


def days_as_text(days: Iterable[Day]) -> str:
    """Days in the page's line format, consecutive days of one kind and name joined."""
    lines: list[str] = []
    run: list[Day] = []

    def flush() -> None:
        if run:
            kind = "休" if run[0].kind == DayKind.REST else "班"
            span = str(run[0].date) if len(run) == 1 else f"{run[0].date} 至 {run[-1].date}"
            lines.append(f"{kind} {span} {run[0].name}".rstrip())
            run.clear()

    for day in sorted(days, key=lambda d: d.date):
        if run and (
            day.kind != run[-1].kind
            or day.name != run[-1].name
            or day.date != run[-1].date + dt.timedelta(days=1)
        ):
            flush()
        run.append(day)
    flush()
    return "\n".join(lines)
