"""The joint group in the API's shape."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from minsheng.accounts.models import Unit
from minsheng.cases.models import CaseClock

from .models import GroupMember, JointGroup


def _unit(unit: Unit | None) -> dict[str, Any] | None:
    if unit is None:
        return None
    return {"id": unit.pk, "code": unit.code, "name": unit.name, "kind": unit.kind}


def _clock(c: CaseClock | None) -> dict[str, Any] | None:
    if c is None:
        return None
    return {
        "name": c.name,
        "due_at": c.due_at,
        "met_at": c.met_at,
        "stopped_at": c.stopped_at,
        "late": c.is_late(),
        "running": c.running,
    }


def member_out(m: GroupMember) -> dict[str, Any]:
    return {
        "unit": _unit(m.unit),
        "role": m.role,
        "task": m.task,
        "state": m.state,
        "joined_at": m.joined_at,
        "due_at": m.due_at,
        "late": m.late,
        "signed_at": m.signed_at,
        "done_at": m.done_at,
        "result": m.result,
        "waived_at": m.waived_at,
        "waive_reason": m.waive_reason,
        "removed_at": m.removed_at,
        "sign_clock": _clock(m.sign_clock),
        "handle_clock": _clock(m.handle_clock),
    }


def group_out(group: JointGroup) -> dict[str, Any]:
    members = group.members.select_related("unit", "sign_clock", "handle_clock").order_by(
        "removed_at", "-role", "joined_at", "id"
    )
    return {
        "id": group.pk,
        "case": group.case_id,
        "state": group.state,
        "lead_unit": _unit(group.lead_unit),
        "formed_unit": _unit(group.formed_unit),
        "formed_at": group.formed_at,
        "closed_at": group.closed_at,
        "note": group.note,
        "members": [member_out(m) for m in members],
        "messages": [
            {
                "id": msg.pk,
                "at": msg.created_at,
                "author": msg.author_label,
                "unit": msg.unit.name if msg.unit else None,
                "text": msg.text,
                "photos": [reverse("groups:photo", args=[p.pk]) for p in msg.photos.all()],
            }
            for msg in group.messages.select_related("unit").prefetch_related("photos")
        ],
        "change_requests": [
            {
                "id": r.pk,
                "unit": r.unit.name,
                "reason": r.reason,
                "status": r.status,
                "at": r.created_at,
                "answer": r.answer,
            }
            for r in group.change_requests.select_related("unit")
        ],
    }
