"""Words for the proposals' entries in a case's timeline."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

EVENT_LABELS = {
    "proposal_handed_over": _("Proposal handed over"),  # 交办
    "proposer_contacted": _("Proposer contacted"),  # 联系代表委员
}
