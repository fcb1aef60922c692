"""Open311's shapes: services, requests and updates as GeoReport v2 (and FixMyStreet)
name their fields. Presenters only format; nothing here shows a requester's name, phone
or the case's internal notes, and numbers in the texts shown are masked."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from minsheng.cases import registry
from minsheng.cases.models import Case, CaseEvent
from minsheng.cases.states import State
from minsheng.catalog.models import Matter
from minsheng.core.phones import mask_phone

from .models import ServiceRequest
from .queries import UPDATE_STATUS, resolve_due

# A run of 7 or more digits (spaces and dashes allowed) in free text: a phone number, an ID
# card or an account, none of which a public answer should carry whole.
_DIGITS = re.compile(r"\d[\d\s-]{5,}\d")


def masked(text: str) -> str:
    return _DIGITS.sub(lambda m: mask_phone(re.sub(r"\D", "", m.group(0))), text or "")


def w3c(value: dt.datetime | None) -> str:
    """A W3C date-time in the city's time zone, with its offset (``2026-11-23T17:00:00+08:00``)."""
    if value is None:
        return ""
    return timezone.localtime(value).replace(microsecond=0).isoformat()


def attributes(matter: Matter) -> list[dict[str, Any]]:
    """The matter's extra questions as GeoReport attributes. The list of matters holds no
    extra questions today, so every service has none (and ``metadata`` is false)."""
    return []


def service(matter: Matter) -> dict[str, Any]:
    group = matter.owner_unit.name if matter.owner_unit else _("Territorial (town/street)")
    return {
        "service_code": matter.code,
        "service_name": matter.name,
        "description": matter.name,
        "metadata": bool(attributes(matter)),
        "type": "realtime",
        "keywords": ", ".join(matter.keywords or []),
        "group": group,
    }


def service_definition(matter: Matter) -> dict[str, Any]:
    return {"service_code": matter.code, "attributes": attributes(matter)}


def status(case: Case) -> str:
    return "closed" if case.state == State.CLOSED else "open"


def status_notes(case: Case) -> str:
    """What the unit told the requester once it has (feedback), else where the case is."""
    if case.merged_into_id is not None:
        return _("Merged with an earlier report of the same problem.")
    if case.feedback_text and case.state in (State.FEEDBACK, State.RATED, State.CLOSED):
        return masked(case.feedback_text)
    return str(case.get_state_display())


def request(row: ServiceRequest) -> dict[str, Any]:
    case = row.case
    return {
        "service_request_id": case.number,
        "status": status(case),
        "status_notes": status_notes(case),
        "service_name": case.matter.name if case.matter else "",
        "service_code": case.matter.code if case.matter else "",
        "description": masked(case.text),
        "agency_responsible": case.owner_unit.name if case.owner_unit else "",
        "service_notice": "",
        "requested_datetime": w3c(case.created_at),
        "updated_datetime": w3c(case.updated_at),
        "expected_datetime": w3c(resolve_due(case)),
        "address": case.address,
        "address_id": "",
        "zipcode": "",
        "lat": case.lat if case.lat is not None else "",
        "long": case.lng if case.lng is not None else "",
        "media_url": "",
    }


def created(row: ServiceRequest) -> dict[str, Any]:
    """The answer to a POST: the id at once (intake is synchronous) and the token too."""
    return {
        "service_request_id": row.case.number,
        "token": row.token,
        "service_notice": "",
        "account_id": row.account_id,
    }


def token(row: ServiceRequest) -> dict[str, Any]:
    return {"service_request_id": row.case.number, "token": row.token}


def update(event: CaseEvent) -> dict[str, Any]:
    """One entry of FixMyStreet's ``servicerequestupdates``: the kind's words, the unit's
    name for an assignment, the feedback's text for a feedback; no other note."""
    words = registry.event_label(event.action)
    if event.action == "assign" and event.data.get("unit_name"):
        words = f"{words}: {event.data['unit_name']}"
    elif event.action == "feedback" and event.note:
        words = masked(event.note)
    return {
        "update_id": str(event.pk),
        "service_request_id": event.case.number,
        "status": UPDATE_STATUS[event.action],
        "updated_datetime": w3c(event.at),
        "description": words,
        "media_url": "",
    }
