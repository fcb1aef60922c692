"""What the city sets for its monthly evaluation (考核): a weight per measure and one policy
(tiers, the red and the yellow list)."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from minsheng.stats.measures import MEASURES

# Measures where less is better: they count as 1 - rate.
INVERTED = frozenset({"reopen", "returns", "followup_unreachable"})
# City-wide figures have no unit to judge.
NOT_RANKED = frozenset({"direct_answer"})


def rankable() -> list[tuple[str, object]]:
    """The measures a unit may be ranked on (a callable: a new measure needs no migration)."""
    return [(m.key, m.label) for m in MEASURES if m.key not in NOT_RANKED]


# The weights a city starts from (a measure without a row weighs this much).
DEFAULT_WEIGHTS = {
    "sign": 15.0,
    "dispatch": 10.0,
    "feedback": 20.0,
    "resolve": 20.0,
    "response": 10.0,
    "satisfaction": 20.0,
    "reopen": 5.0,
    "returns": 5.0,
}


class MeasureWeight(models.Model):
    """How much one measure counts in a unit's score (0: not at all)."""

    measure = models.CharField(_("measure"), max_length=32, choices=rankable, unique=True)
    weight = models.FloatField(_("weight"), validators=[MinValueValidator(0), MaxValueValidator(1000)])

    class Meta:
        ordering = ["measure"]
        verbose_name = _("measure weight")
        verbose_name_plural = _("measure weights")

    def __str__(self) -> str:
        return f"{self.get_measure_display()}: {self.weight:g}"


class RankingPolicy(models.Model):
    """Tiers by score, and who goes on the red list (红榜: the best, at or above a mark) and
    the yellow list (黄榜: those under a mark, the worst first). One row."""

    tier_a = models.FloatField(_("tier A from"), default=90)
    tier_b = models.FloatField(_("tier B from"), default=80)
    tier_c = models.FloatField(_("tier C from"), default=70)
    red_size = models.PositiveIntegerField(_("red list: at most"), default=3)
    red_from = models.FloatField(_("red list: score at least"), default=90)
    yellow_size = models.PositiveIntegerField(_("yellow list: at most"), default=3)
    yellow_under = models.FloatField(_("yellow list: score under"), default=70)
    min_decided = models.PositiveIntegerField(
        _("least items decided to be ranked"),
        default=5,
        help_text=_("A unit with fewer clocks and ratings in the month is shown but not ranked."),
    )

    class Meta:
        verbose_name = _("ranking policy")
        verbose_name_plural = _("ranking policy")

    def __str__(self) -> str:
        return str(_("Ranking policy"))

    @classmethod
    def current(cls) -> RankingPolicy:
        return cls.objects.order_by("pk").first() or cls()
