"""The proposals' own figures on the statistics page (issue #17), registered with stats
from ``ProposalsConfig.ready()``: the contact clock is a proposal case's dispatch clock,
the written reply its feedback clock, the proposer's verdict its rating (see ``rules``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from minsheng.cases.states import ClockName
from minsheng.stats.registry import register_measure

PROPOSAL_CASES = {"proposal__isnull": False}


def register() -> None:
    register_measure(
        "proposal_contact",
        kind="prop_contact",
        label=_("Proposers contacted in time"),
        definition=_(
            "Proposals whose proposer was contacted within the contact limit (30 days after signing)"
            " / contact clocks met or missed."
        ),
        num_label=_("in time"),
        den_label=_("decided"),
        cases=PROPOSAL_CASES,
        clock=ClockName.DISPATCH,
    )
    register_measure(
        "proposal_reply",
        kind="prop_reply",
        label=_("Proposals replied in time"),
        definition=_(
            "Written replies given within the reply limit (3 months after the hand-over)"
            " / reply clocks met or missed."
        ),
        num_label=_("in time"),
        den_label=_("decided"),
        cases=PROPOSAL_CASES,
        clock=ClockName.FEEDBACK,
    )
    register_measure(
        "proposal_verdict",
        kind="prop_verdict",
        label=_("Proposers' satisfaction"),
        definition=_("Proposers' verdicts satisfied or basically satisfied / all verdicts."),
        num_label=_("satisfied"),
        den_label=_("verdicts"),
        cases=PROPOSAL_CASES,
        action="rate",
    )
