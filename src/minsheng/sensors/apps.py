from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

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


class SensorsConfig(AppConfig):
    """Smart water (智慧水务): monitoring points, their readings, alarms that open work
    orders, and remote valve commands."""

    name = "minsheng.sensors"
    label = "sensors"
    verbose_name = _("Sensors")

    def ready(self) -> None:
        from minsheng.cases import registry

        from .presenters import EVENT_LABELS

        registry.register_event_kinds({kind: EVENT_LABELS[kind] for kind in CASE_EVENT_KINDS})
