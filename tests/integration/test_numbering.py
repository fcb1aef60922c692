"""Case numbers (issue #15): readable, unique per day, starting at 1 each local day, and
on PostgreSQL taken from a sequence per day that no intake holds until it commits."""

from __future__ import annotations

import datetime as dt
import importlib

from django.apps import apps
from django.db import connection

from minsheng.cases.models import DailyCounter
from minsheng.core.workdays import CITY_TZ
from tests.common.factories import intake


def test_numbers_count_from_one_each_local_day(city, now):
    day = now().astimezone(CITY_TZ)
    first = [intake(city, text=f"井盖坏了 {i}").number for i in range(3)]
    assert first == [f"MS{day:%Y%m%d}{n:05d}" for n in (1, 2, 3)]
    now.advance(days=1)
    tomorrow = now().astimezone(CITY_TZ)
    assert intake(city, text="又坏了").number == f"MS{tomorrow:%Y%m%d}00001"


def test_a_day_numbered_by_the_old_counter_goes_on_after_its_last_number(city, now):
    """The migration to sequences carries today's count over (a no-op on SQLite, which
    keeps the counter)."""
    day = now().astimezone(CITY_TZ).date()
    DailyCounter.objects.create(day=day - dt.timedelta(days=5), last=7)
    DailyCounter.objects.create(day=day, last=41)
    if connection.vendor == "postgresql":
        migration = importlib.import_module("minsheng.cases.migrations.0009_case_number_sequences")
        with connection.schema_editor() as editor:
            migration.carry_over(apps, editor)
    assert intake(city).number == f"MS{day:%Y%m%d}00042"
