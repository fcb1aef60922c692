from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GroupsConfig(AppConfig):
    """One-key joint groups (一键组群): a lead unit and assisting units work one hard case
    together, with their own tasks and limits and a shared thread, instead of passing it
    back and forth."""

    name = "minsheng.groups"
    label = "groups"
    verbose_name = _("Joint groups")

    def ready(self) -> None:
        from minsheng.cases import registry

        from . import rules
        from .labels import EVENT_LABELS

        registry.register_event_kinds(EVENT_LABELS)
        registry.register_visibility(rules.member_case_ids)  # member units see the case
        registry.register_grant("close", rules.leads)  # the lead unit closes it
        registry.register_guard(rules.GUARDED, rules.refusals)  # no bouncing while open
        registry.register_after_action(rules.after_case_action)  # the lead's part follows the case
