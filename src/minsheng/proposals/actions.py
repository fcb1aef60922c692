"""Proposals' mutations: the kinds loaded from data, the hand-over (交办) to a lead unit and
co-units, the contact with the proposer, the written reply, and the proposer's verdict.

Each is one transaction and changes the case only through ``cases.actions`` (intake,
assignment, dispatch, feedback, rating, closing, reopening), ``groups.actions`` (the joint
group of lead and co-units) and the kernel (the proposal's own log entries)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from minsheng.accounts.actors import Actor
from minsheng.accounts.models import Role
from minsheng.cases import actions as case_actions
from minsheng.cases import kernel
from minsheng.cases.errors import Conflict, Forbidden, Invalid
from minsheng.cases.kernel import Change
from minsheng.cases.models import Case
from minsheng.cases.states import Channel, Rating, State
from minsheng.catalog.models import Matter
from minsheng.groups import actions as group_actions

from .models import Proposal, ProposalKind

KINDS = Path(__file__).parent / "data" / "kinds.json"
# The centre's proposal desk: who hands proposals over and records the proposer's verdict.
DESK = frozenset({Role.CITY_DISPATCHER, Role.ADMIN})
CONTACT_WAYS = {
    "visit": gettext_lazy("Visit"),
    "phone": gettext_lazy("Phone call"),
    "meeting": gettext_lazy("Meeting"),
}
LIMITS = ("contact_days", "reply_months", "co_unit_days", "verdict_days")


@transaction.atomic
def load_kinds(path: Path | str = KINDS) -> list[str]:
    """Create or update the kinds of the data file, each with its matter in the list of
    matters (territorial: the hand-over names the lead unit)."""
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    codes = []
    for k in doc["kinds"]:
        matter, _created = Matter.objects.update_or_create(
            code=k["matter"], defaults={"name": k["name"], "owner_unit": None, "active": True}
        )
        ProposalKind.objects.update_or_create(
            code=k["code"],
            defaults={
                "name": k["name"],
                "proposer_title": k["proposer_title"],
                "matter": matter,
                **{f: k[f] for f in LIMITS if f in k},
            },
        )
        codes.append(k["code"])
    return codes


def _required(value: str, field: str, message: str, limit: int) -> str:
    value = (value or "").strip()
    if not value:
        raise Invalid(field, message)
    return value[:limit]


def hand_over(
    actor: Actor,
    *,
    kind: str,
    number: str,
    title: str,
    text: str,
    proposer: str,
    lead_unit_id: int | None,
    lead_task: str = "",
    co_units: Sequence[int] = (),
    public: bool = True,
) -> Proposal:
    """交办: the proposal becomes a case handed to its lead unit; with co-units, a joint
    group (一键组群) of the lead and the co-units, each with its task and limit."""
    if not (actor.is_system or actor.role in DESK):
        raise Forbidden(_("Only the centre's proposal desk hands proposals over."))
    found = ProposalKind.objects.select_related("matter").filter(code=kind).first()
    if found is None:
        raise Invalid("kind", _("Choose the kind of proposal."))
    number = _required(number, "number", _("Give the proposal's number."), 32)
    if Proposal.objects.filter(number=number).exists():
        raise Invalid("number", _("A proposal with this number was handed over already."))
    title = _required(title, "title", _("Give the proposal's title."), 200)
    proposer = _required(proposer, "proposer", _("Name the proposer."), 64)
    if lead_unit_id is None:
        raise Invalid("lead_unit_id", _("Choose the lead unit."))
    co = [u for u in dict.fromkeys(co_units) if u != lead_unit_id]
    task = lead_task.strip() or _("Lead the handling and reply to the proposer in writing.")
    with transaction.atomic():
        case = case_actions.accept_case(
            actor,
            case_actions.Intake(
                channel=Channel.APP,
                text=f"{title}\n\n{text.strip()}" if text.strip() else title,
                category=found.matter.code,
                requester_name=proposer,
            ),
        )
        proposal = Proposal.objects.create(
            case=case,
            kind=found,
            number=number,
            title=title,
            proposer=proposer,
            public=public,
            handed_over_at=case.created_at,
        )
        if co:
            group_actions.form_joint_group(
                actor,
                case.pk,
                lead_unit_id=lead_unit_id,
                assists=[
                    group_actions.AssistIn(unit_id=u, task=_("Give the lead unit your part of the reply."))
                    for u in co
                ],
                lead_task=task,
                hours=found.co_unit_days * 24,
            )
        else:
            case_actions.assign_case(actor, case.pk, unit_id=lead_unit_id, note=task)
        with kernel.change(actor, case.pk, "proposal_handed_over") as ch:
            ch.event(
                note=f"{found.name} {number}",
                data={"proposal": proposal.pk, "kind": found.code, "number": number, "co_units": co},
            )
        return proposal


def _lead_of(actor: Actor):
    def check(ch: Change) -> Proposal:
        case = ch.case
        proposal = Proposal.objects.filter(case_id=case.pk).first()
        if proposal is None:
            raise Conflict(_("This case is not a proposal."), state=case.state, version=case.version)
        if (
            actor.unit is None
            or case.owner_unit_id != actor.unit.pk
            or actor.role
            not in (
                Role.HANDLER,
                Role.SUBCENTRE_DISPATCHER,
            )
        ):
            raise Forbidden(_("Only the lead unit contacts the proposer."))
        if case.state not in (State.SIGNED, State.DISPATCHED, State.HANDLING):
            raise Conflict(
                _("This case is %(state)s; sign it first.") % {"state": case.get_state_display()},
                state=case.state,
                version=case.version,
            )
        return proposal

    return check


def record_contact(actor: Actor, case_id: int, *, how: str, note: str) -> Proposal:
    """联系代表委员: the lead unit contacted the proposer before replying (a visit, a call, a
    meeting). The case's dispatch clock is the contact limit: the first contact is the
    lead's dispatch (its people sent to the proposer)."""
    if how not in CONTACT_WAYS:
        raise Invalid("how", _("Choose how the proposer was contacted."))
    note = _required(note, "note", _("Write what was agreed with the proposer."), 2000)
    with transaction.atomic():
        state = Case.objects.filter(pk=case_id).values_list("state", flat=True).first()
        if state == State.SIGNED:
            case_actions.dispatch_case(actor, case_id, people=[actor.label], note=note)
        with kernel.change(actor, case_id, "proposer_contacted", check=_lead_of(actor)) as ch:
            proposal: Proposal = ch.checked
            ch.event(note=note, data={"how": how})
            proposal.contacted_at, proposal.contact_how = ch.at, how
            proposal.save(update_fields=["contacted_at", "contact_how"])
            ch.bump()  # the reply's form opens
        return proposal


