"""Words for the calls' entries in a case's timeline."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

EVENT_LABELS = {
    "call_linked": _("Registered from a call"),  # 来电受理
}
