"""Devices, alarms and commands in the shapes the API and the pages share."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.urls import reverse

from minsheng.accounts.actors import Actor
from minsheng.core import clock

from .actions import may_command
from .models import UNITS, Alarm, AlarmState, Command, Device, DeviceStatus, Quantity

ONLINE_GRACE = dt.timedelta(minutes=30)


def devices_for_map() -> QuerySet[Device]:
    active = Prefetch(
        "alarms", queryset=Alarm.objects.filter(state=AlarmState.ACTIVE), to_attr="active_alarms"
    )
    return (
        Device.objects.filter(active=True)
        .select_related("owner_unit", "place", "device_type")
        .prefetch_related(active)
    )


def alarm_dict(a: Alarm) -> dict[str, Any]:
    return {
        "id": a.pk,
        "rule": a.rule,
        "rule_label": a.get_rule_display(),
        "quantity": a.quantity,
        "state": a.state,
        "message": a.message,
        "value": a.value,
        "condition_since": a.condition_since.isoformat(),
        "raised_at": a.raised_at.isoformat(),
        "cleared_at": a.cleared_at.isoformat() if a.cleared_at else None,
        "case_id": a.case_id,
    }


def device_status(d: Device, now: dt.datetime | None = None) -> str:
    """The cached status, made honest when the ingest process is not running: a device
    not heard from for a while is not shown online."""
    now = now or clock.now()
    if d.status == DeviceStatus.ONLINE and (d.last_seen_at is None or now - d.last_seen_at > ONLINE_GRACE):
        return DeviceStatus.OFFLINE
    return d.status


def device_dict(d: Device, actor: Actor | None = None) -> dict[str, Any]:
    alarms = getattr(d, "active_alarms", None)
    if alarms is None:
        alarms = list(d.alarms.filter(state=AlarmState.ACTIVE))
    status = device_status(d)
    return {
        "device_id": d.device_id,
        "name": d.name,
        "kind": d.kind,
        "kind_label": d.get_kind_display(),
        "lat": d.lat,
        "lng": d.lng,
        "place": d.place.full_name() if d.place else None,
        "owner_unit": d.owner_unit.name if d.owner_unit_id else None,
        "status": "alarm" if alarms else status,
        "status_label": str(DeviceStatus(status).label),
        "last_seen_at": d.last_seen_at.isoformat() if d.last_seen_at else None,
        "last_values": d.last_values,
        "units": {q: UNITS[q] for q in d.last_values if q in UNITS},
        "labels": {q: str(Quantity(q).label) for q in d.last_values if q in UNITS},
        "readings": [
            {"quantity": q, "label": str(Quantity(q).label), "value": v, "unit": UNITS[q]}
            for q, v in d.last_values.items()
            if q in UNITS
        ],
        "has_valve": d.valve,
        "valve_position": d.valve_position,
        "active_alarms": [alarm_dict(a) for a in alarms],
        "may_command": bool(actor and may_command(actor, d)),
        "url": reverse("sensors:device", args=[d.device_id]),
    }


def command_dict(c: Command) -> dict[str, Any]:
    return {
        "id": c.command_id,
        "device": c.device.device_id,
        "action": c.action,
        "action_label": c.get_action_display(),
        "position": c.position,
        "state": c.state,
        "state_label": c.get_state_display(),
        "sent_by": c.sent_by_label,
        "case_id": c.case_id,
        "created_at": c.created_at.isoformat(),
        "sent_at": c.sent_at.isoformat() if c.sent_at else None,
        "acked_at": c.acked_at.isoformat() if c.acked_at else None,
        "expires_at": c.expires_at.isoformat(),
        "reason": c.reason,
        "ack": c.ack,
    }
