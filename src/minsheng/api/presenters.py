"""Turning cases into the API's shapes, with the phone masked unless the asker calls back."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef

from minsheng.accounts.actors import Actor
from minsheng.cases.actions import available_actions
from minsheng.cases.models import Case, CaseClock
from minsheng.cases.privacy import mask_phone
from minsheng.cases.scoping import sees_full_phone
from minsheng.cases.services import log_phone_view
from minsheng.core import clock


def case_detail(actor: Actor, case: Case, *, via: str) -> dict[str, Any]:
    full = bool(case.requester_phone) and sees_full_phone(actor, case)
    if full:
        log_phone_view(actor, case, via=via)
    now = clock.now()
    return {
        "id": case.pk,
        "number": case.number,
        "state": case.state,
        "state_label": case.get_state_display(),
        "channel": case.channel,
        "title": case.title,
        "text": case.text,
        "category": case.matter.code if case.matter else None,
        "category_name": case.matter.name if case.matter else None,
        "owner_unit": (
            {
                "id": case.owner_unit.pk,
                "code": case.owner_unit.code,
                "name": case.owner_unit.name,
                "kind": case.owner_unit.kind,
            }
            if case.owner_unit
            else None
        ),
        "place": (
            {
                "code": case.place.code,
                "name": case.place.name,
                "kind": case.place.kind,
                "town": case.town.name if case.town else None,
            }
            if case.place
            else None
        ),
        "lat": case.lat,
        "lng": case.lng,
        "address": case.address,
        "urgent": case.urgent,
        "requester": {
            "name": case.requester_name,
            "phone": case.requester_phone if full else mask_phone(case.requester_phone),
            "phone_masked": not full,
        },
        "feedback": case.feedback_text,
        "rating": case.rating or None,
        "merged_into": case.merged_into.number if case.merged_into else None,
        "supervision_count": case.supervision_count,
        "reopen_count": case.reopen_count,
        "extension_requested_days": case.extension_requested_days,
        "version": case.version,
        "created_at": case.created_at,
        "closed_at": case.closed_at,
        "clocks": [
            {
                "name": c.name,
                "due_at": c.due_at,
                "met_at": c.met_at,
                "late": c.is_late(now),
                "running": c.running,
                "unit": c.unit.name if c.unit else None,
            }
            for c in case.current_clocks()
        ],
        "actions": available_actions(actor, case),
    }


def with_overdue(qs):
    """Annotate ``overdue``: a running clock is past due."""
    late = CaseClock.objects.filter(
        case=OuterRef("pk"), met_at__isnull=True, stopped_at__isnull=True, due_at__lt=clock.now()
    )
    return qs.annotate(overdue=Exists(late))


def case_list_item(case: Case) -> dict[str, Any]:
    return {
        "id": case.pk,
        "number": case.number,
        "state": case.state,
        "title": case.title,
        "category": case.matter.code if case.matter else None,
        "owner_unit": case.owner_unit.name if case.owner_unit else None,
        "town": case.town.name if case.town else None,
        "urgent": case.urgent,
        "requester_phone": mask_phone(case.requester_phone),
        "created_at": case.created_at,
        "overdue": bool(getattr(case, "overdue", False)),
    }
