"""Requesters' personal data on the way out: who is shown the full phone number, and the
record of every time someone is (``PersonalDataAccess``); and everything held about one
phone number, for a person's access request (个人信息查阅复制, PIPL art. 45). Numbers
themselves are checked and masked by :mod:`minsheng.core.phones`."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from minsheng.accounts.actors import Actor
from minsheng.accounts.models import Role
from minsheng.core import clock
from minsheng.core.phones import normalize_phone
from minsheng.notify.queries import messages_to_phone

from . import registry
from .errors import Forbidden, Invalid
from .models import Case, CaseEvent, PersonalDataAccess
from .scoping import sees_full_phone


def reveal_phone(actor: Actor, case: Case, *, via: str) -> bool:
    """Whether ``actor`` is shown ``case``'s full phone number now (the roles who call
    back, within their scope). Each time a person is, the view is written down, ``via``
    naming where (``"web"``, ``"api"``, ``"admin"``). Pages and the API call this before
    presenting the case; presenters only mask or not."""
    full = bool(case.requester_phone) and sees_full_phone(actor, case)
    if full and actor.user is not None:
        PersonalDataAccess.objects.create(user=actor.user, case=case, via=via, at=clock.now())
    return full


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _case_held(case: Case) -> dict[str, Any]:
    events = CaseEvent.objects.filter(case=case).order_by("at", "id")
    seen = (
        PersonalDataAccess.objects.filter(case=case)
        .select_related("user__profile__unit")
        .order_by("at", "id")
    )
    return {
        "number": case.number,
        "created_at": _iso(case.created_at),
        "channel": case.channel,
        "requester": {"name": case.requester_name, "phone": case.requester_phone},
        "text": case.text,
        "address": case.address,
        "lat": case.lat,
        "lng": case.lng,
        "category": case.matter.name if case.matter else None,
        "state": case.state,
        "closed_at": _iso(case.closed_at),
        "feedback": case.feedback_text,
        "rating": case.rating or None,
        "rating_note": case.rating_note,
        "merged_into": case.merged_into.number if case.merged_into else None,
        "timeline": [
            {"at": _iso(e.at), "action": e.action, "label": registry.event_label(e.action)} for e in events
        ],
        # Who saw the number, by unit and role: the person learns that and when, not
        # the names of the staff.
        "seen_by": [
            {
                "at": _iso(row.at),
                "via": row.via,
                "unit": row.user.profile.unit.name
                if hasattr(row.user, "profile") and row.user.profile.unit
                else None,
                "role": row.user.profile.get_role_display() if hasattr(row.user, "profile") else None,
            }
            for row in seen
        ],
    }


def export_personal_data(actor: Actor, raw_phone: str, *, via: str) -> dict[str, Any]:
    """Everything Minsheng holds about one phone number: the cases it made (what was said,
    where, the requester's name, the timeline, who saw the number), the messages sent to
    it, and what the parts registered (``registry.register_personal_data``). Only an
    administrator answers an access request, and each case exported is recorded as an
    access (``via``: ``"export"``)."""
    if actor.role != Role.ADMIN or actor.user is None:
        raise Forbidden(_("Only an administrator exports personal data."))
    try:
        phone = normalize_phone(raw_phone)
    except ValueError as exc:
        raise Invalid("phone", _("Not a valid phone number.")) from exc
    if not phone:
        raise Invalid("phone", _("Give the phone number whose data is asked for."))
    at = clock.now()
    with transaction.atomic():
        cases = list(
            Case.objects.filter(requester_phone=phone)
            .select_related("matter", "merged_into")
            .order_by("created_at", "id")
        )
        held = {
            "phone": phone,
            "exported_at": at.isoformat(),
            "cases": [_case_held(case) for case in cases],
            "messages": [
                {
                    "case": m.case.number if m.case else None,
                    "kind": m.kind,
                    "created_at": _iso(m.created_at),
                    "status": m.status,
                    "sent_at": _iso(m.sent_at),
                }
                for m in messages_to_phone(phone)
            ],
        }
        for section, held_about in registry.personal_data_sections().items():
            held[section] = held_about(phone)
        PersonalDataAccess.objects.bulk_create(
            PersonalDataAccess(user=actor.user, case=case, field="all", via=via, at=at) for case in cases
        )
    return held
