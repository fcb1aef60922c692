from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WarningConfig(AppConfig):
    """Early warning (预警): reports clustering by place × matter beyond their usual level
    raise a warning, which becomes a governance topic (专题) with an owner, a deadline and its
    linked cases."""

    name = "minsheng.warning"
    label = "warning"
    verbose_name = _("Early warning")

    def ready(self) -> None:
        from minsheng.cases import registry

        from .labels import EVENT_LABELS

        registry.register_event_kinds(EVENT_LABELS)
