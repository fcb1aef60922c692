"""How long a closed case keeps its requester's personal data (个人信息保存期限).

The city sets the period (``MINSHENG_PERSONAL_DATA_DAYS``, days after closing; 0 keeps it
for good). The worker then erases the requester's name and phone number from the case and
from the messages sent about it, and the case's timeline records the erasure, written by the
system through the case kernel. What the case was about (text, place, timeline, outcome)
stays for the city's statistics and for the record. A duplicate merged into another case
keeps its requester's data as long as that case does: its requester follows it.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from minsheng.accounts.actors import Actor
from minsheng.core.conf import setting
from minsheng.notify.actions import erase_phones

from . import kernel
from .models import Case
from .states import State

log = logging.getLogger("minsheng.retention")

DEFAULT_DAYS = 365
PERSONAL_FIELDS = ("requester_name", "requester_phone")


def retention_days() -> int:
    return setting("MINSHENG_PERSONAL_DATA_DAYS", DEFAULT_DAYS)


def due(at: dt.datetime) -> QuerySet[Case]:
    """Closed cases past the period whose data has not been erased yet (none when the
    city keeps it for good)."""
    days = retention_days()
    if days <= 0:
        return Case.objects.none()
    cutoff = at - dt.timedelta(days=days)
    return Case.objects.filter(
        Q(merged_into__isnull=True) | Q(merged_into__state=State.CLOSED, merged_into__closed_at__lt=cutoff),
        state=State.CLOSED,
        closed_at__lt=cutoff,
        personal_data_erased_at__isnull=True,
    )


def erase_case(case_id: int) -> bool:
    """Erase one case's personal data through the kernel; whether there was any. A case
    without any (a sensor's, an anonymous report) is only marked, with no entry."""
    with kernel.change(Actor.system(_("Retention rule")), case_id, "personal_data_erased") as ch:
        case = ch.case
        if case.state != State.CLOSED or case.personal_data_erased_at is not None:
            return False  # reopened, or erased by another worker, since it was found
        held = [name for name in PERSONAL_FIELDS if getattr(case, name)]
        case.requester_name = case.requester_phone = ""
        case.personal_data_erased_at = ch.at
        case.save(update_fields=[*PERSONAL_FIELDS, "requester_phone_hash", "personal_data_erased_at"])
        messages = erase_phones(case)
        if held:
            days = retention_days()
            ch.event(
                note=_("The requester's personal data was erased %(days)d days after closing.")
                % {"days": days},
                data={"fields": held, "days": days, "messages": messages},
            )
        return bool(held)


def erase_due(at: dt.datetime, limit: int = 200) -> tuple[int, int]:
    """One batch of the worker: ``(cases looked at, cases whose data was erased)``. Each
    case in its own transaction, so a failure leaves the others done."""
    ids = list(due(at).order_by("closed_at", "id").values_list("pk", flat=True)[:limit])
    erased = 0
    for pk in ids:
        try:
            erased += erase_case(pk)
        except Exception:
            log.exception("personal data of case %s not erased; retrying on the next pass", pk)
    return len(ids), erased
