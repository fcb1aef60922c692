"""Words for the events sensors write, on a device's log and on a case's timeline. The
case's kinds (``CASE_EVENT_KINDS``) are registered with the case's event kinds in
``SensorsConfig.ready()``; the device's log has its own (``registered``)."""

from django.utils.translation import gettext_lazy as _

EVENT_LABELS = {
    "registered": _("Registered"),
    "alarm_raised": _("Sensor alarm"),
    "alarm_attached": _("Sensor alarm joined the case"),
    "alarm_cleared": _("Sensor alarm cleared"),
    "command_sent": _("Remote command sent"),
    "command_acked": _("Remote command acknowledged"),
    "command_refused": _("Remote command refused by the device"),
    "command_failed": _("Remote command failed"),
    "command_late_ack": _("Late acknowledgement"),
}

# The events this app appends to a case's log (the others stand only in a device's).
CASE_EVENT_KINDS = (
    "alarm_raised",
    "alarm_attached",
    "alarm_cleared",
    "command_sent",
    "command_acked",
    "command_refused",
    "command_failed",
    "command_late_ack",
)
