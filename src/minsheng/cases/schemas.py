"""The case's JSON shapes in API v1 (and the base every API input shape builds on). Field
names here are a contract. Parts that extend the API (joint groups, sensors) build on
``Input`` and answer refusals with ``ErrorOut``, as the case endpoints do."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from enum import Enum
from typing import Any, Literal

from ninja import Field, Schema
from ninja.schema import DjangoGetter
from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from minsheng.core.text import clean_text

ChannelIn = Literal["hotline", "app", "grid", "110", "rider", "enterprise", "sensor"]
# The case actions of ``cases.states.TRANSITIONS``, as the OpenAPI document's enum (a unit
# test holds the two lists equal).
CaseAction = Literal[
    "assign",
    "sign",
    "return",
    "dispatch",
    "handle",
    "feedback",
    "rate",
    "close",
    "reopen",
    "extend",
    "approve_extension",
    "supervise",
    "merge",
]
RatingIn = Literal["satisfied", "basically_satisfied", "unsatisfied"]


def clean_input(value):
    """The one rule for control characters (:mod:`minsheng.core.text`) on a field of an API
    input: a NUL is refused with a 422 naming the field (PostgreSQL cannot store it, as
    Django's own form fields refuse it), any other control character is removed."""
    if isinstance(value, list):
        return [clean_input(v) for v in value]
    if isinstance(value, str) and not isinstance(value, Enum):  # a member of a choice stays one
        return clean_text(value)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        # An instant, held in UTC: ISO 8601 allows offsets (-19:37) PostgreSQL refuses
        # (it keeps ±15:59), and a moment at the edge of the calendar has no UTC form.
        try:
            return value.astimezone(dt.UTC)
        except OverflowError:
            raise ValueError("the date is out of range") from None
    return value


class Input(Schema):
    """Base of every input shape: an object (``"requester": 88`` is refused, not read as an
    empty requester), its text under the one rule for control characters."""

    @model_validator(mode="before")
    @classmethod
    def _an_object(cls, value: Any) -> Any:
        # django-ninja hands its schemas whatever came, wrapped to be read by attribute.
        given = value._obj if isinstance(value, DjangoGetter) else value
        if not isinstance(given, Mapping | BaseModel):
            raise ValueError("must be an object")
        return value

    @field_validator("*")
    @classmethod
    def _clean(cls, value):
        return clean_input(value)


class Body(Input):
    """A JSON body: JSON's own types, never coerced (``"yes"`` is not ``true``, ``"30.7"``
    not a number, ``"3"`` not an integer), as its OpenAPI document says. Query strings are
    text and stay on :class:`Input`."""

    model_config = ConfigDict(strict=True)


class RequesterIn(Body):
    name: str = Field("", max_length=64)
    phone: str = Field("", max_length=32)


class CaseIn(Body):
    channel: ChannelIn
    text: str = Field(..., max_length=20_000, pattern=r"\S", description="the request; not blank")
    # Ranges are checked by intake, which also recognises swapped latitude/longitude.
    lat: float | None = None
    lng: float | None = None
    crs: Literal["wgs84", "gcj02", "bd09"] = Field(
        "wgs84", description="coordinate system of lat/lng: wgs84, gcj02 (AMap, Tencent), bd09 (Baidu)"
    )
    address: str = Field("", max_length=200)
    category: str | None = Field(None, max_length=64)
    urgent: bool = False
    requester: RequesterIn | None = None

    @field_validator("text")
    @classmethod
    def _text_not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("text must not be empty")
        return v


class ActionIn(Body):
    """One body for every action; each action reads the fields it needs."""

    note: str = Field("", max_length=5_000)
    version: int | None = Field(None, description="the case version you saw; 409 if stale")
    unit: int | None = None
    category: str | None = None
    people: list[str] = Field(default_factory=list, max_length=50)
    rating: RatingIn | None = Field(None, description="rate: the requester's rating")
    days: int | None = Field(None, description="extend: working days more")
    approved: bool = True
    into: int | None = None


class UnitOut(Schema):
    id: int
    code: str
    name: str
    kind: str


class PlaceOut(Schema):
    code: str
    name: str
    kind: str
    town: str | None


class ClockOut(Schema):
    name: Literal["sign", "dispatch", "feedback", "resolve", "response"]
    due_at: dt.datetime
    met_at: dt.datetime | None
    late: bool
    running: bool
    unit: str | None


class RequesterOut(Schema):
    name: str
    phone: str
    phone_masked: bool


class CaseOut(Schema):
    id: int
    number: str
    state: str
    state_label: str
    channel: str
    title: str
    text: str
    category: str | None
    category_name: str | None
    owner_unit: UnitOut | None
    place: PlaceOut | None
    lat: float | None
    lng: float | None
    address: str
    urgent: bool
    requester: RequesterOut
    feedback: str
    rating: str | None
    merged_into: str | None
    supervision_count: int
    reopen_count: int
    extension_requested_days: int | None
    version: int
    created_at: dt.datetime
    closed_at: dt.datetime | None
    clocks: list[ClockOut]
    actions: list[str]


class CaseListItem(Schema):
    id: int
    number: str
    state: str
    title: str
    category: str | None
    owner_unit: str | None
    town: str | None
    urgent: bool
    requester_phone: str
    created_at: dt.datetime
    overdue: bool


class EventOut(Schema):
    id: int
    at: dt.datetime
    action: str
    actor: str
    unit: str | None
    from_state: str
    to_state: str
    note: str
    data: dict


class ErrorOut(Schema):
    detail: str
    state: str | None = None
    version: int | None = None


class FieldError(Schema):
    loc: list[str | int] = Field(
        description='where: ["body", "text"], ["path", "case_id"], ["query", "unit"]'
    )
    msg: str
    type: str


class InvalidOut(Schema):
    """422: what was wrong with the request, field by field."""

    detail: list[FieldError]
