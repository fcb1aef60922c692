"""The demo city's smart-water devices: a handful of outfalls along its rivers, a pumping
station and a pipe node, owned by 水务集团 (unit ``swjt``), with a week of readings and four
weeks of hourly history so that charts and the same-hour baseline work from the start.

Idempotent: device types and devices are matched by code, history is written only for a
device that has none. The points are illustrative, like the demo city's geography.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction

from minsheng.accounts.models import Unit
from minsheng.core import clock
from minsheng.core.conf import setting
from minsheng.places.queries import locate_point

from . import storage
from .credentials import demo_gateway_key, hash_key
from .models import Device, DeviceKind, DeviceType, Gateway, SensorKey
from .simulator import SimDevice, World, profile_for

OWNER_UNIT = "swjt"
OPERATOR_USER = "swjt"
HISTORY_DAYS = 7
HISTORY_STEP = dt.timedelta(minutes=10)
BASELINE_DAYS = 28

TYPES: list[dict[str, Any]] = [
    {
        "code": "outfall-rain",
        "name": "雨水排口智能监测仪",
        "kind": DeviceKind.OUTFALL,
        "quantities": ["flow", "level", "cod", "conductivity", "valve"],
        "has_valve": True,
        "normal_ranges": {"level": [None, 1.0], "cod": [None, 100]},
        "rules": {
            "hold_seconds": 60,
            "clear_seconds": 120,
            "quantities": {
                "flow": {"dry_weather": {"max": 0.5}},
                "level": {"threshold": {}},
                "cod": {"threshold": {}},
            },
        },
    },
    {
        "code": "outfall-overflow",
        "name": "合流制溢流口监测仪",
        "kind": DeviceKind.OUTFALL,
        "quantities": ["flow", "level", "cod", "ph"],
        "has_valve": False,
        "normal_ranges": {"level": [None, 1.2], "ph": [6.0, 9.0]},
        "rules": {
            "quantities": {
                "level": {"threshold": {}},
                "ph": {"threshold": {}},
                "flow": {"baseline": {"k": 6, "min_samples": 7, "floor": 2.0}},
            }
        },
    },
    {
        "code": "pump-station",
        "name": "污水泵站监控终端",
        "kind": DeviceKind.PUMPING_STATION,
        "quantities": ["flow", "level", "valve"],
        "has_valve": True,
        "normal_ranges": {"level": [0.3, 2.2]},
        "rules": {
            "quantities": {
                "level": {"threshold": {"hysteresis": 0.05}},
                "flow": {
                    "rate": {"max_rise": 120, "window_seconds": 600},
                    "baseline": {"k": 6, "min_samples": 7, "floor": 5.0},
                },
            }
        },
    },
    {
        "code": "pipe-node",
        "name": "污水管网液位流量计",
        "kind": DeviceKind.SEWAGE_NODE,
        "quantities": ["flow", "level"],
        "has_valve": False,
        "normal_ranges": {"level": [None, 1.5]},
        "rules": {
            "quantities": {
                "level": {"threshold": {}},
                "flow": {"baseline": {"k": 6, "min_samples": 7, "floor": 2.0}},
            }
        },
    },
]

# (device_id, name, type code, lat, lng, base flow m³/h)
DEVICES: list[tuple[str, str, str, float, float, float]] = [
    ("ph-yk-01", "东湖雨水排口1号", "outfall-rain", 30.7035, 121.0262, 6.0),
    ("ph-yk-02", "上海塘雨水排口", "outfall-rain", 30.7128, 121.0455, 8.0),
    ("ph-yk-03", "广陈塘雨水排口", "outfall-rain", 30.7702, 121.0120, 5.0),
    ("ph-yl-01", "当湖合流制溢流口", "outfall-overflow", 30.6955, 121.0095, 25.0),
    ("ph-bz-01", "城南污水泵站", "pump-station", 30.6880, 121.0310, 180.0),
    ("ph-gw-01", "新埭镇污水管网节点", "pipe-node", 30.7455, 120.9505, 40.0),
]


def sim_devices(devices: list[Device]) -> list[SimDevice]:
    """Simulator stand-ins for registered devices (the demo's and the command's)."""
    out = []
    base = {d[0]: d[5] for d in DEVICES}
    for d in devices:
        rules = dict(d.device_type.rules) if d.device_type else {}
        rules.update(d.rules or {})
        level_high = (d.ranges().get("level") or [None, None])[1]
        out.append(
            SimDevice(
                device_id=d.device_id,
                profile=profile_for(d.kind, rules),
                base_flow=base.get(d.device_id, 20.0),
                has_valve=d.valve,
                overflow_level=float(level_high) if level_high is not None else 1.2,
                valve=d.valve_position if d.valve_position is not None else 100.0,
                quantities=tuple(q for q in d.reported_quantities() if q != "valve") or ("flow", "level"),
            )
        )
    return out


def _history(devices: list[Device], now: dt.datetime) -> int:
    """A week of readings every 10 minutes and four weeks of hourly roll-ups, from the
    simulator's physics, for devices that have none yet."""
    fresh = [d for d in devices if storage.latest(d.pk) is None]
    if not fresh:
        return 0
    world = World(sim_devices(fresh), seed=2026)
    by_id = {d.device_id: d for d in fresh}
    start = now - dt.timedelta(days=HISTORY_DAYS)
    rows: list[storage.Row] = []
    t = start
    while t < now:
        for sim in world.devices.values():
            rows.append((by_id[sim.device_id].pk, t, world.reading(sim, t.timestamp())))
        t += HISTORY_STEP
    storage.write(rows)
    storage.rollup(start, now)
    hours = []
    h = storage.hour_start(now - dt.timedelta(days=BASELINE_DAYS))
    while h < storage.hour_start(start):
        for sim in world.devices.values():
            values = [world.reading(sim, (h + dt.timedelta(minutes=m)).timestamp()) for m in (5, 25, 45)]
            stats = {}
            for q in values[0]:
                xs = [v[q] for v in values]
                stats[q] = [round(sum(xs) / len(xs), 4), min(xs), max(xs), len(xs)]
            hours.append((by_id[sim.device_id].pk, h, stats))
        h += dt.timedelta(hours=1)
    storage.write_hours(hours)
    return len(rows)


