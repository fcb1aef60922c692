"""Smart water (智慧水务): the registry of monitoring points (监测点), their readings, the
alarms detection raises, and the commands operators send to valves.

Readings are written only through :mod:`minsheng.sensors.storage`; alarms and commands
change only through the named actions in :mod:`minsheng.sensors.actions`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DeviceKind(models.TextChoices):
    OUTFALL = "outfall", _("Outfall")  # 排口
    PUMPING_STATION = "pumping_station", _("Pumping station")  # 泵站
    RAIN_NODE = "rain_node", _("Rainwater pipe node")  # 雨水管网节点
    SEWAGE_NODE = "sewage_node", _("Sewage pipe node")  # 污水管网节点


class Quantity(models.TextChoices):
    """What a device reports. Each quantity is a column of :class:`ReadingColumns`: adding one is
    a migration, which keeps the readings table narrow, typed and fast to insert."""

    FLOW = "flow", _("Flow")  # 流量, m³/h
    LEVEL = "level", _("Level")  # 液位, m
    COD = "cod", _("COD")  # 化学需氧量, mg/L
    PH = "ph", _("pH")
    CONDUCTIVITY = "conductivity", _("Conductivity")  # 电导率, µS/cm
    VALVE = "valve", _("Valve position")  # 阀门开度, % open


QUANTITIES: tuple[str, ...] = tuple(Quantity.values)
UNITS = {"flow": "m³/h", "level": "m", "cod": "mg/L", "ph": "", "conductivity": "µS/cm", "valve": "%"}


class DeviceType(models.Model):
    """A model of device (设备型号) and the defaults its devices share: what it reports,
    the normal range of each quantity, whether it has a valve, and its detection rules.
    A device overrides any of these; the rules' shape is documented in
    :mod:`minsheng.sensors.detection`."""

    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=64)
    kind = models.CharField(_("kind"), max_length=24, choices=DeviceKind.choices)
    quantities = models.JSONField(_("quantities"), default=list, blank=True)
    normal_ranges = models.JSONField(
        _("normal ranges"),
        default=dict,
        blank=True,
        help_text=_('Per quantity, [low, high]; null for no bound, e.g. {"level": [null, 1.2]}.'),
    )
    has_valve = models.BooleanField(_("has a valve"), default=False)
    rules = models.JSONField(_("detection rules"), default=dict, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("device type")
        verbose_name_plural = _("device types")

    def __str__(self) -> str:
        return self.name


class Gateway(models.Model):
    """A data gateway (数据网关) that forwards readings of several devices over HTTP when
    they cannot speak MQTT themselves."""

    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=64)
    owner_unit = models.ForeignKey(
        "accounts.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("gateway")
        verbose_name_plural = _("gateways")

    def __str__(self) -> str:
        return self.name


class DeviceStatus(models.TextChoices):
    UNKNOWN = "unknown", _("Never reported")
    ONLINE = "online", _("Online")
    OFFLINE = "offline", _("Offline")


class Device(models.Model):
    """A monitoring point (监测点): an outfall, pumping station or pipe node with its
    sensors. ``device_id`` is the name it uses on the broker
    (``minsheng/sensors/{device_id}/telemetry``); ``owner_unit`` is the unit whose cases
    its alarms open and whose operators may command it.

    ``last_seen_at``, ``last_values``, ``status`` and ``valve_position`` are a cache the
    ingest process refreshes every few seconds, for maps and lists; the readings table is
    the record.
    """

    device_id = models.SlugField(_("device id"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=80)
    kind = models.CharField(_("kind"), max_length=24, choices=DeviceKind.choices)
    device_type = models.ForeignKey(
        DeviceType, null=True, blank=True, on_delete=models.PROTECT, related_name="devices"
    )
    lat = models.FloatField(_("latitude"))
    lng = models.FloatField(_("longitude"))
    place = models.ForeignKey(
        "places.Place", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    owner_unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, related_name="devices")
    gateway = models.ForeignKey(
        Gateway, null=True, blank=True, on_delete=models.SET_NULL, related_name="devices"
    )
    # Empty: the type's. Otherwise these replace (quantities) or override (ranges, rules).
    quantities = models.JSONField(_("quantities"), default=list, blank=True)
    normal_ranges = models.JSONField(_("normal ranges"), default=dict, blank=True)
    has_valve = models.BooleanField(
        _("has a valve"), null=True, blank=True, help_text=_("Empty: as its type.")
    )
    rules = models.JSONField(_("detection rules"), default=dict, blank=True)
    # The broker login of the device (username = device_id), hashed; see the docs for the
    # Mosquitto password file and ACL exported from these.
    mqtt_password_hash = models.CharField(max_length=256, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField()
    status = models.CharField(
        _("status"), max_length=16, choices=DeviceStatus.choices, default=DeviceStatus.UNKNOWN
    )
    last_seen_at = models.DateTimeField(_("last reading"), null=True, blank=True)
    last_values = models.JSONField(default=dict, blank=True)
    valve_position = models.FloatField(_("valve position (% open)"), null=True, blank=True)

    class Meta:
        ordering = ["device_id"]
        indexes = [models.Index(fields=["owner_unit", "device_id"])]
        constraints = [
            models.CheckConstraint(name="device_kind_valid", condition=models.Q(kind__in=DeviceKind.values)),
            models.CheckConstraint(
                name="device_status_valid", condition=models.Q(status__in=DeviceStatus.values)
            ),
        ]
        verbose_name = _("device")
        verbose_name_plural = _("devices")

    def __str__(self) -> str:
        return f"{self.device_id} {self.name}"

    @property
    def valve(self) -> bool:
        if self.has_valve is not None:
            return self.has_valve
        return bool(self.device_type and self.device_type.has_valve)

    def reported_quantities(self) -> list[str]:
        q = self.quantities or (self.device_type.quantities if self.device_type else [])
        return [x for x in q if x in QUANTITIES]

    def ranges(self) -> dict[str, list[float | None]]:
        out = dict(self.device_type.normal_ranges) if self.device_type else {}
        out.update(self.normal_ranges or {})
        return out


class ReadingColumns(models.Model):
    """The columns of a stored reading: the device, the time, a float per quantity."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="+", db_index=False)
    ts = models.DateTimeField()
    flow = models.FloatField(null=True)
    level = models.FloatField(null=True)
    cod = models.FloatField(null=True)
    ph = models.FloatField(null=True)
    conductivity = models.FloatField(null=True)
    valve = models.FloatField(null=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.device_id}@{self.ts.isoformat()}"


