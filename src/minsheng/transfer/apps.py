from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TransferConfig(AppConfig):
    """110 ↔ 12345 two-way transfer (双向移交): the lists the city edits, a signed API for 110
    (transfers in, receipts), the centre's decision (accept into the loop or return with a
    reason) within its clock, outcomes back to 110 through the outbox, and police matters
    reported through the hotline handed to 110 with a record and its receipt."""

    name = "minsheng.transfer"
    label = "transfer"
    verbose_name = _("110 transfers")

    def ready(self) -> None:
        from minsheng.cases import registry

        from .actions import outcome_to_110
        from .labels import EVENT_LABELS
        from .panel import case_panel

        registry.register_event_kinds(EVENT_LABELS)
        registry.register_after_action(outcome_to_110)
        registry.register_case_panel(case_panel)
