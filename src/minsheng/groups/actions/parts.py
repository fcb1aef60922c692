"""Each member's part: signing it, marking it done, asking the dispatcher for a change."""

from __future__ import annotations

from django.utils.translation import gettext as _

from minsheng.accounts.actors import Actor
from minsheng.accounts.models import Unit, UnitKind
from minsheng.cases import actions as case_actions
from minsheng.cases import kernel
from minsheng.cases.errors import Conflict, Forbidden
from minsheng.cases.kernel import Change

from ..models import (
    ChangeRequest,
    GroupMember,
    JointGroup,
    RequestStatus,
)
from ..queries import acting_member
from ._common import (
    _open_group,
    _text,
)

# --- each member's part ------------------------------------------------------------------


def _member_or_403(actor: Actor, group: JointGroup) -> GroupMember:
    member = acting_member(actor, group)
    if member is None:
        raise Forbidden(_("Your unit has no part in this joint group."))
    return member


def sign_part(
    actor: Actor, case_id: int, *, note: str = "", expected_version: int | None = None
) -> JointGroup:
    """签收 of a member's part (its sign clock is met). The lead signs the case itself:
    for the lead, this is the case's signature."""

    def signable(ch: Change) -> tuple[JointGroup, GroupMember]:
        case = ch.case
        group = _open_group(case)
        member = _member_or_403(actor, group)
        if member.settled or member.signed_at is not None:
            raise Conflict(_("Your unit's part is already signed."), state=case.state, version=case.version)
        return group, member

    with kernel.change(
        actor, case_id, "group_part_signed", expected_version=expected_version, check=signable
    ) as ch:
        case = ch.case
        group, member = ch.checked
        note = _text(note, "note", "", required=False)
        if member.is_lead:
            case_actions.sign_case(actor, case.pk, note=note, expected_version=case.version)
            return group
        member.signed_at, member.signed_by = ch.at, actor.user
        member.save(update_fields=["signed_at", "signed_by"])
        ch.meet_clocks_by_id([member.sign_clock_id])
        ch.event(
            note=note,
            data={"group": group.pk, "unit": member.unit.code, "unit_name": member.unit.name},
        )
        return group


def mark_part_done(
    actor: Actor, case_id: int, *, note: str, expected_version: int | None = None
) -> JointGroup:
    """A member's part is done, with what it did (its handle clock is met). The lead is
    told; the case closes only once every part is done or waived."""

    def doable(ch: Change) -> tuple[JointGroup, GroupMember]:
        case = ch.case
        group = _open_group(case)
        member = _member_or_403(actor, group)
        if member.settled:
            raise Conflict(
                _("Your unit's part is already done or waived."), state=case.state, version=case.version
            )
        if member.signed_at is None:
            raise Conflict(_("Sign for your unit's part first."), state=case.state, version=case.version)
        return group, member

    with kernel.change(
        actor, case_id, "group_part_done", expected_version=expected_version, check=doable
    ) as ch:
        case = ch.case
        group, member = ch.checked
        result = _text(note, "note", _("Write what your unit did."))
        at = ch.at
        member.done_at, member.done_by, member.result = at, actor.user, result
        member.save(update_fields=["done_at", "done_by", "result"])
        ch.meet_clocks_by_id([member.handle_clock_id])
        ch.event(
            note=result,
            data={
                "group": group.pk,
                "unit": member.unit.code,
                "unit_name": member.unit.name,
                "late": at > member.due_at,
            },
        )
        if not member.is_lead:
            ch.notify(
                "group_part_done",
                unit=group.lead_unit,
                context={
                    "number": case.number,
                    "title": case.title,
                    "member": member.unit.name,
                    "result": result,
                },
            )
        return group


def request_group_change(
    actor: Actor, case_id: int, *, note: str, expected_version: int | None = None
) -> ChangeRequest:
    """Instead of returning (退单) a joint case, a member asks the dispatcher to change the
    group: add a unit, take one out, change a task."""

    def requestable(ch: Change) -> tuple[JointGroup, GroupMember]:
        case = ch.case
        group = _open_group(case)
        member = _member_or_403(actor, group)
        if group.change_requests.filter(unit=member.unit, status=RequestStatus.PENDING).exists():
            raise Conflict(
                _("Your unit's request is already waiting for the dispatcher."),
                state=case.state,
                version=case.version,
            )
        return group, member

    with kernel.change(
        actor, case_id, "group_change_requested", expected_version=expected_version, check=requestable
    ) as ch:
        case = ch.case
        group, member = ch.checked
        reason = _text(note, "note", _("Say what should change in the group, and why."))
        request = ChangeRequest.objects.create(
            group=group, unit=member.unit, requested_by=actor.user, reason=reason, created_at=ch.at
        )
        ch.event(
            note=reason,
            data={
                "group": group.pk,
                "request": request.pk,
                "unit": member.unit.code,
                "unit_name": member.unit.name,
            },
        )
        target = group.formed_unit or Unit.objects.filter(kind=UnitKind.CENTRE).first()
        if target is not None:
            ch.notify(
                "group_change_requested",
                unit=target,
                context={
                    "number": case.number,
                    "title": case.title,
                    "member": member.unit.name,
                    "reason": reason,
                },
            )
        return request
