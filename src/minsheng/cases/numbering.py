"""Case numbers a person can read out on the phone: prefix + local date + sequence."""

from __future__ import annotations

import datetime as dt

from django.db.models import F

from minsheng.core.conf import setting
from minsheng.core.workdays import CITY_TZ

from .models import DailyCounter


def next_number(at: dt.datetime) -> str:
    """``MS2026112300042``. Call inside the intake transaction: the counter row is locked
    until it commits, so two intakes never share a number."""
    day = at.astimezone(CITY_TZ).date()
    DailyCounter.objects.get_or_create(day=day)
    DailyCounter.objects.filter(day=day).update(last=F("last") + 1)
    seq = DailyCounter.objects.get(day=day).last
    return f"{setting('MINSHENG_CASE_PREFIX', 'MS')}{day:%Y%m%d}{seq:05d}"
