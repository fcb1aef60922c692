"""Words for the transfers' entries in a case's timeline."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

EVENT_LABELS = {
    "transfer_accepted": _("Accepted from 110"),  # 110移交接收
    "police_transfer": _("Transferred to 110"),  # 移交110
    "police_receipt": _("110's receipt"),  # 110签收回执
    "police_result": _("110's result"),  # 110反馈结果
}