def reply_in_writing(
    actor: Actor, case_id: int, *, text: str, expected_version: int | None = None
) -> Proposal:
    """书面答复: the lead unit's written reply is the case's feedback (its clock the reply's
    limit); refused before the proposer was contacted (the proposals' guard)."""
    case_actions.feedback_case(actor, case_id, note=text, expected_version=expected_version)
    return Proposal.objects.get(case_id=case_id)


def record_verdict(actor: Actor, case_id: int, *, verdict: str, note: str = "") -> Proposal:
    """The proposer's verdict (满意/基本满意/不满意) on the written reply, taken by the desk:
    the case's rating; satisfied or basically satisfied closes it, unsatisfied reopens it to
    the lead unit for a new round (contact and reply again)."""
    if not (actor.is_system or actor.role in DESK):
        raise Forbidden(_("Only the centre's proposal desk records the proposer's verdict."))
    if verdict not in Rating.values:
        raise Invalid("verdict", _("Choose satisfied, basically satisfied or unsatisfied."))
    with transaction.atomic():
        if not Proposal.objects.filter(case_id=case_id).exists():
            raise Invalid("case", _("This case is not a proposal."))
        case_actions.rate_case(actor, case_id, rating=verdict, note=note)
        if verdict == Rating.UNSATISFIED:
            case_actions.reopen_case(
                actor, case_id, note=note.strip() or _("The proposer is not satisfied: handle it again.")
            )
        else:
            case_actions.close_case(actor, case_id, note=note)
        return Proposal.objects.get(case_id=case_id)
