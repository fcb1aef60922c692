"""Named actions on devices, alarms and commands. Each runs in one transaction, checks
what it must, changes the rows and appends the event (to the device's log, and to the
case's log when a case is concerned).

An alarm (告警) becomes a work order (工单) here: it opens a case through the spine's
:func:`~minsheng.cases.actions.accept_case` (channel ``sensor``, which starts the 15-minute
response clock) or attaches to the device's case that is still open, so that a device in
trouble is one case, not one per rule or per flap.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from minsheng.accounts.actors import Actor
from minsheng.accounts.models import Role, Unit
from minsheng.cases import actions as case_actions
from minsheng.cases import kernel
from minsheng.cases.errors import Forbidden, Invalid, NotFound
from minsheng.cases.models import Case, CaseEvent
from minsheng.cases.scoping import can_see
from minsheng.cases.states import Channel, State
from minsheng.catalog.models import Matter
from minsheng.core import clock
from minsheng.core.conf import setting
from minsheng.places.queries import locate_point

from .models import (
    OPEN_COMMAND_STATES,
    UNITS,
    Alarm,
    AlarmRule,
    AlarmState,
    Command,
    CommandAction,
    CommandState,
    Device,
    DeviceEvent,
    DeviceKind,
    DeviceStatus,
    DeviceType,
    Quantity,
    RainPeriod,
)

log = logging.getLogger("minsheng.sensors")

SEND_PERMISSION = "sensors.send_command"
DEFAULT_COMMAND_TIMEOUT_S = 60


def alarm_matter_code() -> str:
    """The matter sensor cases are filed under (事项): ``water.outfall`` unless the city
    names another in ``MINSHENG_SENSORS_MATTER``."""
    return str(setting("MINSHENG_SENSORS_MATTER", "water.outfall"))


def command_timeout_s() -> int:
    return int(setting("MINSHENG_SENSORS_COMMAND_TIMEOUT_S", DEFAULT_COMMAND_TIMEOUT_S))


# --- events ---------------------------------------------------------------------------


def _device_event(
    device: Device,
    action: str,
    at: dt.datetime,
    *,
    actor: Actor | None = None,
    label: str = "",
    alarm: Alarm | None = None,
    command: Command | None = None,
    case: Case | None = None,
    data: dict[str, Any] | None = None,
) -> DeviceEvent:
    return DeviceEvent.objects.create(
        device=device,
        at=at,
        action=action,
        actor=actor.user if actor else None,
        actor_label=(actor.label if actor else label)[:64],
        actor_unit=actor.unit if actor else None,
        alarm=alarm,
        command=command,
        case=case,
        data=data or {},
    )


def _case_event(
    case: Case,
    action: str,
    at: dt.datetime,
    *,
    note: str,
    actor: Actor | None = None,
    label: str = "",
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    # Like the clock worker's events, these do not bump the case's version: a sensor
    # flapping must not make a person's open form stale.
    return kernel.record(case, action, at, actor=actor, label=label, note=note, data=data)


def _device_label(device: Device) -> str:
    return _("Device %(id)s") % {"id": device.device_id}


# --- registry -------------------------------------------------------------------------


def default_owner_unit() -> Unit | None:
    """The unit that owns a device nobody named an owner for: the owner of the matter
    sensor cases are filed under (水务集团 in the demo city)."""
    matter = Matter.objects.select_related("owner_unit").filter(code=alarm_matter_code()).first()
    return matter.owner_unit if matter and matter.owner_unit_id else None


def register_device(
    device_id: str,
    *,
    name: str,
    kind: str,
    lat: float,
    lng: float,
    device_type: DeviceType | None = None,
    owner_unit: Unit | None = None,
    **fields: Any,
) -> Device:
    """Add a monitoring point to the registry, its place found from its point."""
    if kind not in DeviceKind.values:
        raise Invalid("kind", _("Unknown kind of device."))
    owner = owner_unit or default_owner_unit()
    if owner is None:
        raise Invalid("owner_unit", _("Name the unit that owns this device."))
    with transaction.atomic():
        at = clock.now()
        device = Device.objects.create(
            device_id=device_id,
            name=name,
            kind=kind,
            lat=lat,
            lng=lng,
            device_type=device_type,
            owner_unit=owner,
            place=locate_point(lat, lng),
            created_at=at,
            **fields,
        )
        _device_event(
            device,
            "registered",
            at,
            label=_("Registry"),
            data={"owner_unit": owner.code, "place": device.place.code if device.place else None},
        )
        return device


# --- alarms ---------------------------------------------------------------------------


def _fmt(value: float | None, quantity: str) -> str:
    if value is None:
        return ""
    unit = UNITS.get(quantity, "")
    return f"{value:.4g} {unit}".strip()


def describe(device: Device, rule: str, quantity: str, value: float | None, detail: dict[str, Any]) -> str:
    """One line a person understands: what is wrong, with the number."""
    try:
        qlabel = str(Quantity(quantity).label) if quantity else ""
    except ValueError:
        qlabel = quantity
    v = _fmt(value, quantity)
    if rule == AlarmRule.THRESHOLD:
        if detail.get("side") == "low":
            return _("%(q)s %(v)s is below the normal range (at least %(b)s)") % {
                "q": qlabel,
                "v": v,
                "b": _fmt(detail.get("low"), quantity),
            }
        return _("%(q)s %(v)s is above the normal range (at most %(b)s)") % {
            "q": qlabel,
            "v": v,
            "b": _fmt(detail.get("high"), quantity),
        }
    if rule == AlarmRule.RATE:
        return _("%(q)s rose suddenly by %(r)s to %(v)s") % {
            "q": qlabel,
            "r": _fmt(detail.get("rise"), quantity),
            "v": v,
        }
    if rule == AlarmRule.DRY_WEATHER:
        return _("%(q)s %(v)s in dry weather, where there should be none: possible illegal discharge") % {
            "q": qlabel,
            "v": v,
        }
    if rule == AlarmRule.BASELINE:
        return _("%(q)s %(v)s is unusual for this hour (%(z)s robust deviations)") % {
            "q": qlabel,
            "v": v,
            "z": detail.get("z"),
        }
    if rule == AlarmRule.SILENCE:
        return _("No reading for %(m)s minutes: device offline") % {"m": detail.get("minutes")}
    return f"{rule} {qlabel} {v}".strip()


def open_case_of(device: Device) -> Case | None:
    """The device's case that is still open: the newest open case one of its alarms
    opened or joined (following merges to the case that absorbed it)."""
    ids = (
        Alarm.objects.filter(device=device, case__isnull=False)
        .exclude(case__state=State.CLOSED)
        .order_by("-raised_at", "-id")
        .values_list("case_id", flat=True)[:1]
    )
    case = Case.objects.filter(pk__in=list(ids)).first()
    seen = set()
    while case is not None and case.merged_into_id and case.pk not in seen:
        seen.add(case.pk)
        case = case.merged_into
    if case is None or case.state == State.CLOSED:
        return None
    return case


def _open_case(device: Device, alarm: Alarm, at: dt.datetime) -> Case:
    system = Actor.system(_("Sensor alarm"))
    matter_code = alarm_matter_code()
    category = matter_code if Matter.objects.filter(code=matter_code, active=True).exists() else None
    text = _("%(device)s (%(id)s): %(what)s.") % {
        "device": device.name,
        "id": device.device_id,
        "what": alarm.message,
    }
    case = case_actions.accept_case(
        system,
        case_actions.Intake(
            channel=Channel.SENSOR,
            text=text,
            lat=device.lat,
            lng=device.lng,
            address=device.name[:200],
            category=category,
            extra={"device": device.device_id, "alarm": alarm.pk},
        ),
    )
    while case.merged_into_id:
        case = Case.objects.get(pk=case.merged_into_id)
    if (
        case.state in (State.ACCEPTED, State.RETURNED, State.ASSIGNED)
        and case.owner_unit_id != device.owner_unit_id
    ):
        # The case goes to the unit that owns the device, whatever the matter's default.
        case = case_actions.assign_case(
            system,
            case.pk,
            unit_id=device.owner_unit_id,
            note=_("The unit that owns device %(id)s.") % {"id": device.device_id},
        )
    return case


def raise_alarm(
    device: Device,
    rule: str,
    quantity: str = "",
    *,
    since: dt.datetime,
    value: float | None = None,
    detail: dict[str, Any] | None = None,
) -> Alarm:
    """告警: record the alarm and put it on a work order: the device's open case if it has
    one (``alarm_attached``), else a new sensor case routed to the device's owner unit
    with the 15-minute response clock. Raising an alarm that is already active returns
    it unchanged."""
    if rule not in AlarmRule.values:
        raise Invalid("rule", _("Unknown alarm rule."))
    detail = detail or {}
    with transaction.atomic():
        # One device's alarms queue here, so that two rules firing together open one case.
        device = Device.objects.select_for_update().get(pk=device.pk)
        existing = Alarm.objects.filter(
            device=device, rule=rule, quantity=quantity, state=AlarmState.ACTIVE
        ).first()
        if existing is not None:
            return existing
        at = clock.now()
        with translation.override(settings.LANGUAGE_CODE):
            message = describe(device, rule, quantity, value, detail)[:200]
        try:
            with transaction.atomic():
                alarm = Alarm.objects.create(
                    device=device,
                    rule=rule,
                    quantity=quantity,
                    state=AlarmState.ACTIVE,
                    condition_since=since,
                    raised_at=at,
                    value=value,
                    detail=detail,
                    message=message,
                )
        except IntegrityError:
            return Alarm.objects.get(device=device, rule=rule, quantity=quantity, state=AlarmState.ACTIVE)
        label = _device_label(device)
        case = open_case_of(device)
        data = {
            "alarm": alarm.pk,
            "device": device.device_id,
            "rule": rule,
            "quantity": quantity,
            "value": value,
            "since": since.isoformat(),
        }
        if case is not None:
            _case_event(case, "alarm_attached", at, note=message, label=label, data=data)
            event = "alarm_attached"
        else:
            with translation.override(settings.LANGUAGE_CODE):
                case = _open_case(device, alarm, at)
                _case_event(case, "alarm_raised", at, note=message, label=label, data=data)
            event = "alarm_raised"
        alarm.case = case
        alarm.save(update_fields=["case"])
        _device_event(
            device, event, at, label=label, alarm=alarm, case=case, data={**data, "case": case.number}
        )
        if rule == AlarmRule.SILENCE and device.status != DeviceStatus.OFFLINE:
            Device.objects.filter(pk=device.pk).update(status=DeviceStatus.OFFLINE)
        return alarm


def clear_alarm(
    device: Device,
    rule: str,
    quantity: str = "",
    *,
    since: dt.datetime | None = None,
    value: float | None = None,
    detail: dict[str, Any] | None = None,
) -> Alarm | None:
    """The condition has been clear long enough: the alarm closes and its case says so.
    The case itself stays open: a person checks the site and closes it."""
    with transaction.atomic():
        # Lock the alarm row only: PostgreSQL refuses FOR UPDATE on a nullable outer join.
        alarm = (
            Alarm.objects.select_for_update(of=("self",))
            .select_related("case", "device")
            .filter(device=device, rule=rule, quantity=quantity, state=AlarmState.ACTIVE)
            .first()
        )
        if alarm is None:
            return None
        at = clock.now()
        alarm.state = AlarmState.CLEARED
        alarm.cleared_at = at
        alarm.save(update_fields=["state", "cleared_at"])
        label = _device_label(alarm.device)
        data = {
            "alarm": alarm.pk,
            "device": alarm.device.device_id,
            "rule": rule,
            "quantity": quantity,
            "value": value,
            "clear_since": since.isoformat() if since else None,
        }
        with translation.override(settings.LANGUAGE_CODE):
            note = _("Alarm cleared: %(what)s") % {"what": alarm.message}
        case = alarm.case
        if case is not None:
            case = open_case_of(alarm.device) if case.merged_into_id else case
        if case is not None and case.state != State.CLOSED:
            _case_event(case, "alarm_cleared", at, note=note, label=label, data=data)
        _device_event(alarm.device, "alarm_cleared", at, label=label, alarm=alarm, case=case, data=data)
        if rule == AlarmRule.SILENCE:
            Device.objects.filter(pk=alarm.device_id).update(status=DeviceStatus.ONLINE)
        return alarm


# --- commands -------------------------------------------------------------------------


def may_command(actor: Actor, device: Device) -> bool:
    """Administrators, and people granted ``sensors.send_command`` (a permission, given as
    data, e.g. to 水务集团's handlers) who work in the unit that owns the device."""
    if actor.is_system:
        return True
    user = actor.user
    if user is None or not getattr(user, "is_active", False):
        return False
    if actor.role == Role.ADMIN:
        return True
    return actor.unit is not None and actor.unit.pk == device.owner_unit_id and user.has_perm(SEND_PERMISSION)


def send_command(
    actor: Actor,
    device_id: str,
    action: str,
    *,
    position: float | None = None,
    case_id: int | None = None,
    note: str = "",
    timeout_s: int | None = None,
) -> Command:
    """远程指令: queue a valve command for the device. The ingest process publishes it to
    ``…/{device_id}/command`` with its id; the device's acknowledgement is matched by
    :func:`acknowledge_command`, and :func:`expire_commands` fails it when none comes in
    time."""
    device = Device.objects.select_related("owner_unit").filter(device_id=device_id).first()
    if device is None:
        raise NotFound(_("No such device."))
    if not may_command(actor, device):
        raise Forbidden(_("You may not send commands to this device."))
    if action not in CommandAction.values:
        raise Invalid("action", _("Unknown command."))
    if not device.active:
        raise Invalid("device", _("This device is out of service."))
    if not device.valve:
        raise Invalid("action", _("This device has no valve."))
    if action == CommandAction.CLOSE_VALVE:
        position = 0.0
    elif action == CommandAction.OPEN_VALVE:
        position = 100.0
    else:
        if position is None or not 0.0 <= float(position) <= 100.0:
            raise Invalid("position", _("Give a valve position from 0 to 100 (% open)."))
        position = float(position)
    with transaction.atomic():
        case = None
        if case_id is not None:
            case = Case.objects.filter(pk=case_id).first()
            if case is None or not (actor.is_system or can_see(actor, case)):
                raise Invalid("case", _("No such case."))
        else:
            case = open_case_of(device)
        at = clock.now()
        cmd = Command.objects.create(
            command_id=uuid.uuid4().hex,
            device=device,
            action=action,
            position=position,
            state=CommandState.PENDING,
            case=case,
            sent_by=actor.user,
            sent_by_label=actor.label[:64],
            sent_by_unit=actor.unit,
            note=note.strip()[:200],
            created_at=at,
            expires_at=at + dt.timedelta(seconds=timeout_s or command_timeout_s()),
        )
        data = {"command": cmd.command_id, "device": device.device_id, "action": action, "position": position}
        label = CommandAction(action).label
        text = _("%(action)s sent to %(device)s") % {"action": label, "device": device.name}
        if position is not None and action == CommandAction.SET_POSITION:
            text += f" ({position:.0f}%)"
        if note.strip():
            text += f": {note.strip()}"
        _device_event(device, "command_sent", at, actor=actor, command=cmd, case=case, data=data)
        if case is not None:
            _case_event(case, "command_sent", at, note=text, actor=actor, data=data)
        return cmd


def claim_pending_commands(limit: int = 100) -> list[Command]:
    """Commands waiting to be published, oldest first, marked sent (the ingest process
    publishes them right after; an unacknowledged one fails by its expiry time)."""
    if not Command.objects.filter(state=CommandState.PENDING).exists():
        return []  # a plain read first: the ingest loop asks five times a second
    with transaction.atomic():
        at = clock.now()
        cmds = list(
            Command.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("device")
            .filter(state=CommandState.PENDING)
            .order_by("created_at", "id")[:limit]
        )
        if cmds:
            Command.objects.filter(pk__in=[c.pk for c in cmds]).update(state=CommandState.SENT, sent_at=at)
            for c in cmds:
                c.state, c.sent_at = CommandState.SENT, at
        return cmds


def pending_commands_for(device_ids: list[str], limit: int = 100) -> list[Command]:
    """For HTTP gateways that poll: their devices' unpublished commands, marked sent."""
    with transaction.atomic():
        at = clock.now()
        cmds = list(
            Command.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("device")
            .filter(state=CommandState.PENDING, device__device_id__in=device_ids)
            .order_by("created_at", "id")[:limit]
        )
        Command.objects.filter(pk__in=[c.pk for c in cmds]).update(state=CommandState.SENT, sent_at=at)
        return cmds


def command_payload(cmd: Command) -> dict[str, Any]:
    return {
        "id": cmd.command_id,
        "action": cmd.action,
        "position": cmd.position,
        "ts": (cmd.sent_at or cmd.created_at).isoformat(),
        "expires": cmd.expires_at.isoformat(),
    }


def acknowledge_command(
    device_id: str, command_id: str, *, ok: bool = True, position: float | None = None, message: str = ""
) -> Command | None:
    """The device answered a command. ``ok`` False is the device refusing (the command
    fails with its reason). An acknowledgement after the deadline is recorded but the
    command stays failed; a repeated one (QoS 1 redelivery) changes nothing."""
    with transaction.atomic():
        cmd = (
            Command.objects.select_for_update(of=("self",))
            .select_related("device", "case")
            .filter(command_id=command_id, device__device_id=device_id)
            .first()
        )
        if cmd is None:
            return None
        at = clock.now()
        device = cmd.device
        label = _device_label(device)
        data = {
            "command": cmd.command_id,
            "device": device.device_id,
            "ok": ok,
            "position": position,
            "message": message[:200],
        }
        if cmd.state == CommandState.ACKED or (cmd.state == CommandState.FAILED and cmd.ack):
            return cmd
        cmd.ack = {"ok": ok, "position": position, "message": message[:200], "at": at.isoformat()}
        if cmd.state == CommandState.FAILED:
            action, note = "command_late_ack", _("Acknowledged after the deadline; the command stays failed.")
            cmd.save(update_fields=["ack"])
        elif ok:
            cmd.state, cmd.acked_at = CommandState.ACKED, at
            cmd.save(update_fields=["state", "acked_at", "ack"])
            action, note = (
                "command_acked",
                _("%(action)s acknowledged by the device") % {"action": cmd.get_action_display()},
            )
            if position is not None:
                Device.objects.filter(pk=device.pk).update(valve_position=position)
        else:
            cmd.state, cmd.failed_at = CommandState.FAILED, at
            cmd.reason = (_("Refused by the device: %(m)s") % {"m": message})[:200]
            cmd.save(update_fields=["state", "failed_at", "reason", "ack"])
            action, note = "command_refused", cmd.reason
        _device_event(device, action, at, label=label, command=cmd, case=cmd.case, data=data)
        if cmd.case is not None:
            _case_event(cmd.case, action, at, note=note, label=label, data=data)
        return cmd


def expire_commands(now: dt.datetime | None = None, limit: int = 500) -> int:
    """Commands not acknowledged by their deadline are failed, and their case says so."""
    now = now or clock.now()
    due = Command.objects.filter(state__in=OPEN_COMMAND_STATES, expires_at__lte=now)
    if not due.exists():
        return 0  # a plain read first: the ingest loop asks every second
    with transaction.atomic():
        cmds = list(
            due.select_for_update(skip_locked=True, of=("self",))
            .select_related("device", "case")
            .order_by("expires_at")[:limit]
        )
        for cmd in cmds:
            cmd.state, cmd.failed_at = CommandState.FAILED, now
            cmd.reason = str(_("Not acknowledged in time."))
            cmd.save(update_fields=["state", "failed_at", "reason"])
            data = {"command": cmd.command_id, "device": cmd.device.device_id, "action": cmd.action}
            note = _("%(action)s to %(device)s failed: not acknowledged in time") % {
                "action": cmd.get_action_display(),
                "device": cmd.device.name,
            }
            _device_event(
                cmd.device,
                "command_failed",
                now,
                label=_("Command watch"),
                command=cmd,
                case=cmd.case,
                data=data,
            )
            if cmd.case is not None:
                _case_event(cmd.case, "command_failed", now, note=note, label=_("Command watch"), data=data)
        return len(cmds)


# --- weather --------------------------------------------------------------------------


def record_rain(started_at: dt.datetime, ended_at: dt.datetime | None = None, note: str = "") -> RainPeriod:
    """降雨: flow at rain outfalls is expected now, and for a while after."""
    return RainPeriod.objects.create(started_at=started_at, ended_at=ended_at, note=note[:200])
