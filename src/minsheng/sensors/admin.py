"""The registry is edited in the admin; alarms, commands and logs change only through the
named actions, so the admin shows them read-only."""

from django.contrib import admin

from .models import (
    Alarm,
    Command,
    Device,
    DeviceEvent,
    DeviceType,
    Gateway,
    RainPeriod,
    RejectCounter,
    SensorKey,
)


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DeviceType)
class DeviceTypeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "has_valve")


@admin.register(Gateway)
class GatewayAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "owner_unit")


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ("device_id", "name", "kind", "owner_unit", "place", "status", "last_seen_at")
    list_filter = ("kind", "status", "owner_unit")
    search_fields = ("device_id", "name")
    readonly_fields = (
        "status",
        "last_seen_at",
        "last_values",
        "valve_position",
        "mqtt_password_hash",
        "created_at",
    )
    raw_id_fields = ("place",)


@admin.register(Alarm)
class AlarmAdmin(ReadOnly):
    list_display = ("device", "rule", "quantity", "state", "raised_at", "cleared_at", "case")
    list_filter = ("rule", "state")


@admin.register(Command)
class CommandAdmin(ReadOnly):
    list_display = ("command_id", "device", "action", "position", "state", "sent_by_label", "created_at")
    list_filter = ("state", "action")


@admin.register(DeviceEvent)
class DeviceEventAdmin(ReadOnly):
    list_display = ("device", "at", "action", "actor_label")
    list_filter = ("action",)


@admin.register(SensorKey)
class SensorKeyAdmin(ReadOnly):
    list_display = ("prefix", "device", "gateway", "created_at", "last_used_at", "revoked")


@admin.register(RejectCounter)
class RejectCounterAdmin(ReadOnly):
    list_display = ("source", "reason", "count", "last_at", "last_detail")


@admin.register(RainPeriod)
class RainPeriodAdmin(admin.ModelAdmin):
    list_display = ("started_at", "ended_at", "note")