class Reading(ReadingColumns):
    """One message of one device at one time: the values it reported then.

    Keyed by ``(device, ts)`` and nothing else: a message delivered twice (QoS 1
    redelivery, a gateway's retry) is stored once, and every read (a device's chart, its
    latest reading, the hourly roll-up, the retention purge) walks one device's time range
    of that key. One B-tree per row written instead of three (an id, the unique pair and a
    time index), which is most of what storing a reading costs; on SQLite the table is
    ``WITHOUT ROWID`` (migration 0003), so the key is the table. Only
    :mod:`minsheng.sensors.storage` reads and writes this table.
    """

    pk = models.CompositePrimaryKey("device", "ts")


class RecentReading(ReadingColumns):
    """On SQLite, readings just received, before :func:`minsheng.sensors.storage.compact`
    moves them into :class:`Reading`. Keyed by ``(ts, device)``, so that a batch appends at
    the end of one B-tree instead of touching one page per device of the big table (which
    made storing cost more the bigger the table grew); the move takes many readings per
    device at once, in key order. Reads look in both. ``WITHOUT ROWID``, like
    :class:`Reading`. PostgreSQL stores into :class:`Reading` directly and leaves this
    empty. Only :mod:`minsheng.sensors.storage` touches it."""

    pk = models.CompositePrimaryKey("ts", "device")


