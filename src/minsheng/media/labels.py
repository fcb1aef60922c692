"""Words for the case timeline of the events this app appends (registered with the case's
event kinds in ``MediaConfig.ready()``)."""

from django.utils.translation import gettext_lazy

EVENT_LABELS = {
    "photo": gettext_lazy("Photo added"),
}
