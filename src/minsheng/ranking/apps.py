from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RankingConfig(AppConfig):
    """The monthly evaluation of units (考核): a composite score from the measures, tiers,
    the red/yellow list (红黄榜) and the monthly report (月报)."""

    name = "minsheng.ranking"
    label = "ranking"
    verbose_name = _("Ranking")
