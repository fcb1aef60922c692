from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FieldConfig(AppConfig):
    name = "minsheng.field"
    label = "field"
    verbose_name = _("Field work and duty roster")

    def ready(self) -> None:
        from minsheng.cases import registry

        from .duty import alert_on_duty
        from .labels import EVENT_LABELS

        registry.register_event_kinds(EVENT_LABELS)
        # An urgent case reaching a unit at night also goes to the people on duty (值班).
        registry.register_on_assign(alert_on_duty)
