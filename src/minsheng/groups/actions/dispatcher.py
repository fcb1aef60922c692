"""The dispatcher's actions on a group: waive a part, change or dissolve the group, decline a
requested change."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext as _

from minsheng.accounts.actors import Actor
from minsheng.cases import kernel
from minsheng.cases.errors import Conflict, Forbidden, Invalid
from minsheng.cases.kernel import Change

from ..models import (
    ChangeRequest,
    GroupMember,
    GroupState,
    JointGroup,
    RequestStatus,
)
from ..queries import manages
from ._common import (
    CHANGEABLE_STATES,
    AssistIn,
    _active,
    _add_assist,
    _assists,
    _check_assists,
    _hours,
    _open_group,
    _stop_member_clocks,
    _tell_members,
    _text,
)

# --- the dispatcher ----------------------------------------------------------------------


def _manager_or_403(actor: Actor, group: JointGroup) -> None:
    if not manages(actor, group):
        raise Forbidden(_("Only the dispatcher who formed the group may do this."))


def waive_part(
    actor: Actor, case_id: int, *, unit_id: int | None, note: str, expected_version: int | None = None
) -> JointGroup:
    """The dispatcher waives an assisting unit's part, with a reason: the case may close
    without it, and its running clocks stop."""

    def waivable(ch: Change) -> tuple[JointGroup, GroupMember]:
        case = ch.case
        group = _open_group(case)
        _manager_or_403(actor, group)
        member = (
            (group.members.filter(unit_id=unit_id, removed_at__isnull=True).select_related("unit").first())
            if unit_id
            else None
        )
        if member is None:
            raise Invalid("unit_id", _("That unit is not in the group."))
        if member.is_lead:
            raise Invalid(
                "unit_id", _("The lead's part ends with its consolidated feedback; it cannot be waived.")
            )
        if member.settled:
            raise Conflict(_("That part is already done or waived."), state=case.state, version=case.version)
        return group, member

    with kernel.change(
        actor, case_id, "group_part_waived", expected_version=expected_version, check=waivable
    ) as ch:
        case = ch.case
        group, member = ch.checked
        reason = _text(note, "note", _("Say why the part is waived."))
        member.waived_at, member.waived_by, member.waive_reason = ch.at, actor.user, reason
        member.save(update_fields=["waived_at", "waived_by", "waive_reason"])
        _stop_member_clocks(ch, member)
        ch.event(
            note=reason,
            data={"group": group.pk, "unit": member.unit.code, "unit_name": member.unit.name},
        )
        ch.notify(
            "group_part_waived",
            unit=member.unit,
            context={"number": case.number, "title": case.title, "reason": reason},
        )
        return group


def change_group(
    actor: Actor,
    case_id: int,
    *,
    add: Sequence[AssistIn | dict] = (),
    remove: Sequence[int] = (),
    note: str = "",
    hours: int | None = None,
    request_id: int | None = None,
    expected_version: int | None = None,
) -> JointGroup:
    """The dispatcher adds assisting units (with tasks and fresh limits) or takes them out
    (their clocks stop; they no longer see the case through the group), optionally
    answering a member's change request."""

    def changeable(ch: Change) -> JointGroup:
        case = ch.case
        group = _open_group(case)
        _manager_or_403(actor, group)
        if case.state not in CHANGEABLE_STATES:
            raise Conflict(
                _("The consolidated feedback is already written; the group can no longer change."),
                state=case.state,
                version=case.version,
            )
        return group

    with kernel.change(
        actor, case_id, "group_changed", expected_version=expected_version, check=changeable
    ) as ch:
        case = ch.case
        group = ch.checked
        request = None
        if request_id is not None:
            request = group.change_requests.filter(pk=request_id, status=RequestStatus.PENDING).first()
            if request is None:
                raise Invalid("request_id", _("No such request is waiting."))
        members = {m.unit_id: m for m in _active(group)}
        leaving = []
        for unit_id in dict.fromkeys(remove):
            member = members.get(unit_id)
            if member is None:
                raise Invalid("remove", _("That unit is not in the group."))
            if member.is_lead:
                raise Invalid(
                    "remove", _("The lead cannot leave the group; dissolve it and form a new one instead.")
                )
            leaving.append(member)
        staying = set(members) - {m.unit_id for m in leaving}
        chosen = _check_assists(actor, _assists(add), set(staying), "add")
        if not leaving and not chosen:
            raise Invalid("add", _("Add or take out at least one unit."))
        if not [u for u in staying if not members[u].is_lead] and not chosen:
            raise Invalid(
                "remove", _("A joint group keeps at least one assisting unit; dissolve it instead.")
            )
        note = _text(note, "note", "", required=False)
        hours = _hours(case, hours)
        at = ch.at
        for member in leaving:
            member.removed_at, member.removed_by, member.remove_reason = at, actor.user, note
            member.save(update_fields=["removed_at", "removed_by", "remove_reason"])
            _stop_member_clocks(ch, member)
            ch.notify(
                "group_member_removed",
                unit=member.unit,
                context={"number": case.number, "title": case.title, "note": note},
            )
        added = [_add_assist(ch, group, u, t, hours) for u, t in chosen]
        for member in added:
            ch.notify(
                "joint_group_formed",
                unit=member.unit,
                context={
                    "number": case.number,
                    "title": case.title,
                    "lead": group.lead_unit.name,
                    "members": [m.unit.name for m in _active(group) if not m.is_lead],
                    "role": member.role,
                    "task": member.task,
                },
            )
        if request is not None:
            request.status, request.answered_at = RequestStatus.DONE, at
            request.answered_by, request.answer = actor.user, note
            request.save(update_fields=["status", "answered_at", "answered_by", "answer"])
            ch.notify(
                "group_change_answered",
                unit=request.unit,
                context={"number": case.number, "title": case.title, "done": True, "answer": note},
            )
        ch.bump()
        ch.event(
            note=note,
            data={
                "group": group.pk,
                "request": request.pk if request else None,
                "added": [{"unit": m.unit.code, "unit_name": m.unit.name, "task": m.task} for m in added],
                "removed": [{"unit": m.unit.code, "unit_name": m.unit.name} for m in leaving],
            },
        )
        return group


