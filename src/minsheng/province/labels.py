"""Words for the provincial platform's entries in a case's timeline."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

EVENT_LABELS = {
    "province_received": _("Sent down by the provincial platform"),  # 省级平台下派
}
