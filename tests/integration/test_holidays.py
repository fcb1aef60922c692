"""The city's own holiday schedule (节假日安排): it takes precedence over the shipped
calendar, a year nobody entered falls back to Monday–Friday, the centre is warned from
1 December while next year's is missing, and limits counted on the fallback are recounted
when the schedule arrives.

2099 is a year no calendar package will know; 1 October 2099 is a Thursday."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from minsheng.cases import actions
from minsheng.cases.models import Case, CaseClock, CaseEvent
from minsheng.cases.states import ClockName
from minsheng.core import clock, holidays, workdays
from minsheng.core.models import HolidayDay, HolidaySchedule
from minsheng.core.workdays import add_working_days, is_workday
from tests.common.factories import intake

CST = ZoneInfo("Asia/Shanghai")
NATIONAL_DAY_2099 = """
# 国庆节
休 2099-10-01 至 2099-10-07 国庆节
班 2099-10-10 国庆节
"""


def local(y, m, d, h=10, mi=0):
    return dt.datetime(y, m, d, h, mi, tzinfo=CST)


def resolve_due(case) -> dt.datetime:
    return CaseClock.objects.get(case=case, name=ClockName.RESOLVE, stopped_at__isnull=True).due_at


@pytest.fixture
def package_knows_to_2026(monkeypatch):
    """The shipped calendar as released in 2025: it knows years up to 2026."""
    monkeypatch.setattr(workdays, "package_knows", lambda year: year <= 2026)


def test_a_year_the_city_entered_counts_its_holidays_and_adjusted_days(db):
    assert add_working_days(local(2099, 9, 30), 1) == local(2099, 10, 1)  # Mon–Fri fallback
    holidays.save_schedule(2099, holidays.parse_text(NATIONAL_DAY_2099))
    assert workdays.source_of(2099) == "city"
    assert is_workday(dt.date(2099, 10, 5)) is False  # a Monday in the holiday
    assert is_workday(dt.date(2099, 10, 10)) is True  # the adjusted Saturday
    assert is_workday(dt.date(2099, 10, 17)) is False  # an ordinary Saturday
    assert add_working_days(local(2099, 9, 30), 1) == local(2099, 10, 8)
    assert add_working_days(local(2099, 9, 30), 3) == local(2099, 10, 10)


def test_the_citys_schedule_takes_precedence_over_the_shipped_one(db):
    assert is_workday(dt.date(2026, 10, 5)) is False  # National Day, as shipped
    # A city that (say) keeps its offices open on 5 October enters its own 2026.
    holidays.save_schedule(2026, holidays.parse_text("休 2026-10-01 至 2026-10-04 国庆节"))
    assert is_workday(dt.date(2026, 10, 5)) is True
    assert is_workday(dt.date(2026, 10, 10)) is False  # the shipped make-up day is not the city's


def test_limits_counted_on_the_fallback_are_recounted_when_the_schedule_arrives(city, now):
    clock.set_now(local(2099, 9, 30))  # Wednesday, the eve of National Day
    plain = intake(city)  # road.manhole: 2 working days
    extended = intake(city)
    urgent = intake(city, urgent=True)
    done = intake(city)
    assert resolve_due(plain) == local(2099, 10, 2)  # Thu, Fri: counted Mon–Fri
    roads = city.actor("roads")
    actions.sign_case(roads, extended.pk)
    actions.request_extension(roads, extended.pk, days=2, note="等材料")
    actions.approve_extension(city.actor("dispatcher"), extended.pk)
    assert resolve_due(extended) == local(2099, 10, 6)  # 2 + 2 working days, Mon–Fri
    urgent_due = resolve_due(urgent)
    CaseClock.objects.filter(case=done, name=ClockName.RESOLVE).update(met_at=clock.now())
    done_due = CaseClock.objects.get(case=done, name=ClockName.RESOLVE).due_at

    _schedule, moved = holidays.save_schedule(2099, holidays.parse_text(NATIONAL_DAY_2099))

    assert moved == 2
    assert resolve_due(plain) == local(2099, 10, 9)  # Thu 8, Fri 9 October
    assert resolve_due(extended) == local(2099, 10, 12)  # Thu 8, Fri 9, Sat 10 (班), Mon 12
    assert resolve_due(urgent) == urgent_due  # counted in hours, not days
    assert CaseClock.objects.get(case=done, name=ClockName.RESOLVE).due_at == done_due  # met
    warn = CaseClock.objects.get(case=plain, name=ClockName.RESOLVE, stopped_at__isnull=True)
    assert warn.warn_at > local(2099, 10, 2)  # the warning follows the limit
    # The case's timeline says so, without making anybody's open form stale.
    (entry,) = CaseEvent.objects.filter(case=plain, action="limit_recounted")
    assert "2099" in entry.note and "2099-10-09 10:00" in entry.note
    assert entry.data["from"].startswith("2099-10-02") and entry.data["working_days"] == 2
    assert not CaseEvent.objects.filter(case=urgent, action="limit_recounted").exists()
    assert Case.objects.get(pk=plain.pk).version == plain.version
    # Entering the same schedule again moves nothing.
    assert holidays.save_schedule(2099, holidays.parse_text(NATIONAL_DAY_2099))[1] == 0


def test_a_bad_schedule_is_refused_whole_with_each_line_named(db):
    text = "休 2099-10-01 至 2099-10-07 国庆节\n放假 2099-10-08\n班 2099-02-30 春节\n休 2100-01-01 元旦"
    with pytest.raises(holidays.ScheduleError) as caught:
        holidays.save_schedule(2099, holidays.parse_text(text))
    where = [w for w, _msg in caught.value.errors]
    assert where == ["第 2 行", "第 3 行"]
    with pytest.raises(holidays.ScheduleError) as caught:
        holidays.save_schedule(2099, holidays.parse_text("休 2100-01-01 元旦"))
    assert caught.value.errors[0][0] == "2100-01-01"
    assert not HolidaySchedule.objects.exists() and not HolidayDay.objects.exists()


def test_the_centre_is_warned_from_1_december_while_next_years_schedule_is_missing(db, package_knows_to_2026):
    assert holidays.notices(local(2026, 11, 30, 23, 59)) == []
    # 16:01 UTC on 30 November is 00:01 on 1 December in the city.
    (notice,) = holidays.notices(dt.datetime(2026, 11, 30, 16, 1, tzinfo=dt.UTC))
    assert notice.year == 2027 and notice.level == "warning"
    assert "2027" in notice.message
    # Into 2027 with nothing entered: this year itself is counted Mon–Fri.
    assert [(n.year, n.level) for n in holidays.notices(local(2027, 1, 4))] == [(2027, "error")]
    holidays.save_schedule(2027, holidays.parse_text("休 2027-01-01 元旦"))
    assert holidays.notices(local(2026, 12, 1)) == []
    assert holidays.notices(local(2027, 1, 4)) == []


def test_loadholidays_loads_a_file_and_refuses_a_bad_one(db, tmp_path, capsys):
    good = tmp_path / "2099.json"
    good.write_text(
        json.dumps(
            {
                "year": 2099,
                "notice": "国务院办公厅关于2099年部分节假日安排的通知",
                "holidays": [{"name": "国庆节", "from": "2099-10-01", "to": "2099-10-07"}],
                "workdays": [{"name": "国庆节", "date": "2099-10-10"}],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    call_command("loadholidays", str(good))
    assert "7 days off, 1 adjusted working days" in capsys.readouterr().out
    schedule = HolidaySchedule.objects.get(year=2099)
    assert schedule.source == "file" and schedule.notice.startswith("国务院办公厅")
    assert add_working_days(local(2099, 9, 30), 3) == local(2099, 10, 10)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"year": 2098, "holidays": [{"name": "x", "from": "2098-13-01"}]}))
    with pytest.raises(CommandError, match=r"holidays\[0\]"):
        call_command("loadholidays", str(bad))
    assert not HolidaySchedule.objects.filter(year=2098).exists()


def test_the_shipped_schedule_is_offered_as_the_starting_point(db):
    text = holidays.days_as_text(holidays.package_days(2026))
    assert "休 2026-02-15 至 2026-02-23 春节" in text
    assert "班 2026-02-14 春节" in text
    assert holidays.package_days(2099) == []
