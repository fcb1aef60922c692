"""What the joint-group actions share: the states a group may be formed or changed in, the
assisting units' input, checks, and the small steps every action takes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from minsheng.accounts.actors import Actor
from minsheng.accounts.models import Unit
from minsheng.cases import clocks
from minsheng.cases.errors import Conflict, Invalid
from minsheng.cases.kernel import Change
from minsheng.cases.models import Case
from minsheng.cases.states import ClockName, State
from minsheng.core.text import NulCharacter, clean_text

from ..models import (
    GroupMember,
    GroupState,
    JointGroup,
    MemberRole,
)
from ..queries import assist_choices

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
    """Submitted text under the one rule for control characters (:mod:`minsheng.core.text`:
    a NUL refused naming the field, the others removed), then required and limited."""
    try:
        value = clean_text(value or "").strip()
    except NulCharacter as exc:
        raise Invalid(field, _("Remove the NUL character from the text.")) from exc
    if required and not value:
        raise Invalid(field, message)
    if len(value) > TEXT_MAX:
        raise Invalid(field, _("At most %(n)d characters.") % {"n": TEXT_MAX})
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
