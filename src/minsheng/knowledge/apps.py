from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KnowledgeConfig(AppConfig):
    """The knowledge base (知识库): articles the owner departments keep and the centre
    publishes, and the suggestions that let an operator answer a caller on the spot."""

    name = "minsheng.knowledge"
    label = "knowledge"
    verbose_name = _("Knowledge base")

    def ready(self) -> None:
        from minsheng.cases import registry

        from .labels import EVENT_LABELS

        # A case answered on the spot carries the article and its version on its timeline.
        registry.register_event_kinds(EVENT_LABELS)