def decline_group_change(
    actor: Actor, case_id: int, *, request_id: int | None, note: str, expected_version: int | None = None
) -> ChangeRequest:
    """The dispatcher keeps the group as it is, and says why."""

    def declinable(ch: Change) -> tuple[JointGroup, ChangeRequest]:
        group = _open_group(ch.case)
        _manager_or_403(actor, group)
        request = (
            (
                group.change_requests.filter(pk=request_id, status=RequestStatus.PENDING)
                .select_related("unit")
                .first()
            )
            if request_id
            else None
        )
        if request is None:
            raise Invalid("request_id", _("No such request is waiting."))
        return group, request

    with kernel.change(
        actor, case_id, "group_change_declined", expected_version=expected_version, check=declinable
    ) as ch:
        case = ch.case
        group, request = ch.checked
        answer = _text(note, "note", _("Say why the group stays as it is."))
        request.status, request.answered_at = RequestStatus.DECLINED, ch.at
        request.answered_by, request.answer = actor.user, answer
        request.save(update_fields=["status", "answered_at", "answered_by", "answer"])
        ch.event(
            note=answer,
            data={
                "group": group.pk,
                "request": request.pk,
                "unit": request.unit.code,
                "unit_name": request.unit.name,
            },
        )
        ch.notify(
            "group_change_answered",
            unit=request.unit,
            context={"number": case.number, "title": case.title, "done": False, "answer": answer},
        )
        return request


def dissolve_group(
    actor: Actor, case_id: int, *, note: str, expected_version: int | None = None
) -> JointGroup:
    """The dispatcher ends the group before the case closes (formed by mistake, or one
    unit can do it after all): the assisting parts' clocks stop and the case goes on with
    the lead as an ordinary case (returns and re-assignment possible again)."""

    def dissolvable(ch: Change) -> JointGroup:
        group = _open_group(ch.case)
        _manager_or_403(actor, group)
        return group

    with kernel.change(
        actor, case_id, "group_dissolved", expected_version=expected_version, check=dissolvable
    ) as ch:
        group = ch.checked
        reason = _text(note, "note", _("Say why the group is dissolved."))
        at = ch.at
        members = _active(group)
        for member in members:
            _stop_member_clocks(ch, member)
        group.change_requests.filter(status=RequestStatus.PENDING).update(
            status=RequestStatus.DECLINED, answered_at=at, answered_by=actor.user, answer=reason
        )
        group.state, group.closed_at = GroupState.DISSOLVED, at
        group.save(update_fields=["state", "closed_at"])
        ch.bump()
        ch.event(note=reason, data={"group": group.pk})
        _tell_members(ch, "group_dissolved", members, reason=reason)
        return group
