from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TypicalConfig(AppConfig):
    """Typical cases (典型案例): closed cases nominated, prepared for publication without
    personal data, approved by the centre, and shown on a public page."""

    name = "minsheng.typical"
    label = "typical"
    verbose_name = _("Typical cases")

    def ready(self) -> None:
        from minsheng.cases import registry

        from .labels import EVENT_LABELS
        from .panel import case_panel

        registry.register_event_kinds(EVENT_LABELS)
        registry.register_case_panel(case_panel)
