"""Ingest shards against the database: each shard loads and judges only its own devices,
takes only its own HTTP hand-overs, and only shard 0 does the work that must run once
(publishing and expiring commands, hourly roll-ups). yk-01 and gw-01 (from
``make_devices``) are in shard 1 of 2; yk-04 and bz-01, registered here, in shard 0."""

import datetime as dt
import json

import pytest
from django.test import Client

from minsheng.core import clock
from minsheng.sensors import actions, credentials, storage
from minsheng.sensors.ingest import BrokerAddress, MqttIngest, Pipeline
from minsheng.sensors.models import (
    Alarm,
    Command,
    CommandState,
    Device,
    DeviceKind,
    DeviceType,
    Gateway,
    InboundBatch,
    ReadingHour,
)
from minsheng.sensors.shards import Shard, shard_of
from tests.integration.test_sensors import at, grant, make_devices, post

pytestmark = pytest.mark.django_db

ZERO, ONE = Shard(0, 2), Shard(1, 2)


def four_devices(city, rules=None):
    """yk-01 and gw-01 (``make_devices``) fall to shard 1 of 2, yk-04 and bz-01 to shard 0."""
    outfall, node = make_devices(city, rules=rules)
    dtype = DeviceType.objects.get(code="outfall-rain")
    lat, lng = city.POINTS["east.a"]
    other = actions.register_device(
        "yk-04", name="南湖雨水排口", kind=DeviceKind.OUTFALL, lat=lat, lng=lng, device_type=dtype
    )
    lat, lng = city.POINTS["west.b"]
    node0 = actions.register_device(
        "bz-01",
        name="北站管网节点",
        kind=DeviceKind.SEWAGE_NODE,
        lat=lat,
        lng=lng,
        owner_unit=city.units["roads"],
        quantities=["flow", "level"],
    )
    assert [shard_of(d.device_id, 2) for d in (outfall, node, other, node0)] == [1, 1, 0, 0]
    return outfall, node, other, node0


def loaded(shard: Shard | None = None) -> Pipeline:
    pipeline = Pipeline(shard=shard)
    pipeline.load()
    return pipeline


def test_a_sharded_pipeline_loads_and_accepts_only_its_devices(city, now):
    four_devices(city)
    assert set(loaded().devices) == {"yk-01", "gw-01", "yk-04", "bz-01"}
    zero, one = loaded(ZERO), loaded(ONE)
    assert set(zero.devices) == {"yk-04", "bz-01"} and set(one.devices) == {"yk-01", "gw-01"}
    reading = {"ts": at(0).isoformat(), "values": {"flow": 0.1}}
    assert zero.accept("yk-01", reading, clock.now().timestamp()) is None
    assert zero.counters.total == {("mqtt", "unknown_device"): 1}
    assert one.accept("yk-01", reading, clock.now().timestamp()) is not None
    # The registry reloads: a new device of shard 1 joins it, a deactivated one leaves.
    lat, lng = city.POINTS["east.a"]
    actions.register_device(
        "yk-02",
        name="新排口",
        kind=DeviceKind.OUTFALL,
        lat=lat,
        lng=lng,
        device_type=DeviceType.objects.get(code="outfall-rain"),
    )
    Device.objects.filter(device_id="gw-01").update(active=False)
    version = one.registry_version
    one.load()
    zero.load()
    assert set(one.devices) == {"yk-01", "yk-02"} and set(zero.devices) == {"yk-04", "bz-01"}
    assert one.registry_version == version + 1


def test_http_batches_are_handed_to_the_shard_that_owns_each_device(city, now, settings):
    settings.MINSHENG_SENSORS_SHARDS = 2
    outfall, _node, other, _node0 = four_devices(city)
    gateway = Gateway.objects.create(code="gw", name="网关")
    Device.objects.filter(pk__in=[outfall.pk, other.pk]).update(gateway=gateway)
    key = credentials.issue_api_key(gateway=gateway)
    readings = [
        {"device": d, "ts": at(s).isoformat(), "values": {"flow": 8.0}}
        for s in (-20, -10)
        for d in ("yk-01", "yk-04")
    ]
    assert post(Client(), {"readings": readings}, key).json()["accepted"] == 4
    assert storage.count(outfall.pk) == 2 and storage.count(other.pk) == 2
    assert sorted(InboundBatch.objects.values_list("shard", "shards")) == [(0, 2), (1, 2)]

    one = loaded(ONE)
    assert one.take_inbound() == 2  # yk-01's two readings, nothing of yk-04's
    assert list(Alarm.objects.values_list("device__device_id", flat=True)) == ["yk-01"]
    assert one.take_inbound() == 0
    assert list(InboundBatch.objects.values_list("shard", flat=True)) == [0]  # waits for 0
    zero = loaded(ZERO)
    assert zero.take_inbound() == 2
    assert sorted(Alarm.objects.values_list("device__device_id", flat=True)) == ["yk-01", "yk-04"]
    assert not InboundBatch.objects.exists()


