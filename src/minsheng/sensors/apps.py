from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SensorsConfig(AppConfig):
    """Smart water (智慧水务): monitoring points, their readings, alarms that open work
    orders, and remote valve commands."""

    name = "minsheng.sensors"
    label = "sensors"
    verbose_name = _("Sensors")
