"""Read-only questions about follow-ups, for the queue page, the case page and the tests.

* :func:`due_queue` — pending follow-ups whose call is due now, the longest waiting first,
  each with the script filled in and the unit's feedback;
* :func:`waiting` — pending follow-ups not yet due (the SMS link still open, or the next call
  later);
* :func:`followups_of_case`, :func:`pending_of_case`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet

from minsheng.cases.models import Case
from minsheng.core import clock

from . import rules
from .models import FollowUp, FollowUpState, RuleSet


@dataclass
class QueueItem:
    """A follow-up as the queue shows it: the script to read, filled in for its case."""

    followup: FollowUp
    script: str
    attempts_allowed: int


def _pending() -> QuerySet[FollowUp]:
    return FollowUp.objects.filter(state=FollowUpState.PENDING).select_related(
        "case", "case__matter", "case__owner_unit", "unit"
    )


def due_queue(now: dt.datetime | None = None, *, rows: int = 50) -> list[QueueItem]:
    """Pending follow-ups due at ``now`` whose calls are not all spent, earliest first."""
    now = now or clock.now()
    ruleset = RuleSet.current()
    scripts = rules.matter_scripts(ruleset)
    due = (
        _pending()
        .filter(next_attempt_at__lte=now, attempts__lt=ruleset.attempts)
        .order_by("next_attempt_at", "id")[:rows]
    )
    return [
        QueueItem(
            followup=f,
            script=rules.script_for(f.case, ruleset, f.unit, scripts),
            attempts_allowed=ruleset.attempts,
        )
        for f in due
    ]


def waiting(now: dt.datetime | None = None, *, rows: int = 50) -> list[FollowUp]:
    """Pending follow-ups not due yet, or whose every call was made (waiting for the worker
    to end them as unreachable, or for the requester's answer through the link)."""
    now = now or clock.now()
    ruleset = RuleSet.current()
    pending = _pending().order_by("next_attempt_at", "id")
    return [f for f in pending[: rows * 2] if f.next_attempt_at > now or f.attempts >= ruleset.attempts][
        :rows
    ]


def recently_finished(rows: int = 20) -> list[FollowUp]:
    return list(
        FollowUp.objects.exclude(state=FollowUpState.PENDING)
        .select_related("case", "finished_by")
        .order_by("-finished_at", "-id")[:rows]
    )


def followups_of_case(case: Case) -> list[FollowUp]:
    return list(FollowUp.objects.filter(case=case).order_by("created_at", "id"))


def pending_of_case(case: Case) -> FollowUp | None:
    return FollowUp.objects.filter(case=case, state=FollowUpState.PENDING).first()
