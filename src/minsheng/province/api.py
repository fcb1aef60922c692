"""``POST /api/v1/province/cases``: the provincial 12345 platform sends a case down. Not for
people: signed with the secret shared with the platform (``docs/province.md``)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.errors import HttpError
from ninja.security import APIKeyHeader
from pydantic import AwareDatetime

from minsheng.cases.schemas import ErrorOut, Input
from minsheng.notify import signing

from . import actions, rules

router = Router(tags=["province"])


class PlatformSignature(APIKeyHeader):
    """``X-Minsheng-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>`` with
    ``X-Minsheng-Timestamp`` (Unix seconds, within 5 minutes of our clock)."""

    param_name = signing.SIGNATURE_HEADER

    def authenticate(self, request: HttpRequest, key: str | None) -> str:
        secret = rules.secret()
        if not secret:
            raise HttpError(
                503, "The secret shared with the provincial platform (MINSHENG_PROVINCE_SECRET) is not set."
            )
        reason = signing.refusal(
            secret,
            request.body,
            key or "",
            request.headers.get(signing.TIMESTAMP_HEADER, ""),
            max_skew=rules.max_skew(),
        )
        if reason is not None:
            raise HttpError(401, reason)
        return "province"


class ProvinceCaseBody(Input):
    province_id: str = Field(
        ..., min_length=1, max_length=64, description="the platform's id: sent again, nothing changes"
    )
    text: str = Field(..., min_length=1, max_length=2000)
    address: str = Field("", max_length=200)
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)
    category: str | None = Field(
        None, max_length=64, description="a matter code of our list, if the platform knows it"
    )
    urgent: bool = False
    requester_name: str = Field("", max_length=64)
    requester_phone: str = Field("", max_length=32)
    due_at: AwareDatetime | None = Field(None, description="the platform's own deadline, kept for reference")


class ProvinceCaseOut(Schema):
    duplicate: bool
    province_id: str
    case: str = Field(description="our case number")
    state: str


@router.post(
    "/cases",
    auth=PlatformSignature(),
    response={200: ProvinceCaseOut, 401: ErrorOut, 409: ErrorOut, 422: dict, 503: ErrorOut},
)
def send_down(request: HttpRequest, payload: ProvinceCaseBody):
    """A case sent down by the provincial platform: taken through the same intake as every
    request. 200 with our case number (also for a repeated ``province_id``: ``duplicate``
    true); 401 unsigned or stale; 422 naming the field; 503 with no shared secret. Every
    change of the case then goes back as a signed ``province_status`` webhook."""
    taken = actions.receive_case(
        actions.CaseIn(
            province_id=payload.province_id,
            text=payload.text,
            address=payload.address,
            lat=payload.lat,
            lng=payload.lng,
            category=payload.category,
            urgent=payload.urgent,
            requester_name=payload.requester_name,
            requester_phone=payload.requester_phone,
            due_at=payload.due_at,
        )
    )
    case = taken.link.case
    case.refresh_from_db(fields=["state"])
    return {
        "duplicate": taken.duplicate,
        "province_id": taken.link.province_id,
        "case": case.number,
        "state": case.state,
    }
