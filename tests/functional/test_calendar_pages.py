"""The holiday schedule pages: the centre's banner from 1 December while next year's
schedule is missing, entering a year in the page, and who may."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from minsheng.core import clock, workdays
from minsheng.core.models import HolidaySchedule
from tests.common.factories import PASSWORD

pytestmark = pytest.mark.django_db
CST = dt.timezone(dt.timedelta(hours=8))
SCHEDULE_2027 = "休 2027-01-01 元旦\n休 2027-02-05 至 2027-02-11 春节\n班 2027-02-14 春节"


def client_for(city, name: str) -> Client:
    c = Client()
    assert c.login(username=city.users[name].username, password=PASSWORD)
    return c


@pytest.fixture
def december(now, monkeypatch):
    """1 December 2026 in the city, the shipped calendar knowing years up to 2026."""
    monkeypatch.setattr(workdays, "package_knows", lambda year: year <= 2026)
    clock.set_now(dt.datetime(2026, 12, 1, 9, 0, tzinfo=CST))


def test_the_centre_sees_the_missing_schedule_and_enters_it(city, december):
    c = client_for(city, "dispatcher")
    body = c.get(reverse("web:queue")).content.decode()
    assert "calendar-notice" in body and "2027 年的节假日安排尚未录入" in body
    page = c.get(reverse("web:calendar_year", args=[2027]))
    assert page.status_code == 200
    response = c.post(
        reverse("web:calendar_year", args=[2027]),
        {"notice": "国务院办公厅关于2027年部分节假日安排的通知", "days": SCHEDULE_2027},
        follow=True,
    )
    assert response.status_code == 200
    assert "2027 年节假日安排已保存" in response.content.decode()
    assert HolidaySchedule.objects.get(year=2027).updated_by
    assert workdays.is_workday(dt.date(2027, 2, 8)) is False
    assert workdays.is_workday(dt.date(2027, 2, 14)) is True
    body = c.get(reverse("web:queue")).content.decode()
    assert "calendar-notice" not in body
    listing = c.get(reverse("web:calendar")).content.decode()
    assert "市级安排" in listing


def test_a_bad_line_is_named_and_nothing_is_saved(city, december):
    c = client_for(city, "admin")
    response = c.post(
        reverse("web:calendar_year", args=[2027]),
        {"notice": "", "days": "休 2027-02-05 至 2027-02-11 春节\n放假"},
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "第 2 行" in body and "schedule-errors" in body
    assert "放假" in body  # what was typed stays in the box
    assert not HolidaySchedule.objects.exists()


def test_only_the_centre_and_administrators_enter_a_schedule(city, december):
    leader = client_for(city, "leader")
    assert leader.get(reverse("web:calendar_year", args=[2027])).status_code == 200
    assert leader.post(reverse("web:calendar_year", args=[2027]), {"days": SCHEDULE_2027}).status_code == 403
    assert "calendar-notice" in leader.get(reverse("web:calendar")).content.decode()
    roads = client_for(city, "roads")
    response = roads.get(reverse("web:calendar_year", args=[2027]))
    assert response.status_code == 302
    assert "calendar-notice" not in roads.get(reverse("web:inbox")).content.decode()
    assert not HolidaySchedule.objects.exists()


def test_no_banner_before_december_or_once_the_calendar_knows_next_year(city, now, monkeypatch):
    monkeypatch.setattr(workdays, "package_knows", lambda year: year <= 2026)
    clock.set_now(dt.datetime(2026, 11, 30, 23, 59, tzinfo=CST))
    c = client_for(city, "dispatcher")
    assert "calendar-notice" not in c.get(reverse("web:queue")).content.decode()
    monkeypatch.setattr(workdays, "package_knows", lambda year: year <= 2027)
    clock.set_now(dt.datetime(2026, 12, 1, 0, 1, tzinfo=CST))
    assert "calendar-notice" not in c.get(reverse("web:queue")).content.decode()
