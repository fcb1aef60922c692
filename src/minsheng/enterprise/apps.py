from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnterpriseConfig(AppConfig):
    """Enterprise requests (涉企诉求): the enterprise by its unified social credit code, its
    own matters and limits (catalog data), its service officer (服务专员), and its history on
    the case page (a case panel)."""

    name = "minsheng.enterprise"
    label = "enterprise"
    verbose_name = _("Enterprise requests")

    def ready(self) -> None:
        from minsheng.cases import registry

        from . import measures
        from .labels import EVENT_LABELS
        from .panel import case_panel

        registry.register_event_kinds(EVENT_LABELS)
        registry.register_case_panel(case_panel)
        measures.register()
