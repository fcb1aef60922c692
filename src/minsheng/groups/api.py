"""API v1 for joint groups (一键组群), mounted beside the cases:

* ``GET  /api/v1/cases/{id}/group`` — the case's latest group (open or on record);
* ``POST /api/v1/cases/{id}/group`` — form one (``FormGroupIn``);
* ``POST /api/v1/cases/{id}/group/{action}`` — ``sign``, ``done``, ``request``, ``waive``,
  ``change``, ``decline``, ``dissolve``, ``message`` (``GroupActionIn``; photos go through
  the web form for now).

Refusals are the case actions' (404, 403, 409 with state and version, 422 naming the field).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.errors import ValidationError

from minsheng.accounts.actors import Actor
from minsheng.accounts.guards import actor_of
from minsheng.cases.errors import NotFound
from minsheng.cases.queries import get_visible_case
from minsheng.cases.schemas import ErrorOut, Input

from . import actions, queries
from .presenters import group_out

router = Router(tags=["joint groups"])


class AssistSchema(Input):
    unit_id: int
    task: str = Field(..., max_length=5_000)


class FormGroupIn(Input):
    lead_unit_id: int
    lead_task: str = Field(..., max_length=5_000)
    assists: list[AssistSchema] = Field(..., max_length=30)
    note: str = Field("", max_length=5_000)
    hours: int | None = Field(None, description="hours each assisting unit has for its part")
    version: int | None = Field(None, description="the case version you saw; 409 if stale")


class GroupActionIn(Input):
    """One body for every group action; each reads the fields it needs."""

    note: str = Field("", max_length=5_000)
    text: str = Field("", max_length=5_000)
    version: int | None = None
    unit_id: int | None = None
    request_id: int | None = None
    add: list[AssistSchema] = Field(default_factory=list, max_length=30)
    remove: list[int] = Field(default_factory=list, max_length=30)
    hours: int | None = None


class GroupOut(Schema):
    id: int
    case: int
    state: str
    lead_unit: dict[str, Any]
    formed_unit: dict[str, Any] | None
    formed_at: Any
    closed_at: Any
    note: str
    members: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    change_requests: list[dict[str, Any]]


def _assists(items: list[AssistSchema]) -> list[actions.AssistIn]:
    return [actions.AssistIn(unit_id=a.unit_id, task=a.task) for a in items]


def _out(actor: Actor, case_id: int) -> dict[str, Any]:
    case = get_visible_case(actor, case_id)
    group = queries.latest_group(case)
    if group is None:
        raise NotFound("This case has no joint group.")
    return group_out(group)


@router.get("/{case_id}/group", response={200: GroupOut, 404: ErrorOut})
def get_group(request: HttpRequest, case_id: int):
    return _out(actor_of(request), case_id)


@router.post(
    "/{case_id}/group", response={201: GroupOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: dict}
)
def form_group(request: HttpRequest, case_id: int, payload: FormGroupIn):
    """一键组群: a lead unit and assisting units, each with its task, in one action."""
    actor = actor_of(request)
    actions.form_joint_group(
        actor,
        case_id,
        lead_unit_id=payload.lead_unit_id,
        assists=_assists(payload.assists),
        lead_task=payload.lead_task,
        note=payload.note,
        hours=payload.hours,
        expected_version=payload.version,
    )
    return Status(201, _out(actor, case_id))


GROUP_ACTIONS = ("sign", "done", "request", "waive", "change", "decline", "dissolve", "message")


@router.post(
    "/{case_id}/group/{action}",
    response={200: GroupOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: dict},
)
def group_action(request: HttpRequest, case_id: int, action: str, payload: GroupActionIn):
    """A member's part (sign, done, request a change), the dispatcher's decisions (waive,
    change, decline, dissolve), or a message in the thread."""
    if action not in GROUP_ACTIONS:
        raise ValidationError(
            [
                {
                    "loc": ["path", "action"],
                    "type": "value_error",
                    "msg": f"unknown action; one of: {', '.join(GROUP_ACTIONS)}",
                }
            ]
        )
    actor = actor_of(request)
    p = payload
    if action == "sign":
        actions.sign_part(actor, case_id, note=p.note, expected_version=p.version)
    elif action == "done":
        actions.mark_part_done(actor, case_id, note=p.note, expected_version=p.version)
    elif action == "request":
        actions.request_group_change(actor, case_id, note=p.note, expected_version=p.version)
    elif action == "waive":
        actions.waive_part(actor, case_id, unit_id=p.unit_id, note=p.note, expected_version=p.version)
    elif action == "change":
        actions.change_group(
            actor,
            case_id,
            add=_assists(p.add),
            remove=p.remove,
            note=p.note,
            hours=p.hours,
            request_id=p.request_id,
            expected_version=p.version,
        )
    elif action == "decline":
        actions.decline_group_change(
            actor, case_id, request_id=p.request_id, note=p.note, expected_version=p.version
        )
    elif action == "dissolve":
        actions.dissolve_group(actor, case_id, note=p.note, expected_version=p.version)
    else:
        actions.post_group_message(actor, case_id, text=p.text or p.note)
    return _out(actor, case_id)
