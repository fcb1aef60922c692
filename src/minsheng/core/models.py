"""The city's own copy of the State Council's yearly holiday schedule (节假日安排).

Working days come from the ``chinese-calendar`` package by default; a year the city enters
(in the pages or from a file) takes precedence over the package for that year, so a city
never waits for a package release to count its limits right.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class DayKind(models.TextChoices):
    REST = "rest", _("Day off")  # 休
    WORK = "work", _("Adjusted working day")  # 班 (调休上班)


class HolidaySchedule(models.Model):
    """One year's schedule (年度节假日安排) as the city entered or loaded it."""

    class Source(models.TextChoices):
        PAGE = "page", _("Entered in the pages")
        FILE = "file", _("Loaded from a file")

    year = models.PositiveSmallIntegerField(
        unique=True, validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    # The notice it follows, e.g. 国务院办公厅关于2027年部分节假日安排的通知.
    notice = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=8, choices=Source.choices)
    updated_at = models.DateTimeField()
    updated_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-year"]

    def __str__(self) -> str:
        return str(self.year)


class HolidayDay(models.Model):
    """A day that differs from Monday–Friday: a holiday (休) or an adjusted working day (班).

    A schedule may hold a day of the year before (an adjusted working day in late December
    for New Year's Day); a date belongs to one schedule only."""

    schedule = models.ForeignKey(HolidaySchedule, on_delete=models.CASCADE, related_name="days")
    date = models.DateField(unique=True)
    kind = models.CharField(max_length=4, choices=DayKind.choices)
    name = models.CharField(max_length=20, blank=True)  # 春节, 国庆节 …

    class Meta:
        ordering = ["date"]
        constraints = [
            models.CheckConstraint(
                name="holiday_day_kind_valid", condition=models.Q(kind__in=DayKind.values)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.kind}"
