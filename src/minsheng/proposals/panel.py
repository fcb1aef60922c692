"""The proposal's section of the case page: the hand-over, contact, reply and verdict with
their limits, and the form the person may use now."""

from __future__ import annotations

from typing import Any

from minsheng.accounts.actors import Actor
from minsheng.accounts.models import Role
from minsheng.cases.models import Case
from minsheng.cases.states import Rating, State

from .actions import CONTACT_WAYS, DESK
from .models import Proposal
from .queries import progress


def case_panel(actor: Actor, case: Case) -> tuple[str, dict[str, Any]] | None:
    proposal = Proposal.objects.select_related("kind").filter(case_id=case.pk).first()
    if proposal is None:
        return None
    proposal.case = case
    lead = (
        actor.unit is not None
        and case.owner_unit_id == actor.unit.pk
        and actor.role in (Role.HANDLER, Role.SUBCENTRE_DISPATCHER)
    )
    working = case.state in (State.SIGNED, State.DISPATCHED, State.HANDLING)
    return "proposals/_case_panel.html", {
        **progress(proposal),
        "may_contact": lead and working and proposal.contacted_at is None,
        "may_reply": lead
        and proposal.contacted_at is not None
        and case.state in (State.DISPATCHED, State.HANDLING),
        "may_judge": (actor.is_system or actor.role in DESK) and case.state == State.FEEDBACK,
        "ways": list(CONTACT_WAYS.items()),
        "verdicts": Rating.choices,
    }
