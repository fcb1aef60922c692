from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProvinceConfig(AppConfig):
    """The provincial platform connector (上下级平台): cases sent down by the higher-level 12345
    platform, known by its id (id mapping), taken by a signed webhook or, as a fallback, by
    polling it; every change of such a case sent back to it through the outbox."""

    name = "minsheng.province"
    label = "province"
    verbose_name = _("Provincial platform")

    def ready(self) -> None:
        from minsheng.cases import registry

        from .actions import status_to_province
        from .labels import EVENT_LABELS

        registry.register_event_kinds(EVENT_LABELS)
        registry.register_after_action(status_to_province)
