from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SensorsConfig(AppConfig):
    """Smart water (智慧水务): monitoring points, their readings, alarms that open work
    orders, and remote valve commands."""

    name = "minsheng.sensors"
    label = "sensors"
    verbose_name = _("Sensors")

    def ready(self) -> None:
        from minsheng.cases import registry

        from .labels import CASE_EVENT_KINDS, EVENT_LABELS

        registry.register_event_kinds({kind: EVENT_LABELS[kind] for kind in CASE_EVENT_KINDS})