@transaction.atomic
def load_demo_devices(*, history: bool = True) -> dict[str, int]:
    """Create (or update) the demo devices; grant the demo handler of 水务集团 the right to
    send commands; give the simulator a gateway key. Returns counts."""
    owner = Unit.objects.filter(code=OWNER_UNIT).first()
    if owner is None:
        return {"devices": 0, "readings": 0}
    types = {}
    for t in TYPES:
        types[t["code"]], _ = DeviceType.objects.update_or_create(
            code=t["code"], defaults={k: v for k, v in t.items() if k != "code"}
        )
    gateway, _ = Gateway.objects.get_or_create(
        code="demo-simulator", defaults={"name": "演示模拟网关", "owner_unit": owner}
    )
    now = clock.now()
    devices = []
    for device_id, name, type_code, lat, lng, _base in DEVICES:
        device, _ = Device.objects.update_or_create(
            device_id=device_id,
            defaults={
                "name": name,
                "kind": types[type_code].kind,
                "device_type": types[type_code],
                "lat": lat,
                "lng": lng,
                "place": locate_point(lat, lng),
                "owner_unit": owner,
                "gateway": gateway,
            },
            create_defaults={
                "name": name,
                "kind": types[type_code].kind,
                "device_type": types[type_code],
                "lat": lat,
                "lng": lng,
                "place": locate_point(lat, lng),
                "owner_unit": owner,
                "gateway": gateway,
                "created_at": now,
            },
        )
        devices.append(device)
    user = get_user_model().objects.filter(username=OPERATOR_USER).first()
    if user is not None:
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label="sensors", codename="send_command")
        )
    if setting("ENV", "development") != "production":
        raw = demo_gateway_key()
        if not SensorKey.objects.filter(key_hash=hash_key(raw)).exists():
            SensorKey.objects.create(
                gateway=gateway,
                name="demo simulator",
                prefix=raw[:10],
                key_hash=hash_key(raw),
                created_at=now,
            )
    readings = (
        _history(
            list(Device.objects.filter(pk__in=[d.pk for d in devices]).select_related("device_type")), now
        )
        if history
        else 0
    )
    return {"devices": len(devices), "readings": readings}
