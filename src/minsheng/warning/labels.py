"""The words of the early-warning app's entries in a case's log."""

from django.utils.translation import gettext_lazy as _

EVENT_LABELS = {
    "topic_linked": _("Linked to a governance topic"),
}
