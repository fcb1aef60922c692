"""The API for the 110 system (``/api/v1/transfer/``): transfers from 110, 110's receipts and
results for transfers to it, and the details of a transfer to 110. Not for people: every
request is signed with the secret shared with 110 (``docs/transfer.md``)."""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.errors import HttpError
from ninja.security import APIKeyHeader
from pydantic import AwareDatetime

from minsheng.cases.schemas import ErrorOut, Input
from minsheng.notify import signing

from . import actions, rules
from .models import OutgoingTransfer

router = Router(tags=["transfer"])


class PoliceSignature(APIKeyHeader):
    """``X-Minsheng-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>`` (for a GET: of
    the path with its query string) with ``X-Minsheng-Timestamp`` (Unix seconds, within
    5 minutes of our clock)."""

    param_name = signing.SIGNATURE_HEADER

    def authenticate(self, request: HttpRequest, key: str | None) -> str:
        secret = rules.secret()
        if not secret:
            raise HttpError(
                503, "The secret shared with 110 (MINSHENG_TRANSFER_110_SECRET) is not configured."
            )
        signed = request.body if request.method != "GET" else request.get_full_path().encode()
        reason = signing.refusal(
            secret,
            signed,
            key or "",
            request.headers.get(signing.TIMESTAMP_HEADER, ""),
            max_skew=rules.max_skew(),
        )
        if reason is not None:
            raise HttpError(401, reason)
        return "110"


class TransferBody(Input):
    police_ref: str = Field(
        ..., min_length=1, max_length=64, description="110's own reference: sent again, nothing changes"
    )
    item: str = Field(
        ...,
        min_length=1,
        max_length=64,
        description="the code of an item of the list 110 hands to the hotline",
    )
    text: str = Field(..., min_length=1, max_length=2000, description="what the caller reported")
    sent_at: AwareDatetime = Field(..., description="when 110 sent it, ISO-8601 with its offset")
    address: str = Field("", max_length=200)
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)
    caller_name: str = Field("", max_length=64)
    caller_phone: str = Field("", max_length=32)


class TransferOut(Schema):
    duplicate: bool = Field(description="true when this police_ref was taken before: nothing changed")
    id: int
    police_ref: str
    state: str = Field(description="pending, accepted or returned")
    due_at: AwareDatetime = Field(description="the centre accepts or returns it by then")
    case: str | None = Field(None, description="the case's number once accepted")


class ReceiptBody(Input):
    event_id: str = Field(
        ..., min_length=1, max_length=64, description="the receipt's own id: sent again, nothing changes"
    )
    transfer: str = Field(
        ..., min_length=1, max_length=32, description='our reference of the transfer ("T123")'
    )
    status: Literal["received", "refused", "done"]
    at: AwareDatetime = Field(..., description="when 110 did it, ISO-8601 with its offset")
    police_ref: str = Field("", max_length=64, description="110's own reference for the matter")
    note: str = Field("", max_length=2000, description="refused: why (required); done: 110's result")


class ReceiptOut(Schema):
    duplicate: bool
    transfer: str
    state: str = Field(description="sent, received, done or refused")
    case: str
    case_state: str


class OutgoingOut(Schema):
    transfer: str
    case: str
    item: str
    item_name: str
    disposition: str
    text: str
    note: str
    address: str
    lat: float | None
    lng: float | None
    caller_name: str
    caller_phone: str
    sent_at: AwareDatetime
    receipt_due_at: AwareDatetime
    state: str


def _transfer_out(received: actions.Received) -> dict:
    t = received.transfer
    return {
        "duplicate": received.duplicate,
        "id": t.pk,
        "police_ref": t.police_ref,
        "state": t.state,
        "due_at": t.due_at,
        "case": t.case.number if t.case_id and t.case else None,
    }


@router.post(
    "/incoming",
    auth=PoliceSignature(),
    response={200: TransferOut, 401: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: dict, 503: ErrorOut},
)
def incoming(request: HttpRequest, payload: TransferBody):
    """A matter 110 hands to the hotline (110 → 12345). 200 with its state and the clock by
    which the centre decides (also for a repeated ``police_ref``: ``duplicate`` true, nothing
    changes); 401 unsigned or stale; 422 naming the field (an item not on the list, a bad
    phone number); 503 when no shared secret is set. The decision comes back to 110 as a
    signed webhook (``transfer_decided``), later the case's outcome (``transfer_outcome``)."""
    received = actions.receive_transfer(
        actions.TransferIn(
            police_ref=payload.police_ref,
            item=payload.item,
            text=payload.text,
            sent_at=payload.sent_at,
            address=payload.address,
            lat=payload.lat,
            lng=payload.lng,
            caller_name=payload.caller_name,
            caller_phone=payload.caller_phone,
        )
    )
    return _transfer_out(received)


@router.post(
    "/receipts",
    auth=PoliceSignature(),
    response={200: ReceiptOut, 401: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: dict, 503: ErrorOut},
)
def receipt(request: HttpRequest, payload: ReceiptBody):
    """110's word on a transfer to it (12345 → 110): ``received`` (签收), ``refused`` (with
    why) or ``done`` (its result; a held case closes with it). 200 (also for a repeated
    ``event_id``: ``duplicate`` true); 401; 404 for an unknown transfer; 422; 503."""
    taken = actions.receive_receipt(
        actions.ReceiptIn(
            event_id=payload.event_id,
            transfer=payload.transfer,
            status=payload.status,
            at=payload.at,
            police_ref=payload.police_ref,
            note=payload.note,
        )
    )
    t = taken.transfer
    t.case.refresh_from_db(fields=["state"])
    return {
        "duplicate": taken.duplicate,
        "transfer": t.reference,
        "state": t.state,
        "case": t.case.number,
        "case_state": t.case.state,
    }


@router.get(
    "/outgoing/{reference}",
    auth=PoliceSignature(),
    response={200: OutgoingOut, 401: ErrorOut, 404: ErrorOut, 503: ErrorOut},
)
def outgoing(request: HttpRequest, reference: str):
    """A transfer to 110 with the caller's full contact (kept out of the webhook message).
    Signed like the others, the signature over the path with its query string."""
    pk = reference[1:] if reference[:1] in ("T", "t") else reference
    t = (
        OutgoingTransfer.objects.select_related("case", "item").filter(pk=int(pk)).first()
        if pk.isdigit()
        else None
    )
    if t is None:
        raise HttpError(404, "No such transfer to 110.")
    case = t.case
    return {
        "transfer": t.reference,
        "case": case.number,
        "item": t.item.code,
        "item_name": t.item.name,
        "disposition": t.disposition,
        "text": case.text,
        "note": t.note,
        "address": case.address,
        "lat": case.lat,
        "lng": case.lng,
        "caller_name": case.requester_name or "",
        "caller_phone": case.requester_phone or "",
        "sent_at": t.sent_at,
        "receipt_due_at": t.receipt_due_at,
        "state": t.state,
    }
