"""Named actions of a joint group (一键组群). Each opens a change to the case through the case
kernel: one transaction with the case row locked (so that every action on the case and its
group is serialised), the checks of who may act (404 not visible, 403 not allowed, 409 not
now, 422 bad input), then the group changed, the event appended to the CASE's log and the
outbox written.

Who does what:

* **form** — a city dispatcher (or administrator) on any open case; a sub-centre
  dispatcher on the cases it manages (``in_subcentre_scope``), with a lead from its own
  units and assisting units from its own units or the line departments (条): a town
  coordinates the departments' people on its ground, but hands a case only to its own.
  The lead unit becomes the unit holding the case (re-assigned to it if needed).
* **sign / done / request a change** — each member unit, for its own part (handlers and
  sub-centre dispatchers of that unit). The lead signs by signing the case, and its part
  is done with the consolidated feedback (or marked done before).
* **waive a part, change the group, decline a request, dissolve** — the dispatching level
  that formed the group (the city desk always).
* **thread** — members and the dispatchers; every message is also an event of the case.

Actions that change who may do what on the case (form, change, dissolve) bump the case's
version; the others touch only the group and leave people's open forms valid, as the
clock worker does, relying on the part's own state to refuse a double action.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from minsheng.accounts.actors import Actor
from minsheng.accounts.models import Role, Unit, UnitKind
from minsheng.cases import actions as case_actions
from minsheng.cases import clocks, kernel
from minsheng.cases.errors import Conflict, Forbidden, Invalid
from minsheng.cases.kernel import Change
from minsheng.cases.models import Case
from minsheng.cases.scoping import CITY_DESK, assignable_units, in_subcentre_scope
from minsheng.cases.states import ClockName, State

from .models import (
    ChangeRequest,
    GroupMember,
    GroupMessage,
    GroupPhoto,
    GroupState,
    JointGroup,
    MemberRole,
    RequestStatus,
)
from .photos import check_photos
from .rules import MEMBER_ROLES

# A group may be formed while the case is still being worked on (not after its feedback).
FORMABLE_STATES = frozenset(
    {State.ACCEPTED, State.RETURNED, State.ASSIGNED, State.SIGNED, State.DISPATCHED, State.HANDLING}
)
# ... and changed until the consolidated feedback is written.
CHANGEABLE_STATES = frozenset({State.ASSIGNED, State.SIGNED, State.DISPATCHED, State.HANDLING})
HOURS_MAX = 720
TEXT_MAX = 5000


@dataclass(frozen=True)
class AssistIn:
    """One assisting unit of a form or change: the unit and its task (协办任务)."""

    unit_id: int
    task: str


# --- who may do what -------------------------------------------------------------------


def may_form(actor: Actor, case: Case) -> bool:
    """The dispatcher's right to form a group on this case (state aside)."""
    if actor.is_system or actor.role in CITY_DESK:
        return True
    return actor.role == Role.SUBCENTRE_DISPATCHER and in_subcentre_scope(actor, case)


def manages(actor: Actor, group: JointGroup) -> bool:
    """The dispatching level that formed the group (and the city desk, always)."""
    if actor.is_system or actor.role in CITY_DESK:
        return True
    return (
        actor.role == Role.SUBCENTRE_DISPATCHER
        and actor.unit is not None
        and group.formed_unit_id == actor.unit.pk
    )


def acting_member(actor: Actor, group: JointGroup) -> GroupMember | None:
    """The member whose part the actor works on (their unit's, if it is in the group)."""
    if actor.unit is None or actor.role not in MEMBER_ROLES:
        return None
    return (
        group.members.filter(unit_id=actor.unit.pk, removed_at__isnull=True)
        .select_related("unit", "sign_clock", "handle_clock")
        .first()
    )


def lead_choices(actor: Actor) -> QuerySet[Unit]:
    """Units the actor may make the lead: those it may hand the case to."""
    return assignable_units(actor)


def assist_choices(actor: Actor) -> QuerySet[Unit]:
    """Units the actor may ask to assist: a sub-centre adds the line departments."""
    units = Unit.objects.filter(active=True).exclude(kind=UnitKind.CENTRE)
    if actor.is_system or actor.role in CITY_DESK:
        return units
    if actor.role == Role.SUBCENTRE_DISPATCHER and actor.unit is not None:
        own = assignable_units(actor).values("pk")
        return units.filter(pk__in=own) | units.filter(kind=UnitKind.DEPARTMENT)
    return units.none()


def latest_group(case: Case) -> JointGroup | None:
    return case.joint_groups.select_related("lead_unit", "formed_unit").order_by("-formed_at", "-id").first()


# --- helpers ---------------------------------------------------------------------------