class ReadingHour(models.Model):
    """Hourly roll-up of a device's readings: ``stats`` maps a quantity to ``[mean, min,
    max, count]``. Kept longer than raw readings; the same-hour baseline (median/MAD over
    the last weeks) is computed from these."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="+", db_index=False)
    hour = models.DateTimeField()
    n = models.PositiveIntegerField(default=0)
    stats = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["device", "hour"], name="reading_hour_unique"),
        ]
        indexes = [models.Index(fields=["hour"], name="reading_hour_hour")]

    def __str__(self) -> str:
        return f"{self.device_id}@{self.hour.isoformat()}"


class AlarmRule(models.TextChoices):
    THRESHOLD = "threshold", _("Outside normal range")  # 超限 (e.g. level above overflow)
    RATE = "rate", _("Sudden change")  # 突变
    DRY_WEATHER = "dry_weather", _("Flow in dry weather")  # 旱天排水 (possible 偷排)
    BASELINE = "baseline", _("Unusual for the hour")  # 偏离同时段常态
    SILENCE = "silence", _("Device offline")  # 离线


class AlarmState(models.TextChoices):
    ACTIVE = "active", _("Active")
    CLEARED = "cleared", _("Cleared")


class Alarm(models.Model):
    """An alarm (告警): a rule's condition held on a device long enough to be believed.

    It opens a case (or attaches to the device's open case) when raised, and is cleared
    when the condition has been clear long enough; the case stays open for a person to
    close. At most one alarm per device, rule and quantity is active at a time.
    """

    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="alarms")
    rule = models.CharField(_("rule"), max_length=16, choices=AlarmRule.choices)
    quantity = models.CharField(_("quantity"), max_length=16, blank=True)
    state = models.CharField(_("state"), max_length=8, choices=AlarmState.choices, default=AlarmState.ACTIVE)
    condition_since = models.DateTimeField(_("condition since"))
    raised_at = models.DateTimeField(_("raised at"))
    cleared_at = models.DateTimeField(_("cleared at"), null=True, blank=True)
    value = models.FloatField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    message = models.CharField(max_length=200, blank=True)
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="sensor_alarms"
    )

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["device", "rule", "quantity"],
                name="alarm_one_active",
                condition=models.Q(state="active"),
            ),
            models.CheckConstraint(name="alarm_rule_valid", condition=models.Q(rule__in=AlarmRule.values)),
            models.CheckConstraint(name="alarm_state_valid", condition=models.Q(state__in=AlarmState.values)),
        ]
        indexes = [models.Index(fields=["device", "-raised_at"])]
        verbose_name = _("alarm")
        verbose_name_plural = _("alarms")

    def __str__(self) -> str:
        return f"{self.device_id} {self.rule} {self.quantity} {self.state}"

    @property
    def is_active(self) -> bool:
        return self.state == AlarmState.ACTIVE


class CommandAction(models.TextChoices):
    CLOSE_VALVE = "close_valve", _("Close valve")  # 关阀 / 截污
    OPEN_VALVE = "open_valve", _("Open valve")  # 开阀
    SET_POSITION = "set_position", _("Set valve position")  # 调节开度 / 流量分配


class CommandState(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent, awaiting acknowledgement")
    ACKED = "acked", _("Acknowledged")
    FAILED = "failed", _("Failed")


OPEN_COMMAND_STATES = (CommandState.PENDING, CommandState.SENT)


class Command(models.Model):
    """A remote command (远程指令) to a device. Written by :func:`actions.send_command`,
    published by the ingest process to ``…/{device_id}/command`` with ``command_id``,
    matched to the device's acknowledgement on ``…/ack``, failed when not acknowledged
    by ``expires_at``."""

    command_id = models.CharField(max_length=32, unique=True)
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="commands")
    action = models.CharField(_("action"), max_length=16, choices=CommandAction.choices)
    position = models.FloatField(_("valve position (% open)"), null=True, blank=True)
    state = models.CharField(
        _("state"), max_length=8, choices=CommandState.choices, default=CommandState.PENDING
    )
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="sensor_commands"
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sent_by_label = models.CharField(max_length=64, blank=True)
    sent_by_unit = models.ForeignKey(
        "accounts.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    acked_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    ack = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("send_command", "Can send commands to devices of their unit")]
        indexes = [
            models.Index(fields=["created_at"], name="command_pending", condition=models.Q(state="pending")),
            models.Index(
                fields=["expires_at"],
                name="command_open_expiry",
                condition=models.Q(state__in=["pending", "sent"]),
            ),
            models.Index(fields=["device", "-created_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                name="command_action_valid", condition=models.Q(action__in=CommandAction.values)
            ),
            models.CheckConstraint(
                name="command_state_valid", condition=models.Q(state__in=CommandState.values)
            ),
        ]
        verbose_name = _("command")
        verbose_name_plural = _("commands")

    def __str__(self) -> str:
        return f"{self.command_id} {self.action} → {self.device_id}"


class DeviceEvent(models.Model):
    """The device's log (设备日志): alarms raised and cleared, commands sent, acknowledged
    or failed, with who did it. Append-only, like the case's log; an event that concerns
    a case is also written to that case's log."""

    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField()
    action = models.CharField(max_length=32)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=64, blank=True)
    actor_unit = models.ForeignKey(
        "accounts.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    alarm = models.ForeignKey(Alarm, null=True, blank=True, on_delete=models.PROTECT, related_name="events")
    command = models.ForeignKey(
        Command, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["device", "at"])]

    def __str__(self) -> str:
        return f"{self.device_id} {self.action} {self.at:%Y-%m-%d %H:%M:%S}"


