"""Words for the enterprise's entries in a case's timeline."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

EVENT_LABELS = {
    "enterprise_linked": _("Enterprise request"),  # 涉企诉求
}
