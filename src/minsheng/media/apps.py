from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MediaConfig(AppConfig):
    name = "minsheng.media"
    label = "media"
    verbose_name = _("Photos")

    def ready(self) -> None:
        from minsheng.cases import registry

        from .labels import EVENT_LABELS

        registry.register_event_kinds(EVENT_LABELS)
