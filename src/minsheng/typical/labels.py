"""The words of the typical-case entries in a case's log."""

from django.utils.translation import gettext_lazy as _

EVENT_LABELS = {
    "typical_nominated": _("Nominated as a typical case"),
    "typical_published": _("Published as a typical case"),
}
