"""The enterprise requests' own figure on the statistics page (issue #17), registered with
stats from ``EnterpriseConfig.ready()``: stats counts it without knowing the type."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from minsheng.cases.states import ClockName
from minsheng.stats.registry import register_measure

ENTERPRISE_CASES = {"enterprise_link__isnull": False}


def register() -> None:
    register_measure(
        "enterprise_resolve",
        kind="ent_resolve",
        label=_("Enterprise requests resolved in time"),
        definition=_(
            "Enterprise requests' resolve clocks met (closed) within the enterprise matter's own limit"
            " / their resolve clocks met or missed."
        ),
        num_label=_("in time"),
        den_label=_("decided"),
        cases=ENTERPRISE_CASES,
        clock=ClockName.RESOLVE,
    )
