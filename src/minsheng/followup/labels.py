"""Words for the follow-up's entries in the case's timeline."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

EVENT_LABELS = {
    "followup_scheduled": _("Follow-up scheduled"),
    "followup": _("Follow-up answered"),  # 回访
    "followup_attempt": _("Follow-up call not answered"),
    "followup_unreachable": _("Follow-up: requester unreachable"),  # 无法联系
    "followup_cancelled": _("Follow-up cancelled"),
}
