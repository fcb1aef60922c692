"""The case's JSON shapes in API v1 (and the base every API input shape builds on). Field
names here are a contract. Parts that extend the API (joint groups, sensors) build on
``Input`` and answer refusals with ``ErrorOut``, as the case endpoints do."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Field, Schema
from pydantic import field_validator

ChannelIn = Literal["hotline", "app", "grid", "110", "rider", "enterprise", "sensor"]


def refuse_nul(value):
    """PostgreSQL cannot store a NUL character (SQLite can): refuse it at the door with a
    422 naming the field, as Django's own form fields do, instead of a 500 from the database."""
    texts = value if isinstance(value, list) else [value]
    if any(isinstance(t, str) and "\x00" in t for t in texts):
        raise ValueError("must not contain NUL characters")
    return value


class Input(Schema):
    """Base of every input shape: no field may carry a NUL character."""

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value):
        return refuse_nul(value)


class RequesterIn(Input):
    name: str = Field("", max_length=64)
    phone: str = Field("", max_length=32)


class CaseIn(Input):
    channel: ChannelIn
    text: str = Field(..., max_length=20_000)
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


class ActionIn(Input):
    """One body for every action; each action reads the fields it needs."""

    note: str = Field("", max_length=5_000)
    version: int | None = Field(None, description="the case version you saw; 409 if stale")
    unit: int | None = None
    category: str | None = None
    people: list[str] = Field(default_factory=list, max_length=50)
    rating: str | None = None
    days: int | None = None
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
