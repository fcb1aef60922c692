"""Sensors in API v1, mounted at ``/api/v1/sensors``.

Two kinds of caller:

* devices and gateways, with an API key in ``X-Api-Key``: the HTTP batch of readings
  (for those that cannot speak MQTT), and, for the same reason, polling their commands
  and acknowledging them;
* people (token or session, like the rest of the API): the registry for maps, a device's
  readings for charts, and remote commands, which only permitted operators of the
  device's unit may send.
"""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.security import APIKeyHeader

from minsheng.accounts.actors import Actor
from minsheng.accounts.guards import actor_of
from minsheng.cases.errors import Forbidden, NotFound
from minsheng.cases.schemas import Input
from minsheng.core import clock

from . import actions, credentials, storage
from .ingest.http import accept_http_batch
from .models import QUANTITIES, Command, Device
from .presenters import command_dict, device_dict, devices_for_map

MAX_BATCH = 10_000

router = Router(tags=["sensors"])


class SensorKeyAuth(APIKeyHeader):
    """A device's or gateway's key, sent as ``X-Api-Key``."""

    param_name = "X-Api-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return credentials.key_for(key or "")


def _auth(request: HttpRequest) -> Any:
    """What the operation's authentication returned (django-ninja sets ``request.auth``)."""
    return getattr(request, "auth", None)


def _actor(request: HttpRequest) -> Actor:
    actor = actor_of(request)
    if actor.role is None:
        raise Forbidden("You have no role in Minsheng.")
    return actor


# --- devices and gateways -------------------------------------------------------------


class BatchIn(Schema):
    readings: list[Any] = Field(..., max_length=MAX_BATCH)


class RejectOut(Schema):
    index: int
    reason: str
    detail: str


class BatchOut(Schema):
    accepted: int
    rejected: int
    errors: list[RejectOut]


@router.post("/readings", auth=SensorKeyAuth(), response={200: BatchOut, 401: dict, 422: dict})
def post_readings(request: HttpRequest, payload: BatchIn):
    """A batch of readings: ``{"readings": [{"device": id, "ts": ISO-8601 with zone,
    "values": {"flow": 12.3}}, …]}`` (at most 10,000). Each reading is judged alone: the
    good ones are stored (a repeated ``(device, ts)`` once), the others counted and listed
    by index with the reason."""
    result = accept_http_batch(_auth(request), payload.readings)
    return {"accepted": result.accepted, "rejected": result.rejected, "errors": result.errors}


def _key_devices(key: Any) -> list[str]:
    if key.device_id is not None:
        return [key.device.device_id]
    return list(
        Device.objects.filter(gateway_id=key.gateway_id, active=True).values_list("device_id", flat=True)
    )


@router.get("/commands/pending", auth=SensorKeyAuth(), response=list[dict[str, Any]])
def pending_commands(request: HttpRequest):
    """Commands for the key's devices that no one has delivered yet; they count as sent
    from now, and fail if not acknowledged in time."""
    cmds = actions.pending_commands_for(_key_devices(_auth(request)))
    return [{"device": c.device.device_id, **actions.command_payload(c)} for c in cmds]


class AckIn(Schema):
    device: str
    id: str
    ok: bool = True
    position: float | None = None
    message: str = ""


@router.post("/acks", auth=SensorKeyAuth(), response={200: dict, 403: dict, 404: dict})
def post_ack(request: HttpRequest, payload: AckIn):
    """A device's acknowledgement of a command, sent through its gateway."""
    if payload.device not in _key_devices(_auth(request)):
        return Status(403, {"detail": "This key does not speak for that device."})
    cmd = actions.acknowledge_command(
        payload.device, payload.id, ok=payload.ok, position=payload.position, message=payload.message
    )
    if cmd is None:
        return Status(404, {"detail": "No such command for that device."})
    return command_dict(cmd)


# --- people ---------------------------------------------------------------------------


@router.get("/devices", response=list[dict[str, Any]])
def list_devices(request: HttpRequest):
    """Every active monitoring point with its status, last values and active alarms (the
    map's data)."""
    actor = _actor(request)
    return [device_dict(d, actor) for d in devices_for_map()]


def _device(device_id: str) -> Device:
    d = devices_for_map().filter(device_id=device_id).first()
    if d is None:
        raise NotFound("No such device.")
    return d


@router.get("/devices/{device_id}", response={200: dict[str, Any], 404: dict})
def get_device(request: HttpRequest, device_id: str):
    return device_dict(_device(device_id), _actor(request))


class SeriesQuery(Input):
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    hours: int = Field(168, ge=1, le=24 * 90)
    max_points: int = Field(2000, ge=10, le=20_000)


@router.get("/devices/{device_id}/readings", response={200: dict[str, Any], 404: dict})
def device_readings(request: HttpRequest, device_id: str, q: Query[SeriesQuery]):
    """Chart data, columnar: ``{"t": [epoch ms…], "flow": […], …}``; by default the last
    7 days, averaged into at most ``max_points`` buckets."""
    _actor(request)
    d = _device(device_id)
    until = q.until or clock.now()
    since = q.since or until - dt.timedelta(hours=q.hours)
    wanted = [x for x in (d.reported_quantities() or QUANTITIES)]
    return storage.series(d.pk, since, until, wanted, max_points=q.max_points)


class CommandIn(Schema):
    action: str = Field(..., description="close_valve, open_valve or set_position")
    position: float | None = Field(None, ge=0, le=100)
    case_id: int | None = None
    note: str = Field("", max_length=200)


@router.post("/devices/{device_id}/commands", response={201: dict[str, Any], 403: dict, 404: dict, 422: dict})
def send_command(request: HttpRequest, device_id: str, payload: CommandIn):
    """远程指令: queue a valve command; it is published to the device with an id, and its
    state (sent, acknowledged, failed) is at ``/api/v1/sensors/commands/{id}``."""
    cmd = actions.send_command(
        _actor(request),
        device_id,
        payload.action,
        position=payload.position,
        case_id=payload.case_id,
        note=payload.note,
    )
    return Status(201, command_dict(cmd))


@router.get("/commands/{command_id}", response={200: dict[str, Any], 404: dict})
def get_command(request: HttpRequest, command_id: str):
    _actor(request)
    cmd = Command.objects.select_related("device").filter(command_id=command_id).first()
    if cmd is None:
        raise NotFound("No such command.")
    return command_dict(cmd)
