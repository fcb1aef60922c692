from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProposalsConfig(AppConfig):
    """Deputies' proposals and members' suggestions (议案提案): handed to a lead unit and
    co-units through a joint group, the proposer contacted and answered in writing within
    the kind's limits (a clock rule), the proposer's verdict, and the public tracking page
    (议案提案 办理追踪)."""

    name = "minsheng.proposals"
    label = "proposals"
    verbose_name = _("Proposals")

    def ready(self) -> None:
        from minsheng.cases import registry

        from . import measures, rules
        from .labels import EVENT_LABELS
        from .panel import case_panel

        registry.register_event_kinds(EVENT_LABELS)
        registry.register_clock_rule(rules.due, prepare=rules.know_kinds)
        registry.register_guard({"feedback"}, rules.refusals)
        registry.register_after_action(rules.after_case_action)
        registry.register_case_panel(case_panel)
        measures.register()
