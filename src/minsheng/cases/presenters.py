"""A case as people are shown it, for every entry point: the detail (the API's ``CaseOut``,
the case page's panel), the list row, and the choices the panel's forms offer.

Presenters only read and format. Whether the full phone number is shown is decided, and
recorded, by :func:`minsheng.cases.privacy.reveal_phone`, which the page or the API calls
first and whose answer it passes in as ``full_phone``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.http import QueryDict
from django.utils.translation import gettext as _

from minsheng.accounts.actors import Actor
from minsheng.accounts.models import Role
from minsheng.catalog.models import Matter
from minsheng.core import clock
from minsheng.core.phones import mask_phone

from . import registry
from .actions import available_actions
from .intake import decide_owner
from .models import Case, CaseEvent
from .scoping import assignable_units
from .states import Rating


def case_detail(actor: Actor, case: Case, *, full_phone: bool) -> dict[str, Any]:
    """Everything about one case this person may see, with the actions open to them."""
    full = full_phone and bool(case.requester_phone)
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


def case_list_item(case: Case) -> dict[str, Any]:
    """A list row; ``overdue`` is read from the ``case_overdue`` annotation when present."""
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


# --- the case panel (the case page, and the joint group's answers on it) ------------------


def unit_choices(actor: Actor) -> list[tuple[str, list[tuple[int, str]]]]:
    """Units the actor may assign to, grouped by kind for the select."""
    groups: dict[str, list[tuple[int, str]]] = {}
    for unit in assignable_units(actor).order_by("kind", "name"):
        groups.setdefault(unit.get_kind_display(), []).append((unit.pk, unit.name))
    return list(groups.items())


def matter_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    """Active matters grouped by who owns them: line departments first, then the
    territorial ones (属地) that go to a town's sub-centre."""
    groups: dict[str, list[tuple[str, str]]] = {}
    territorial: list[tuple[str, str]] = []
    for m in Matter.objects.filter(active=True).select_related("owner_unit").order_by("code"):
        if m.owner_unit is None:
            territorial.append((m.code, m.name))
        else:
            groups.setdefault(m.owner_unit.name, []).append((m.code, m.name))
    out = sorted(groups.items())
    if territorial:
        out.append((_("Territorial (town/street)"), territorial))
    return out


def panel_context(
    actor: Actor,
    case: Case,
    *,
    full_phone: bool,
    flash: str = "",
    error: dict[str, Any] | None = None,
    posted: QueryDict | None = None,
) -> dict[str, Any]:
    """Everything the case panel shows, for this person."""
    detail = case_detail(actor, case, full_phone=full_phone)
    allowed = detail["actions"]
    ctx: dict[str, Any] = {
        "case": case,
        "d": detail,
        "allowed": allowed,
        "flash": flash,
        "error": error,
        "posted": posted if error else None,
        "failed": error["action"] if error else "",
        "events": CaseEvent.objects.filter(case=case).select_related("actor_unit"),
        "ratings": Rating.choices,
        "part_panels": registry.case_panels(actor, case),  # the parts' sections (enterprise, proposals)
    }
    if "assign" in allowed:
        ctx["units"] = unit_choices(actor)
        ctx["matter_groups"] = matter_groups()
        ctx["suggested"], ctx["suggested_reason"] = decide_owner(case)
    if "dispatch" in allowed and case.owner_unit_id:
        ctx["field_workers"] = list(
            get_user_model()
            .objects.filter(
                profile__unit_id=case.owner_unit_id,
                profile__role=Role.FIELD_WORKER,
                is_active=True,
            )
            .select_related("profile")
            .order_by("username")
        )
    return ctx
