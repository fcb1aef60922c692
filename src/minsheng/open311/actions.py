"""Open311's mutations: a partner's API key, and a request taken in through the case intake.

A request goes through ``cases.actions.accept_case``, the same intake as ``POST
/api/v1/cases`` (placed, classified, checked for duplicates, routed), acting as the key's
partner unit; the :class:`ServiceRequest` row beside the case is written in the same
transaction, so a refusal leaves nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from minsheng.accounts.actors import Actor
from minsheng.accounts.models import Unit, hash_token
from minsheng.cases import actions as case_actions
from minsheng.cases.errors import Invalid
from minsheng.cases.states import Channel
from minsheng.core import clock

from .models import ApiKey, ServiceRequest

KEY_PREFIX = "o311_"

# The intake's field names in the words of GeoReport v2, for the error's description.
OPEN311_FIELD = {
    "text": "description",
    "lat": "lat",
    "crs": "lat",
    "category": "service_code",
    "address": "address_string",
    "requester.name": "first_name",
    "requester.phone": "phone",
    "channel": "service_code",
}


class BadRequest(Exception):
    """Input Open311 refuses with 400; ``field`` is the GeoReport parameter to fix."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def create_api_key(name: str, *, unit_code: str) -> tuple[ApiKey, str]:
    """A new key for the partner unit ``unit_code``; only its hash is kept, so show the
    returned raw key once."""
    name = name.strip()
    if not name:
        raise ValueError(_("Name the key."))
    if ApiKey.objects.filter(name=name).exists():
        raise ValueError(_("A key named %(name)s exists already.") % {"name": name})
    unit = Unit.objects.filter(code=unit_code, active=True).first()
    if unit is None:
        raise ValueError(_("No active unit with the code %(code)s.") % {"code": unit_code})
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        name=name[:64], unit=unit, prefix=raw[:10], key_hash=hash_token(raw), created_at=clock.now()
    )
    return key, raw


def revoke_api_key(name: str) -> ApiKey:
    key = ApiKey.objects.get(name=name)
    if key.revoked_at is None:
        key.revoked_at = clock.now()
        key.save(update_fields=["revoked_at"])
    return key


def mark_used(key: ApiKey) -> None:
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=clock.now())


@dataclass(frozen=True)
class Submission:
    """A POST ``requests`` already read off the form (all strings, as sent)."""

    service_code: str
    description: str = ""
    lat: str = ""
    long: str = ""
    address_string: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    device_id: str = ""
    account_id: str = ""

    @classmethod
    def from_form(cls, form: Any) -> Submission:
        """The GeoReport parameters of a POST form (a ``QueryDict``)."""
        return cls(**{name: str(form.get(name, "") or "") for name in cls.__dataclass_fields__})


def _coordinate(raw: str, field: str) -> float | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise BadRequest(field, _("Not a number.")) from None


def submit_request(key: ApiKey, data: Submission) -> ServiceRequest:
    """Take in a partner's request as a case (受理), through the one intake, acting as the
    key's partner unit. The requester's name and phone go onto the case for the call back;
    they are never shown through Open311."""
    if not data.service_code.strip():
        raise BadRequest("service_code", _("Name the service."))
    lat, lng = _coordinate(data.lat, "lat"), _coordinate(data.long, "long")
    if (lat is None or lng is None) and not data.address_string.strip():
        raise BadRequest("lat", _("Give lat and long, or address_string."))
    if not data.description.strip():
        raise BadRequest("description", _("Describe the request."))
    # Chinese names are family name first.
    name = f"{data.last_name.strip()}{data.first_name.strip()}"
    intake = case_actions.Intake(
        channel=Channel.APP,
        text=data.description,
        lat=lat,
        lng=lng,
        address=data.address_string,
        category=data.service_code.strip(),
        requester_name=name,
        requester_phone=data.phone.strip(),
    )
    actor = Actor(user=None, role="system", unit=key.unit, label=f"Open311 · {key.name}"[:64])
    try:
        with transaction.atomic():
            case = case_actions.accept_case(actor, intake)
            return ServiceRequest.objects.create(
                case=case,
                key=key,
                device_id=data.device_id.strip()[:64],
                account_id=data.account_id.strip()[:64],
                created_at=case.created_at,
            )
    except Invalid as exc:
        raise BadRequest(OPEN311_FIELD.get(exc.field, exc.field), exc.message) from exc