class SensorKey(models.Model):
    """An API key for the HTTP batch endpoint, held by one device or one gateway. Only its
    SHA-256 is stored; the key is shown once when issued."""

    name = models.CharField(_("name"), max_length=64, blank=True)
    device = models.ForeignKey(
        Device, null=True, blank=True, on_delete=models.CASCADE, related_name="api_keys"
    )
    gateway = models.ForeignKey(
        Gateway, null=True, blank=True, on_delete=models.CASCADE, related_name="api_keys"
    )
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="sensor_key_one_holder",
                condition=(
                    models.Q(device__isnull=False, gateway__isnull=True)
                    | models.Q(device__isnull=True, gateway__isnull=False)
                ),
            ),
        ]
        verbose_name = _("sensor API key")
        verbose_name_plural = _("sensor API keys")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.device or self.gateway})"


class InboundBatch(models.Model):
    """Readings the HTTP endpoint stored, waiting for the ingest process to run detection
    on them: detection keeps per-device state (hold timers, recent values) in that one
    process, so web processes hand readings over instead of detecting themselves."""

    created_at = models.DateTimeField()
    readings = models.JSONField(default=list)  # [[device pk, ts ISO, {quantity: value}], …]
    # With ingest shards the endpoint writes one batch per shard: the shard that takes it,
    # of how many (``MINSHENG_SENSORS_SHARDS`` when it was written).
    shard = models.PositiveSmallIntegerField(default=0)
    shards = models.PositiveSmallIntegerField(default=1)
    taken_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["id"], name="inbound_waiting", condition=models.Q(taken_at__isnull=True))
        ]

    def __str__(self) -> str:
        return f"batch {self.pk} ({len(self.readings)})"


class RejectCounter(models.Model):
    """How many messages were refused, by source (mqtt/http) and reason (unknown device,
    malformed, future timestamp…), with the last example for whoever investigates."""

    source = models.CharField(max_length=8)
    reason = models.CharField(max_length=32)
    count = models.BigIntegerField(default=0)
    last_at = models.DateTimeField()
    last_detail = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["source", "reason"]
        constraints = [models.UniqueConstraint(fields=["source", "reason"], name="reject_counter_unique")]

    def __str__(self) -> str:
        return f"{self.source}/{self.reason}: {self.count}"


class RainPeriod(models.Model):
    """Rain (降雨) as the city's weather service or an operator records it. Detection calls
    weather dry when no rain period touches the last ``dry_after_rain_hours``: flow where
    there should be none in dry weather suggests illegal discharge (偷排)."""

    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("rain period")
        verbose_name_plural = _("rain periods")

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M}–{self.ended_at or ''}"
