from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CallsConfig(AppConfig):
    """Calls (来电): the telephone system drives the operator's seat through a signed
    webhook (ring, answer, hang-up); the seat learns who is calling and what they asked
    before; a recording is linked to the case the call produced; missed and dropped calls
    wait in the callback queue (漏接回拨) with their own clock."""

    name = "minsheng.calls"
    label = "calls"
    verbose_name = _("Calls")

    def ready(self) -> None:
        from minsheng.cases import registry

        from .labels import EVENT_LABELS
        from .queries import held_about

        registry.register_event_kinds(EVENT_LABELS)
        # A person's access request lists the calls from their number and the callbacks owed.
        registry.register_personal_data("calls", held_about)
