from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowUpConfig(AppConfig):
    """Follow-up (回访): after the unit's feedback the centre calls the requester back, by
    rules the city sets, and the answer becomes the case's rating (an unsatisfied one
    reopens it, 重办)."""

    name = "minsheng.followup"
    label = "followup"
    verbose_name = _("Follow-up")

    def ready(self) -> None:
        from minsheng.cases import registry

        from . import actions
        from .labels import EVENT_LABELS

        registry.register_event_kinds(EVENT_LABELS)
        # Feedback schedules a follow-up; a rating answers it; closing or reopening cancels it.
        registry.register_after_action(actions.after_case_action)
