"""What a proposal changes about its case, registered with ``cases.registry`` from
``ProposalsConfig.ready()``:

* :func:`due` — the clock rule: on a proposal's case the dispatch clock is the contact with
  the proposer (联系代表委员, ``contact_days`` from the lead's signature), the feedback clock the
  written reply (书面答复, ``reply_months`` from the hand-over, in calendar months), the resolve
  clock the proposer's verdict (``verdict_days`` after the reply's due time);
* :func:`refusals` — no written reply (the case's feedback) before the proposer was contacted;
* :func:`after_case_action` — the proposal follows its case: the reply, the verdict, and a new
  round when an unsatisfied verdict reopens it.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from django.utils.translation import gettext as _

from minsheng.accounts.actors import Actor
from minsheng.cases.states import ClockName

from .models import Proposal, ProposalKind


def add_months(at: dt.datetime, months: int) -> dt.datetime:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    month0 = at.month - 1 + months
    year, month = at.year + month0 // 12, month0 % 12 + 1
    day = min(at.day, calendar.monthrange(year, month)[1])
    return at.replace(year=year, month=month, day=day)


def kind_of(case: Any) -> ProposalKind | None:
    """The kind whose matter the case has. Kept on the case object for its matter: intake
    starts two or three clocks of a new case at once and asks for each (one query, not
    three); a case whose matter changes asks again."""
    if not case.matter_id:
        return None
    known = case.__dict__.get("_proposal_kind")
    if known is not None and known[0] == case.matter_id:
        return known[1]
    kind = ProposalKind.objects.filter(matter_id=case.matter_id).first()
    case.__dict__["_proposal_kind"] = (case.matter_id, kind)
    return kind


def know_kinds(cases: list[Any]) -> None:
    """:func:`kind_of` for a batch of new cases, read in one query (the clock rule's
    ``prepare``): each case keeps its kind, as its first question would have."""
    wanted = {c.matter_id for c in cases if c.matter_id}
    kinds = {k.matter_id: k for k in ProposalKind.objects.filter(matter_id__in=wanted)}  # one a matter
    for case in cases:
        if case.matter_id:
            case.__dict__["_proposal_kind"] = (case.matter_id, kinds.get(case.matter_id))


def due(case: Any, name: str, start: dt.datetime) -> dt.datetime | None:
    kind = kind_of(case)
    if kind is None:
        return None
    if name == ClockName.DISPATCH:
        return start + dt.timedelta(days=kind.contact_days)
    if name == ClockName.FEEDBACK:
        return add_months(start, kind.reply_months)
    if name == ClockName.RESOLVE:
        return add_months(start, kind.reply_months) + dt.timedelta(days=kind.verdict_days)
    return None


def refusals(case: Any) -> dict[str, str]:
    proposal = Proposal.objects.filter(case_id=case.pk).only("contacted_at").first()
    if proposal is not None and proposal.contacted_at is None:
        return {"feedback": _("Contact the proposer before replying in writing.")}
    return {}


def after_case_action(actor: Actor, case: Any, action: str, at: dt.datetime) -> None:
    if action not in ("feedback", "rate", "reopen"):
        return
    proposal = Proposal.objects.filter(case_id=case.pk).first()
    if proposal is None:
        return
    if action == "feedback":
        proposal.replied_at, proposal.reply_text = at, case.feedback_text
    elif action == "rate":
        proposal.verdict, proposal.verdict_at = case.rating, at
    else:  # an unsatisfied verdict reopened it: a new round, contact and reply again
        proposal.rounds += 1
        proposal.contacted_at = proposal.replied_at = proposal.verdict_at = None
        proposal.contact_how = proposal.verdict = ""
    proposal.save()