def _open_group(case: Case) -> JointGroup:
    group = (
        JointGroup.objects.filter(case=case, state=GroupState.OPEN)
        .select_related("lead_unit", "formed_unit")
        .first()
    )
    if group is None:
        raise Conflict(_("No joint group is open on this case."), state=case.state, version=case.version)
    return group


def _text(value: str, field: str, message: str, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise Invalid(field, message)
    if len(value) > TEXT_MAX:
        raise Invalid(field, _("At most %(n)d characters.") % {"n": TEXT_MAX})
    if "\x00" in value:
        raise Invalid(field, _("The text contains a NUL character."))
    return value


def _hours(case: Case, hours: int | None) -> int:
    if hours is None:
        return clocks.limits(case).feedback_hours
    if not isinstance(hours, int) or not 1 <= hours <= HOURS_MAX:
        raise Invalid("hours", _("Give the parts 1 to %(n)d hours.") % {"n": HOURS_MAX})
    return hours


def _add_assist(ch: Change, group: JointGroup, unit: Unit, task: str, hours: int) -> GroupMember:
    at = ch.at
    sign_due = at + dt.timedelta(minutes=clocks.limits(ch.case).sign_minutes)
    handle_due = at + dt.timedelta(hours=hours)
    return GroupMember.objects.create(
        group=group,
        unit=unit,
        role=MemberRole.ASSIST,
        task=task,
        joined_at=at,
        due_at=handle_due,
        sign_clock=ch.start_clock(ClockName.MEMBER_SIGN, unit=unit, due=sign_due),
        handle_clock=ch.start_clock(ClockName.MEMBER_HANDLE, unit=unit, due=handle_due),
    )


def _stop_member_clocks(ch: Change, member: GroupMember) -> None:
    ch.stop_clocks_by_id([member.sign_clock_id, member.handle_clock_id])


def _assists(raw: Iterable[AssistIn | dict[str, Any]]) -> list[AssistIn]:
    out = []
    for item in raw:
        if isinstance(item, AssistIn):
            out.append(item)
            continue
        unit_id = item.get("unit_id")
        out.append(
            AssistIn(unit_id=unit_id if isinstance(unit_id, int) else -1, task=str(item.get("task") or ""))
        )
    return out


def _check_assists(
    actor: Actor, specs: list[AssistIn], taken: set[int], field: str
) -> list[tuple[Unit, str]]:
    choices = {u.pk: u for u in assist_choices(actor).filter(pk__in=[s.unit_id for s in specs])}
    out = []
    for i, spec in enumerate(specs):
        unit = choices.get(spec.unit_id)
        if unit is None:
            raise Invalid(f"{field}.{i}.unit_id", _("You cannot ask that unit to assist."))
        if unit.pk in taken:
            raise Invalid(
                f"{field}.{i}.unit_id", _("%(unit)s is already in the group.") % {"unit": unit.name}
            )
        task = _text(spec.task, f"{field}.{i}.task", _("Write the task of %(unit)s.") % {"unit": unit.name})
        taken.add(unit.pk)
        out.append((unit, task))
    return out


def _tell_members(
    ch: Change, kind: str, members: Iterable[GroupMember], *, skip_unit: int | None = None, **context: Any
) -> None:
    case = ch.case
    for m in members:
        if m.unit_id != skip_unit:
            ch.notify(kind, unit=m.unit, context={"number": case.number, "title": case.title, **context})


def _active(group: JointGroup) -> list[GroupMember]:
    return list(group.members.filter(removed_at__isnull=True).select_related("unit"))


# --- forming (一键组群) -----------------------------------------------------------------


def form_joint_group(
    actor: Actor,
    case_id: int,
    *,
    lead_unit_id: int | None,
    assists: Sequence[AssistIn | dict],
    lead_task: str,
    note: str = "",
    hours: int | None = None,
    expected_version: int | None = None,
) -> JointGroup:
    """一键组群: one action makes a lead unit and assisting units, each with its task and
    limits (assisting parts: sign within the matter's sign limit, done within ``hours``,
    by default the matter's feedback limit). The lead holds the case from now on."""

    def formable(ch: Change) -> None:
        case = ch.case
        if not may_form(actor, case):
            raise Forbidden(_("Only a dispatcher forms a joint group on this case."))
        if case.state not in FORMABLE_STATES or case.merged_into_id:
            raise Conflict(
                _("This case is %(state)s; a joint group is formed only while it is being worked on.")
                % {"state": case.get_state_display()},
                state=case.state,
                version=case.version,
            )
        if JointGroup.objects.filter(case=case, state=GroupState.OPEN).exists():
            raise Conflict(
                _("A joint group is already open on this case."), state=case.state, version=case.version
            )

    with kernel.change(
        actor, case_id, "group_formed", expected_version=expected_version, check=formable
    ) as ch:
        case = ch.case
        lead = lead_choices(actor).filter(pk=lead_unit_id).first() if lead_unit_id else None
        if lead is None:
            raise Invalid("lead_unit_id", _("Choose a lead unit you may hand the case to."))
        lead_task = _text(lead_task, "lead_task", _("Write the lead unit's task."))
        specs = _assists(assists)
        if not specs:
            raise Invalid("assists", _("Add at least one assisting unit."))
        chosen = _check_assists(actor, specs, {lead.pk}, "assists")
        hours = _hours(case, hours)
        note = _text(note, "note", "", required=False)
        if case.owner_unit_id != lead.pk:
            if case.state in (State.DISPATCHED, State.HANDLING) and case.owner_unit:
                raise Invalid(
                    "lead_unit_id",
                    _(
                        "People of %(unit)s are already on site: make %(unit)s the lead, or "
                        "add the other unit as assisting."
                    )
                    % {"unit": case.owner_unit.name},
                )
            # 派单 to the lead first: its own event, clocks and notice, as any assignment.
            case_actions.assign_case(
                actor,
                case.pk,
                unit_id=lead.pk,
                expected_version=case.version,
                note=_("Lead unit of a joint group.") + (f" {note}" if note else ""),
            )
            case = ch.reload()
        at = ch.at
        group = JointGroup.objects.create(
            case=case,
            lead_unit=lead,
            formed_by=actor.user,
            formed_unit=actor.unit,
            formed_at=at,
            note=note,
        )
        feedback = clocks.running(case, ClockName.FEEDBACK)
        already_signed = case.state in (State.SIGNED, State.DISPATCHED, State.HANDLING)
        lead_member = GroupMember.objects.create(
            group=group,
            unit=lead,
            role=MemberRole.LEAD,
            task=lead_task,
            joined_at=at,
            due_at=feedback.due_at if feedback else at + dt.timedelta(hours=hours),
            signed_at=at if already_signed else None,
        )
        members = [lead_member] + [_add_assist(ch, group, u, t, hours) for u, t in chosen]
        ch.bump()
        ch.event(
            note=note,
            data={
                "group": group.pk,
                "lead": lead.code,
                "lead_name": lead.name,
                "lead_task": lead_task,
                "assists": [
                    {
                        "unit": m.unit.code,
                        "unit_name": m.unit.name,
                        "task": m.task,
                        "due_at": m.due_at.isoformat(),
                    }
                    for m in members[1:]
                ],
            },
        )
        names = [m.unit.name for m in members[1:]]
        for m in members:
            ch.notify(
                "joint_group_formed",
                unit=m.unit,
                context={
                    "number": case.number,
                    "title": case.title,
                    "lead": lead.name,
                    "members": names,
                    "role": m.role,
                    "task": m.task,
                },
            )
        return group


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


# --- the shared thread -------------------------------------------------------------------


def post_group_message(actor: Actor, case_id: int, *, text: str, photos: Sequence[Any] = ()) -> GroupMessage:
    """A message in the group's thread, with up to four photos: every member unit and the
    dispatcher read it on the case page; it is recorded in the case's log and the other
    member units are told."""
    checked = check_photos(list(photos))  # decode before taking the lock

    def writable(ch: Change) -> JointGroup:
        group = _open_group(ch.case)
        if acting_member(actor, group) is None and not manages(actor, group):
            raise Forbidden(_("Only the group's units and its dispatcher write in the thread."))
        return group

    with kernel.change(actor, case_id, "group_message", check=writable) as ch:
        group = ch.checked
        body = _text(text, "text", "", required=False)
        if not body and not checked:
            raise Invalid("text", _("Write a message or attach a photo."))
        message = GroupMessage.objects.create(
            group=group,
            author=actor.user,
            author_label=actor.label,
            unit=actor.unit,
            text=body,
            created_at=ch.at,
        )
        for p in checked:
            GroupPhoto.objects.create(
                message=message,
                image=p.content,
                content_type=p.content_type,
                width=p.width,
                height=p.height,
                size=p.size,
            )
        ch.event(
            note=body,
            data={
                "group": group.pk,
                "message": message.pk,
                "photos": len(checked),
                "unit": actor.unit.code if actor.unit else None,
                "unit_name": actor.unit.name if actor.unit else None,
            },
        )
        _tell_members(
            ch,
            "group_message",
            _active(group),
            skip_unit=actor.unit.pk if actor.unit else None,
            author=actor.label,
            text=body[:200],
            photos=len(checked),
        )
        return message
