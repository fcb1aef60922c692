"""Forming a joint group (一键组群)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.utils.translation import gettext as _

from minsheng.accounts.actors import Actor
from minsheng.cases import actions as case_actions
from minsheng.cases import clocks, kernel
from minsheng.cases.errors import Conflict, Forbidden, Invalid
from minsheng.cases.kernel import Change
from minsheng.cases.states import ClockName, State

from ..models import (
    GroupMember,
    GroupState,
    JointGroup,
    MemberRole,
)
from ..queries import lead_choices, may_form
from ._common import (
    FORMABLE_STATES,
    AssistIn,
    _add_assist,
    _assists,
    _check_assists,
    _hours,
    _text,
)

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
