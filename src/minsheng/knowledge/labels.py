"""Words for the knowledge base's entries in a case's timeline."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

EVENT_LABELS = {
    "answered_on_the_spot": _("Answered on the spot"),  # 直接答复 / 即时办结
    "answer_sms": _("Answer sent by SMS"),
}
