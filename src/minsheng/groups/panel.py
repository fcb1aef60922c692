"""What the group panel on the case page shows to one person, and what they may do."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch

from minsheng.accounts.actors import Actor
from minsheng.cases import clocks
from minsheng.cases.models import Case

from .actions import CHANGEABLE_STATES, FORMABLE_STATES
from .models import GroupPhoto, RequestStatus
from .queries import acting_member, assist_choices, latest_group, lead_choices, manages, may_form

# Empty assisting rows the form starts with (a script adds more; without it, three).
FORM_ROWS = 3


def _grouped(units: Any) -> list[tuple[str, list[tuple[int, str]]]]:
    groups: dict[str, list[tuple[int, str]]] = {}
    for unit in units.order_by("kind", "name"):
        groups.setdefault(unit.get_kind_display(), []).append((unit.pk, unit.name))
    return list(groups.items())


def panel_data(actor: Actor, case: Case) -> dict[str, Any] | None:
    group = latest_group(case)
    is_open = group is not None and group.is_open
    can_form = (
        not is_open and may_form(actor, case) and case.state in FORMABLE_STATES and not case.merged_into_id
    )
    if group is None and not can_form:
        return None
    data: dict[str, Any] = {
        "group": group,
        "can_form": can_form,
        "default_hours": clocks.limits(case).feedback_hours,
        "form_rows": range(FORM_ROWS),
    }
    if can_form:
        data["lead_units"] = _grouped(lead_choices(actor))
        data["assist_units"] = _grouped(assist_choices(actor))
        data["suggested_lead"] = case.owner_unit_id
    if group is None:
        return data
    members = list(
        group.members.select_related("unit", "sign_clock", "handle_clock").order_by(
            "removed_at", "-role", "joined_at", "id"
        )
    )
    me = acting_member(actor, group) if is_open else None
    manager = is_open and manages(actor, group)
    data.update(
        {
            "members": [m for m in members if m.removed_at is None],
            "removed": [m for m in members if m.removed_at is not None],
            "me": me,
            "manager": manager,
            "may_post": is_open and (me is not None or manager),
            "messages": list(
                group.messages.select_related("unit").prefetch_related(
                    Prefetch("photos", queryset=GroupPhoto.objects.order_by("id"))
                )
            ),
            "requests": list(group.change_requests.select_related("unit").order_by("-created_at")),
            "pending": [
                r for r in group.change_requests.select_related("unit") if r.status == RequestStatus.PENDING
            ],
            "may_change": manager and case.state in CHANGEABLE_STATES,
        }
    )
    if me is not None:
        data["my_request_pending"] = any(r.unit_id == me.unit_id for r in data["pending"])
    if data["may_change"]:
        taken = {m.unit_id for m in data["members"]}
        data["add_units"] = _grouped(assist_choices(actor).exclude(pk__in=taken))
    return data
