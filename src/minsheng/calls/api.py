"""``POST /api/v1/calls/events``: the city's telephone system (CTI) tells Minsheng about its
calls — ring, answer, hang-up — so that the seat knows who is calling, the recording reaches
the case, and a call nobody answered waits for its callback. Not for people: the request is
signed with the secret shared with the telephone system (``docs/calls.md``)."""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.errors import HttpError
from ninja.security import APIKeyHeader
from pydantic import AwareDatetime

from minsheng.cases.schemas import ErrorOut, Input

from . import actions, rules, signing

router = Router(tags=["calls"])


class CtiSignature(APIKeyHeader):
    """``X-Minsheng-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>`` with
    ``X-Minsheng-Timestamp`` (Unix seconds, within 5 minutes of our clock)."""

    param_name = signing.SIGNATURE_HEADER

    def authenticate(self, request: HttpRequest, key: str | None) -> str:
        secret = rules.cti_secret()
        if not secret:
            raise HttpError(
                503, "The telephone system's shared secret (MINSHENG_CTI_SECRET) is not configured."
            )
        reason = signing.refusal(
            secret, request.body, key or "", request.headers.get(signing.TIMESTAMP_HEADER, "")
        )
        if reason is not None:
            raise HttpError(401, reason)
        return "cti"


class CallEventBody(Input):
    event_id: str = Field(
        ..., min_length=1, max_length=64, description="the event's own id: a second delivery changes nothing"
    )
    event: Literal["ring", "answer", "hangup"]
    call_id: str = Field(
        ..., min_length=1, max_length=64, description="the telephone system's id of the call"
    )
    at: AwareDatetime = Field(..., description="when it happened, ISO-8601 with its offset")
    caller: str = Field("", max_length=32, description="the caller's number; empty when withheld")
    seat: str = Field(
        "", max_length=32, description="the seat (extension) the call rings at or was answered at"
    )
    agent: str = Field("", max_length=150, description="the operator: their Minsheng user name")
    recording_url: str | None = Field(
        None, max_length=500, description="http(s) link to the recording (hang-up)"
    )
    cause: str = Field(
        "",
        max_length=32,
        description='hang-up only: "dropped" when an answered call was cut off (callback owed)',
    )


class CallEventOut(Schema):
    duplicate: bool = Field(description="true when this event_id was taken before: nothing changed")
    call_id: str
    state: str = Field(description="ringing, answered, ended, missed or dropped")
    ignored: str = Field(
        "", description="why the event changed nothing, when it arrived after the call moved on"
    )


@router.post(
    "/events",
    auth=CtiSignature(),
    response={200: CallEventOut, 401: ErrorOut, 422: dict, 503: ErrorOut},
)
def call_event(request: HttpRequest, payload: CallEventBody):
    """One event of a call. 200 (also for a repeated event: ``duplicate`` true, nothing
    changes); 401 when the signature does not match the raw body or the timestamp is
    stale; 422 naming the field of a malformed body; 503 when no shared secret is set.
    Events out of order move a call only forward: a hang-up before any answer is a missed
    call (a callback is owed), and an answer that arrives after it changes nothing."""
    received = actions.receive_event(
        actions.CallEventIn(
            event_id=payload.event_id,
            kind=payload.event,
            call_id=payload.call_id,
            at=payload.at,
            caller=payload.caller,
            seat=payload.seat,
            agent=payload.agent,
            recording_url=payload.recording_url or "",
            cause=payload.cause,
        )
    )
    call = received.call
    return {
        "duplicate": received.duplicate,
        "call_id": call.call_id,
        "state": call.state,
        "ignored": received.ignored,
    }
