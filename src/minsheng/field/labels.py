"""Words for the case timeline of the events this app appends (registered with the case's
event kinds in ``FieldConfig.ready()``)."""

from django.utils.translation import gettext_lazy

EVENT_LABELS = {
    "arrive": gettext_lazy("Arrived on site"),
}
