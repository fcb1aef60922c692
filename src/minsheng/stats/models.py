"""Rollups behind the statistics page: per-day (and per-month, per-year) sums of what the
measures in :mod:`minsheng.stats.measures` count, so that a year of a large city is read
from thousands of rows instead of millions.

The tables are a cache. Everything in them can be rebuilt from the clocks and the event
log (``refresh_rollups`` with ``rebuild=True``); nothing else writes to them.
"""

from __future__ import annotations

from django.db import models


class Grain(models.TextChoices):
    DAY = "d", "day"
    MONTH = "m", "month"
    YEAR = "y", "year"


# Which of the optional dimensions a row keeps (the unit is always kept: the page groups
# by unit). OWNER, the case's current owner unit, is needed only to scope a sub-centre's
# or a handler's figures.
TOWN, MATTER, CHANNEL, OWNER = 1, 2, 4, 8
FULL = TOWN | MATTER | CHANNEL | OWNER
# The grouping sets stored per grain; a query part uses the smallest one that keeps every
# dimension it filters on, and filters FULL rows through an index otherwise. Days keep
# FULL (from which everything else is summed) and the whole city (what "this week" and
# "this month" read); months add a channel set and the sub-centre's view (OWNER | TOWN,
# which also answers a town filter); years keep the small sets only (a year with another
# filter reads its twelve months). Measured: docs/stats.md.
DAY_GSETS: tuple[int, ...] = (0, FULL)
MONTH_GSETS: tuple[int, ...] = (0, CHANNEL, OWNER | TOWN, FULL)
YEAR_GSETS: tuple[int, ...] = (0, CHANNEL, OWNER | TOWN)
GSETS = tuple(sorted(set(DAY_GSETS) | set(MONTH_GSETS) | set(YEAR_GSETS)))
# Smallest first (typical row counts), to pick among the sets that would do.
GSET_ORDER = (0, OWNER, TOWN, OWNER | TOWN, CHANNEL, MATTER, TOWN | MATTER | CHANNEL, FULL)


def gset_for(bits: int, stored: tuple[int, ...]) -> int | None:
    """The smallest stored grouping set keeping every dimension in ``bits``."""
    for g in GSET_ORDER:
        if g in stored and g & bits == bits:
            return g
    return None


NONE = 0  # "no unit / no town / no matter", and a dimension the grouping set drops


class _Dims(models.Model):
    """The key every rollup row shares. Plain integers, not foreign keys: the rows are a
    cache, and a unit or matter can be deleted (or never existed in a benchmark) without
    the rollup standing in the way. No NULLs: ``0`` (``""`` for the channel) stands for
    "none" or "not kept", which the grouping set tells apart; so the key can be unique
    and a change can be added to a row in place (``ON CONFLICT … DO UPDATE``)."""

    grain = models.CharField(max_length=1, choices=Grain.choices)
    period = models.DateField()  # the day, or the first day of the month / year
    gset = models.PositiveSmallIntegerField()
    unit_id = models.BigIntegerField(default=NONE)  # the unit held to it / judged
    owner_id = models.BigIntegerField(default=NONE)  # the case's current owner (OWNER sets)
    town_id = models.BigIntegerField(default=NONE)
    matter_id = models.BigIntegerField(default=NONE)
    channel = models.CharField(max_length=16, blank=True, default="")

    class Meta:
        abstract = True


# The unique key is also the main index: the grouping set and period first, then the
# dimensions queries filter on most (town, matter, channel), then unit and owner.
KEY = ("gset", "grain", "period", "town_id", "matter_id", "channel", "unit_id", "owner_id")


class Rollup(_Dims):
    """Counts. ``kind`` is a clock name (``n`` decided = met in time + missed, ``ok`` met in
    time) or an event kind: ``rating`` (``n`` rated, ``ok`` satisfied or basically
    satisfied), ``close``, ``reopen``, ``return``, ``assign`` (``n`` events)."""

    kind = models.CharField(max_length=16)
    n = models.BigIntegerField(default=0)
    ok = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=[*KEY, "kind"], name="stats_rollup_unique"),
        ]
        indexes = [
            models.Index(fields=["unit_id", "gset", "grain", "period"], name="stats_rollup_unit"),
            models.Index(fields=["matter_id", "gset", "grain", "period"], name="stats_rollup_matter"),
            models.Index(fields=["owner_id", "gset", "grain", "period"], name="stats_rollup_owner"),
            models.Index(fields=["channel", "gset", "grain", "period"], name="stats_rollup_channel"),
        ]

    def __str__(self) -> str:
        return f"{self.grain}{self.period} g{self.gset} u{self.unit_id} {self.kind}={self.ok}/{self.n}"


class RollupDuration(_Dims):
    """How long the met clocks took: a histogram over fixed log-scale buckets (see
    :mod:`minsheng.stats.buckets`), ``n`` clocks of clock ``name`` in ``bucket``."""

    name = models.CharField(max_length=16)
    bucket = models.PositiveSmallIntegerField()
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=[*KEY, "name", "bucket"], name="stats_dur_unique"),
        ]
        indexes = [
            models.Index(fields=["unit_id", "gset", "grain", "period"], name="stats_dur_unit"),
            models.Index(fields=["matter_id", "gset", "grain", "period"], name="stats_dur_matter"),
            models.Index(fields=["owner_id", "gset", "grain", "period"], name="stats_dur_owner"),
            models.Index(fields=["channel", "gset", "grain", "period"], name="stats_dur_channel"),
        ]

    def __str__(self) -> str:
        return f"{self.grain}{self.period} g{self.gset} u{self.unit_id} {self.name}[{self.bucket}]={self.n}"


class RollupPeriod(models.Model):
    """A month or year whose rows have been summed from its days (or months). From then on
    a rebuilt day adds its change to them instead of their being summed again."""

    grain = models.CharField(max_length=1, choices=Grain.choices)
    period = models.DateField()
    built_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["grain", "period"], name="stats_period_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.grain}{self.period}"


class RollupDay(models.Model):
    """One local day's state in the rollup: built (and when), or waiting to be rebuilt
    because something on it changed since."""

    day = models.DateField(primary_key=True)
    dirty = models.BooleanField(default=True)
    built_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"{self.day} {'dirty' if self.dirty else 'built'}"


class RollupState(models.Model):
    """The refresh's watermark (a single row)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_run_at = models.DateTimeField(null=True)
    # Every local day up to and including this one has been built at least once.
    complete_through = models.DateField(null=True)

    def __str__(self) -> str:
        return f"rollups through {self.complete_through}"
