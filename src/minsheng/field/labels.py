"""Words for the case timeline of the events this app and ``minsheng.media`` append
(merged into the case page's labels beside the spine's)."""

from django.utils.translation import gettext_lazy

EVENT_LABELS = {
    "arrive": gettext_lazy("Arrived on site"),
    "photo": gettext_lazy("Photo added"),
}