def test_a_batch_split_for_another_shard_count_reaches_the_right_shards(city, now, settings):
    """The web said 1 shard (or 3), the ingest runs 2: shard 0 takes such batches and hands
    each other shard its part; nothing waits for a shard that does not run."""
    settings.MINSHENG_SENSORS_SHARDS = 1
    outfall, _node, other, _node0 = four_devices(city)
    key_a = credentials.issue_api_key(device=outfall)
    key_b = credentials.issue_api_key(device=other)
    client = Client()
    for device, key in (("yk-01", key_a), ("yk-04", key_b)):
        body = {"readings": [{"device": device, "ts": at(-5).isoformat(), "values": {"flow": 8.0}}]}
        assert post(client, body, key).json()["accepted"] == 1
    assert sorted(InboundBatch.objects.values_list("shard", "shards")) == [(0, 1), (0, 1)]
    one, zero = loaded(ONE), loaded(ZERO)
    assert one.take_inbound() == 0
    assert zero.take_inbound() == 1  # yk-04's; yk-01's handed over to shard 1
    assert list(InboundBatch.objects.values_list("shard", "shards")) == [(1, 2)]
    assert one.take_inbound() == 1
    assert sorted(Alarm.objects.values_list("device__device_id", flat=True)) == ["yk-01", "yk-04"]
    assert not InboundBatch.objects.exists()


class Recorder:
    """Stands in for the paho client: what would have gone to the broker."""

    def __init__(self) -> None:
        self.published: list[tuple[str, dict]] = []

    def publish(self, topic, payload, qos=0):
        self.published.append((topic, json.loads(payload)))

    def ack(self, mid, qos):
        pass


def mqtt_side(shard: Shard) -> tuple[MqttIngest, Recorder]:
    ingest = MqttIngest(
        loaded(shard),
        BrokerAddress.parse("mqtt://127.0.0.1:1"),
        client_id=shard.client_id("t"),
        prefix="p",
        overlap=False,
    )
    ingest.client = recorder = Recorder()
    ingest.connected.set()
    return ingest, recorder


def test_only_shard_0_publishes_commands_and_the_owning_shard_records_the_ack(city, now):
    four_devices(city)
    grant(city.users["water"])
    cmd = actions.send_command(city.actor("water"), "yk-01", "close_valve")  # a shard-1 device
    one, one_wire = mqtt_side(ONE)
    zero, zero_wire = mqtt_side(ZERO)
    assert one.publish_commands() == 0 and one_wire.published == []
    assert Command.objects.get(pk=cmd.pk).state == CommandState.PENDING
    assert zero.publish_commands() == 1
    ((topic, payload),) = zero_wire.published
    assert topic == "p/yk-01/command" and payload["id"] == cmd.command_id
    assert Command.objects.get(pk=cmd.pk).state == CommandState.SENT
    # The device answers on its own ack topic, which only shard 1 subscribes.
    ack = json.dumps({"id": cmd.command_id, "ok": True, "position": 0}).encode()
    one.handle([("p/yk-01/ack", ack, 1, 1, 0)])
    assert Command.objects.get(pk=cmd.pk).state == CommandState.ACKED


def test_work_over_all_devices_runs_in_shard_0_and_per_device_work_in_each(city, now):
    outfall, _node, other, _node0 = four_devices(city)
    grant(city.users["water"])
    cmd = actions.send_command(city.actor("water"), "yk-01", "close_valve", timeout_s=30)
    actions.claim_pending_commands()
    storage.write(
        [
            (outfall.pk, clock.now() - dt.timedelta(minutes=90), {"flow": 1.0}),
            (other.pk, clock.now() - dt.timedelta(minutes=90), {"flow": 2.0}),
        ]
    )
    one, zero = loaded(ONE), loaded(ZERO)
    now.advance(minutes=31)  # the command is overdue, every device silent for 31 minutes
    one.tick(clock.now())
    assert Command.objects.get(pk=cmd.pk).state == CommandState.SENT  # not shard 1's job
    assert not ReadingHour.objects.exists()  # nor the roll-ups
    silent = set(Alarm.objects.filter(rule="silence").values_list("device__device_id", flat=True))
    assert silent == {"yk-01", "gw-01"}  # its own devices only
    zero.tick(clock.now())
    assert Command.objects.get(pk=cmd.pk).state == CommandState.FAILED
    assert set(ReadingHour.objects.values_list("device__device_id", flat=True)) == {"yk-01", "yk-04"}
    silent = set(Alarm.objects.filter(rule="silence").values_list("device__device_id", flat=True))
    assert silent == {"yk-01", "gw-01", "yk-04", "bz-01"}
