"""Sensors against the database: storage that stores a message once, alarms that open
or join a work order with the 15-minute response clock and clear on their own, commands
only permitted operators of the owner unit may send, and the HTTP batch endpoint."""

import datetime as dt
import json
import os
import shutil
import subprocess
import tempfile
import time

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from minsheng.accounts.actions import create_token
from minsheng.cases import actions as case_actions
from minsheng.cases.errors import Forbidden, Invalid, NotFound
from minsheng.cases.models import Case, CaseEvent
from minsheng.cases.states import ClockName, State
from minsheng.catalog.models import Matter
from minsheng.core import clock
from minsheng.sensors import actions, credentials, storage
from minsheng.sensors.detection import BaselineCheck
from minsheng.sensors.ingest import BrokerAddress, Chores, MqttIngest, Pipeline, StorageWriter
from minsheng.sensors.models import (
    Alarm,
    AlarmState,
    Command,
    CommandState,
    Device,
    DeviceEvent,
    DeviceKind,
    DeviceType,
    Gateway,
    InboundBatch,
    Reading,
    ReadingHour,
    RecentReading,
    RejectCounter,
)

pytestmark = pytest.mark.django_db

RAIN_RULES = {
    "hold_seconds": 0,
    "clear_seconds": 60,
    "quantities": {"flow": {"dry_weather": {"max": 0.5}}, "level": {"threshold": {}}},
}


def make_devices(city, *, rules=None, hold=None):
    """A rain outfall with an interception valve in 东城A村 (owned by 水务集团 through the
    matter) and a pipe node of 住建局 without a valve; the matter sensor cases go under."""
    Matter.objects.get_or_create(
        code="water.outfall",
        defaults={"name": "排口流量或水质异常", "owner_unit": city.units["water"], "resolve_working_days": 3},
    )
    dtype = DeviceType.objects.create(
        code="outfall-rain",
        name="雨水排口",
        kind=DeviceKind.OUTFALL,
        has_valve=True,
        quantities=["flow", "level", "valve"],
        normal_ranges={"level": [None, 1.0]},
        rules=rules or RAIN_RULES,
    )
    lat, lng = city.POINTS["east.a"]
    outfall = actions.register_device(
        "yk-01", name="东湖雨水排口", kind=DeviceKind.OUTFALL, lat=lat, lng=lng, device_type=dtype
    )
    lat, lng = city.POINTS["west.b"]
    node = actions.register_device(
        "gw-01",
        name="西乡管网节点",
        kind=DeviceKind.SEWAGE_NODE,
        lat=lat,
        lng=lng,
        owner_unit=city.units["roads"],
        quantities=["flow", "level"],
        normal_ranges={"level": [None, 1.5]},
        rules={"hold_seconds": 0, "clear_seconds": 0, "quantities": {"level": {"threshold": {}}}},
    )
    return outfall, node


def grant(user):
    user.user_permissions.add(
        Permission.objects.get(codename="send_command", content_type__app_label="sensors")
    )


def at(seconds: float) -> dt.datetime:
    return clock.now() + dt.timedelta(seconds=seconds)


# --- registry -------------------------------------------------------------------------


def test_a_device_is_placed_by_its_point_and_owned_by_the_matters_unit(city, now):
    outfall, node = make_devices(city)
    assert outfall.place == city.places["east.a"]
    assert outfall.owner_unit == city.units["water"]
    assert node.owner_unit == city.units["roads"] and node.place == city.places["west.b"]
    assert outfall.valve and not node.valve
    assert DeviceEvent.objects.filter(device=outfall, action="registered").exists()


# --- storage --------------------------------------------------------------------------


def test_a_reading_delivered_twice_is_stored_once(city, now):
    outfall, _node = make_devices(city)
    t = clock.now() + dt.timedelta(microseconds=123457)  # kept to the microsecond
    rows = [(outfall.pk, t, {"flow": 1.0}), (outfall.pk, t + dt.timedelta(seconds=10), {"flow": 2.0})]
    storage.write(rows)
    storage.write(rows)  # the broker redelivers, the gateway retries
    storage.write([(outfall.pk, t, {"flow": 99.0})])  # same (device, ts): the first one stays
    got = storage.readings(outfall.pk)
    assert [v for _t, v in got] == [{"flow": 1.0}, {"flow": 2.0}]
    assert [when for when, _v in got] == [t, t + dt.timedelta(seconds=10)]
    assert storage.count(outfall.pk) == 2


def test_recent_readings_move_into_the_readings_table_and_read_the_same_throughout(city, now):
    """On SQLite a batch lands in the recent table; compact() moves it on. Charts, counts
    and the latest reading are the same before and after, and a message redelivered after
    the move is still stored once, the first one staying. (On PostgreSQL batches go
    straight into the readings table, and the same holds.)"""
    outfall, node = make_devices(city)
    t = clock.now() - dt.timedelta(minutes=30)
    storage.write([(outfall.pk, t + dt.timedelta(minutes=i), {"flow": float(i)}) for i in range(10)])
    storage.write([(node.pk, t, {"level": 0.5})])

    def seen():
        return (
            storage.count(),
            storage.count(outfall.pk),
            storage.readings(outfall.pk),
            storage.latest(outfall.pk),
            storage.last_seen([outfall.pk, node.pk]),
            storage.series(outfall.pk, t, clock.now(), ["flow"]),
        )

    before = seen()
    assert before[0] == 11 and before[3] == (t + dt.timedelta(minutes=9), {"flow": 9.0})
    landed = 11 if storage.lands_apart() else 0
    assert RecentReading.objects.count() == landed and Reading.objects.count() == 11 - landed
    assert storage.compact() == landed
    assert not RecentReading.objects.exists() and Reading.objects.count() == 11
    assert seen() == before
    # Redelivered after the move: it lands in the recent table again, counts once, and
    # the first values stay, then and after the next move.
    storage.write([(outfall.pk, t, {"flow": 99.0})])
    assert seen() == before
    assert storage.compact() == 0 and seen() == before


def test_series_averages_into_buckets_and_rollups_feed_the_baseline(city, now):
    outfall, _node = make_devices(city)
    start = clock.now() - dt.timedelta(hours=2)
    storage.write(
        [(outfall.pk, start + dt.timedelta(minutes=i), {"flow": float(i % 10)}) for i in range(120)]
    )
    full = storage.series(outfall.pk, start, clock.now(), ["flow"], max_points=500)
    assert len(full["t"]) == 120 and full["flow"][:3] == [0.0, 1.0, 2.0]
    small = storage.series(outfall.pk, start, clock.now(), ["flow"], max_points=12)
    assert len(small["t"]) == 12 and small["flow"][0] == pytest.approx(4.5)
    assert storage.rollup(start, clock.now()) == 2
    means = storage.same_hour_means([outfall.pk], "flow", start + dt.timedelta(days=1), 3)
    assert means[outfall.pk] == [4.5]


def test_rollup_and_purge_go_device_by_device(city, now, settings, monkeypatch):
    devices = make_devices(city)
    monkeypatch.setattr(storage, "DEVICE_CHUNK", 1)  # one statement per device
    settings.MINSHENG_SENSORS_RETENTION_DAYS = 10
    start = clock.now() - dt.timedelta(hours=1)
    for k, device in enumerate(devices):
        storage.write([(device.pk, start + dt.timedelta(minutes=i), {"flow": float(k)}) for i in range(3)])
        storage.write([(device.pk, clock.now() - dt.timedelta(days=20), {"flow": 1.0})])
    assert storage.rollup(start, clock.now()) == 2
    hours = {pk: stats["flow"] for pk, stats in ReadingHour.objects.values_list("device_id", "stats")}
    assert hours == {devices[0].pk: [0.0, 0.0, 0.0, 3], devices[1].pk: [1.0, 1.0, 1.0, 3]}
    assert storage.purge(clock.now()) == (2, 0)
    assert [storage.count(d.pk) for d in devices] == [3, 3]


@pytest.mark.django_db(transaction=True)
def test_the_hourly_job_runs_beside_the_readings_and_its_baselines_reach_the_detector(city, now):
    """In the ingest process the roll-up and the baselines' reads run in the chores
    thread; the detector gets its same-hour history on a later tick, in its own thread."""
    node = actions.register_device(
        "gw-09",
        name="西乡管网节点",
        kind=DeviceKind.SEWAGE_NODE,
        lat=city.POINTS["west.b"][0],
        lng=city.POINTS["west.b"][1],
        owner_unit=city.units["roads"],
        quantities=["flow"],
        rules={"quantities": {"flow": {"baseline": {"k": 8, "min_samples": 3}}}},
    )
    this_hour = storage.hour_start(clock.now())
    storage.write_hours(
        [
            (node.pk, this_hour - dt.timedelta(days=d), {"flow": [40.0 + d, 30.0, 60.0, 60]})
            for d in range(1, 6)
        ]
    )
    storage.write([(node.pk, this_hour - dt.timedelta(minutes=m), {"flow": 10.0}) for m in range(1, 31)])
    pipeline = Pipeline(chores=Chores())
    try:
        pipeline.load()
        (check,) = [c for c in pipeline.by_pk[node.pk].detector.checks() if isinstance(c, BaselineCheck)]
        hour = int((clock.now().timestamp() + pipeline.ctx.utc_offset_s) // 3600) % 24
        assert hour not in check.profile
        pipeline.tick(clock.now())
        deadline = time.monotonic() + 10
        while hour not in check.profile and time.monotonic() < deadline:
            time.sleep(0.02)
            pipeline.tick(clock.now())
        assert check.profile[hour][0] == pytest.approx(43.0)  # the median of 41…45
        rolled = ReadingHour.objects.get(device=node, hour=this_hour - dt.timedelta(hours=1))
        assert rolled.n == 30 and rolled.stats["flow"][0] == 10.0
    finally:
        pipeline.close()


def test_retention_purges_old_readings(city, now, settings):
    outfall, _node = make_devices(city)
    settings.MINSHENG_SENSORS_RETENTION_DAYS = 10
    storage.write([(outfall.pk, clock.now() - dt.timedelta(days=d), {"flow": 1.0}) for d in (1, 9, 11, 30)])
    assert storage.purge(clock.now()) == (2, 0)
    assert storage.count(outfall.pk) == 2


# --- alarms to work orders ------------------------------------------------------------


def test_an_alarm_opens_a_sensor_case_with_the_15_minute_response_clock(city, now):
    outfall, _node = make_devices(city)
    alarm = actions.raise_alarm(outfall, "dry_weather", "flow", since=at(-60), value=8.2, detail={"max": 0.5})
    case = alarm.case
    assert case.channel == "sensor" and case.matter.code == "water.outfall"
    assert case.owner_unit == city.units["water"] and case.state == State.ASSIGNED
    assert case.place == city.places["east.a"]
    assert "东湖雨水排口" in case.text and "yk-01" in case.text
    response = case.clocks.get(name=ClockName.RESPONSE)
    assert response.due_at - response.started_at == dt.timedelta(minutes=15)
    assert response.unit == city.units["water"] and response.running
    assert CaseEvent.objects.filter(case=case, action="alarm_raised").exists()
    # Signing is the response.
    case_actions.sign_case(city.actor("water"), case.pk)
    response.refresh_from_db()
    assert response.met_at == clock.now()


def test_more_alarms_of_the_device_join_its_open_case(city, now):
    outfall, _node = make_devices(city)
    first = actions.raise_alarm(outfall, "dry_weather", "flow", since=at(0), value=8.0)
    again = actions.raise_alarm(outfall, "dry_weather", "flow", since=at(5), value=9.0)
    assert again.pk == first.pk  # already active: nothing new
    level = actions.raise_alarm(
        outfall, "threshold", "level", since=at(0), value=1.4, detail={"high": 1.0, "side": "high"}
    )
    assert level.case_id == first.case_id
    assert Case.objects.filter(channel="sensor").count() == 1
    attached = CaseEvent.objects.get(case=first.case, action="alarm_attached")
    assert attached.data["rule"] == "threshold" and attached.note == level.message
    assert "1.4" in level.message


def test_clearing_closes_the_alarm_and_the_case_shows_it_but_stays_open(city, now):
    outfall, _node = make_devices(city)
    alarm = actions.raise_alarm(outfall, "dry_weather", "flow", since=at(0), value=8.0)
    now.advance(minutes=5)
    cleared = actions.clear_alarm(outfall, "dry_weather", "flow", since=at(-60), value=0.0)
    assert cleared.pk == alarm.pk and cleared.state == AlarmState.CLEARED
    assert cleared.cleared_at == clock.now()
    assert actions.clear_alarm(outfall, "dry_weather", "flow") is None  # nothing active
    case = Case.objects.get(pk=alarm.case_id)
    assert case.state == State.ASSIGNED
    assert CaseEvent.objects.filter(case=case, action="alarm_cleared").count() == 1


def test_after_the_case_is_closed_a_new_alarm_opens_a_new_case(city, now):
    outfall, _node = make_devices(city)
    first = actions.raise_alarm(outfall, "dry_weather", "flow", since=at(0), value=8.0)
    actions.clear_alarm(outfall, "dry_weather", "flow")
    water, centre = city.actor("water"), city.actor("dispatcher")
    case_actions.sign_case(water, first.case_id)
    case_actions.dispatch_case(water, first.case_id, people=["巡检一班"])
    case_actions.feedback_case(water, first.case_id, note="已截污，排口恢复正常")
    case_actions.close_case(centre, first.case_id)
    now.advance(hours=2)
    second = actions.raise_alarm(outfall, "dry_weather", "flow", since=at(0), value=7.0)
    assert second.case_id != first.case_id
    assert Case.objects.filter(channel="sensor").count() == 2


def test_a_devices_case_goes_to_the_unit_that_owns_it(city, now):
    _outfall, node = make_devices(city)
    alarm = actions.raise_alarm(
        node, "threshold", "level", since=at(0), value=1.9, detail={"high": 1.5, "side": "high"}
    )
    assert alarm.case.owner_unit == city.units["roads"]
    assert alarm.case.clocks.get(name=ClockName.RESPONSE).unit == city.units["roads"]


def test_pipeline_turns_dry_weather_flow_into_a_case_and_clears_it(city, now):
    outfall, _node = make_devices(city)
    pipeline = Pipeline()
    pipeline.load()
    now_t = clock.now().timestamp()

    def send(seconds, flow):
        item = pipeline.accept(
            "yk-01", {"ts": at(seconds).isoformat(), "values": {"flow": flow, "level": 0.1}}, now_t + seconds
        )
        return pipeline.process([item])

    assert send(0, 0.02) == []
    (found,) = send(10, 8.5)
    assert found.raised and found.rule == "dry_weather"
    alarm = Alarm.objects.get(device=outfall, rule="dry_weather")
    assert alarm.case.channel == "sensor" and alarm.value == 8.5
    assert send(20, 8.5) == []  # still on: no new case, no new alarm
    now.advance(seconds=30)
    assert send(0, 0.0) == []  # 30 s after the pinned start: clear timer starts
    now.advance(seconds=60)
    (gone,) = send(0, 0.0)
    assert not gone.raised
    alarm.refresh_from_db()
    assert alarm.state == AlarmState.CLEARED
    assert Case.objects.filter(channel="sensor").count() == 1
    assert pipeline.flush_status() == 1
    outfall.refresh_from_db()
    assert outfall.status == "online" and outfall.last_values["flow"] == 0.0


@pytest.mark.django_db(transaction=True)
def test_with_a_writer_thread_the_alarm_waits_for_its_readings_to_be_stored(city, now, monkeypatch):
    """The ingest process stores a batch in the writer's thread and raises what the batch
    set off there too, after storing it. If storing failed, the alarm is raised all the same
    and the batch's future fails, so that it is not acknowledged: the broker delivers it
    again, it is stored then, and it raises nothing twice."""
    outfall, _node = make_devices(city)
    pipeline = Pipeline(writer=StorageWriter())
    try:
        pipeline.load()
        now_t = clock.now().timestamp()
        message = {"ts": at(0).isoformat(), "values": {"flow": 8.5}}

        def send():
            return pipeline.process([pipeline.accept("yk-01", message, now_t)])

        real_write = storage.write

        def broken(rows):
            raise OSError("disk full")

        monkeypatch.setattr(storage, "write", broken)
        (found,) = send()
        assert found.raised
        with pytest.raises(OSError):
            pipeline.last_write.result(5)
        alarm = Alarm.objects.get(device=outfall, rule="dry_weather")
        assert alarm.case.channel == "sensor" and storage.count() == 0

        monkeypatch.setattr(storage, "write", real_write)
        assert send() == []  # delivered again: stored, judged already
        pipeline.last_write.result(5)
        assert storage.count(outfall.pk) == 1
        assert Alarm.objects.count() == 1 and Case.objects.filter(channel="sensor").count() == 1
    finally:
        pipeline.close()


def test_a_registry_reload_keeps_the_detector_of_an_unchanged_device_and_rebuilds_a_changed_one(city, now):
    _outfall, node = make_devices(city)
    pipeline = Pipeline()
    pipeline.load()
    kept, changed = pipeline.devices["yk-01"].detector, pipeline.devices["gw-01"].detector
    node.rules = {"hold_seconds": 0, "quantities": {"level": {"threshold": {"hysteresis": 0.2}}}}
    node.save(update_fields=["rules"])
    pipeline.load()
    assert pipeline.devices["yk-01"].detector is kept  # hold timers and recent values stay
    assert pipeline.devices["gw-01"].detector is not changed
    assert pipeline.devices["gw-01"].detector.config["quantities"]["level"]["threshold"] == {
        "hysteresis": 0.2
    }


def test_rain_makes_the_same_flow_expected(city, now):
    make_devices(city)
    actions.record_rain(clock.now() - dt.timedelta(hours=1))
    pipeline = Pipeline()
    pipeline.load()
    pipeline.refresh_weather(clock.now())
    assert pipeline.ctx.dry is False
    item = pipeline.accept(
        "yk-01", {"ts": at(0).isoformat(), "values": {"flow": 9.0}}, clock.now().timestamp()
    )
    assert pipeline.process([item]) == []
    assert not Alarm.objects.exists()


def test_a_silent_device_opens_an_offline_case(city, now):
    outfall, _node = make_devices(city)
    pipeline = Pipeline()
    pipeline.load()
    pipeline.check_silence((clock.now() + dt.timedelta(minutes=31)).timestamp())
    alarm = Alarm.objects.get(device=outfall, rule="silence")
    assert alarm.detail["minutes"] == 31.0 and "31" in alarm.message
    outfall.refresh_from_db()
    assert outfall.status == "offline"


def test_broken_mqtt_messages_are_counted_and_never_open_a_case(city, now):
    make_devices(city)
    pipeline = Pipeline()
    pipeline.load()
    ingest = MqttIngest(
        pipeline, BrokerAddress.parse("mqtt://127.0.0.1:1"), client_id="t", prefix="p", overlap=False
    )
    good = json.dumps({"ts": at(0).isoformat(), "values": {"flow": 0.1}}).encode()
    future = json.dumps({"ts": at(3600).isoformat(), "values": {"flow": 9.0}}).encode()
    naive = json.dumps({"ts": "2026-11-23T09:00:00", "values": {"flow": 9.0}}).encode()
    batch = [
        ("p/yk-01/telemetry", good, 1, 0, 0),
        ("p/nobody/telemetry", good, 2, 0, 0),
        ("p/yk-01/telemetry", b"{not json", 3, 0, 0),
        ("p/yk-01/telemetry", future, 4, 0, 0),
        ("p/yk-01/telemetry", naive, 5, 0, 0),
        ("p/yk-01/other", good, 6, 0, 0),
        ("p/yk-01/telemetry", b'{"ts": 5, "values": []}', 7, 0, 0),
        ("p/yk-01/telemetry", b'{"ts": "' + at(1).isoformat().encode() + b'", "values": {"x": 1}}', 8, 0, 0),
    ]
    ingest.handle(batch)
    assert storage.count() == 1
    assert dict(pipeline.counters.total) == {
        ("mqtt", "unknown_device"): 1,
        ("mqtt", "malformed"): 3,
        ("mqtt", "future"): 1,
        ("mqtt", "bad_topic"): 1,
        ("mqtt", "no_values"): 1,
    }
    pipeline.counters.flush()
    assert RejectCounter.objects.get(source="mqtt", reason="malformed").count == 3
    assert not Alarm.objects.exists() and not Case.objects.exists()


# --- commands -------------------------------------------------------------------------


def test_only_permitted_operators_of_the_owner_unit_send_commands(city, now):
    make_devices(city)
    with pytest.raises(Forbidden):  # 水务集团's handler without the right
        actions.send_command(city.actor("water"), "yk-01", "close_valve")
    grant(city.users["water"])
    grant(city.users["roads"])
    with pytest.raises(Forbidden):  # the right, but not 住建局's device
        actions.send_command(city.actor("roads"), "yk-01", "close_valve")
    with pytest.raises(Forbidden):
        actions.send_command(city.actor("leader"), "yk-01", "close_valve")
    with pytest.raises(NotFound):
        actions.send_command(city.actor("water"), "nope", "close_valve")
    with pytest.raises(Invalid):  # no valve there
        actions.send_command(city.actor("roads"), "gw-01", "close_valve")
    with pytest.raises(Invalid):
        actions.send_command(city.actor("water"), "yk-01", "set_position", position=150)
    cmd = actions.send_command(city.actor("water"), "yk-01", "set_position", position=40)
    assert cmd.state == CommandState.PENDING and cmd.position == 40
    assert cmd.sent_by == city.users["water"]
    assert actions.send_command(city.actor("admin"), "yk-01", "open_valve").position == 100


def test_a_command_is_published_acknowledged_and_logged_on_the_case(city, now):
    outfall, _node = make_devices(city)
    grant(city.users["water"])
    alarm = actions.raise_alarm(outfall, "dry_weather", "flow", since=at(0), value=8.0)
    cmd = actions.send_command(city.actor("water"), "yk-01", "close_valve", note="截污")
    assert cmd.case_id == alarm.case_id  # the device's open case
    (claimed,) = actions.claim_pending_commands()
    assert claimed.pk == cmd.pk and claimed.state == CommandState.SENT
    assert actions.claim_pending_commands() == []
    assert actions.command_payload(claimed)["id"] == cmd.command_id
    now.advance(seconds=2)
    acked = actions.acknowledge_command("yk-01", cmd.command_id, ok=True, position=0)
    assert acked.state == CommandState.ACKED and acked.acked_at == clock.now()
    assert actions.acknowledge_command("yk-01", cmd.command_id, ok=True).state == CommandState.ACKED
    assert actions.acknowledge_command("gw-01", cmd.command_id) is None  # another device's id
    outfall.refresh_from_db()
    assert outfall.valve_position == 0
    events = list(
        CaseEvent.objects.filter(case=alarm.case, action__startswith="command_").values_list(
            "action", "actor"
        )
    )
    assert events == [("command_sent", city.users["water"].pk), ("command_acked", None)]
    sent = DeviceEvent.objects.get(command=cmd, action="command_sent")
    assert sent.actor == city.users["water"] and sent.actor_unit == city.units["water"]


def test_a_command_not_acknowledged_in_time_fails_and_a_late_ack_does_not_revive_it(city, now):
    make_devices(city)
    grant(city.users["water"])
    cmd = actions.send_command(city.actor("water"), "yk-01", "close_valve", timeout_s=30)
    actions.claim_pending_commands()
    now.advance(seconds=29)
    assert actions.expire_commands() == 0
    now.advance(seconds=2)
    assert actions.expire_commands() == 1
    cmd.refresh_from_db()
    assert cmd.state == CommandState.FAILED and cmd.reason
    assert DeviceEvent.objects.filter(command=cmd, action="command_failed").count() == 1
    late = actions.acknowledge_command("yk-01", cmd.command_id, ok=True, position=0)
    assert late.state == CommandState.FAILED
    assert DeviceEvent.objects.filter(command=cmd, action="command_late_ack").count() == 1


def test_a_device_refusing_a_command_fails_it_with_its_reason(city, now):
    make_devices(city)
    grant(city.users["water"])
    cmd = actions.send_command(city.actor("water"), "yk-01", "close_valve")
    got = actions.acknowledge_command("yk-01", cmd.command_id, ok=False, message="motor jammed")
    assert got.state == CommandState.FAILED and "motor jammed" in got.reason


def test_command_api_and_page_form(city, now):
    make_devices(city)
    grant(city.users["water"])
    client = Client()
    token = create_token(city.users["water"])
    url = "/api/v1/sensors/devices/yk-01/commands"
    r = client.post(
        url, {"action": "close_valve"}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["state"] == "pending" and body["sent_by"] == "water"
    r = client.get(f"/api/v1/sensors/commands/{body['id']}", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert r.json()["action"] == "close_valve"
    roads = create_token(city.users["roads"])
    r = client.post(
        url, {"action": "close_valve"}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {roads}"
    )
    assert r.status_code == 403
    web = Client()
    web.force_login(city.users["water"])
    r = web.post("/sensors/yk-01/command/", {"action": "set_position", "position": "30"})
    assert r.status_code == 302
    assert Command.objects.filter(action="set_position", position=30).count() == 1
    r = web.post("/sensors/yk-01/command/", {"action": "set_position", "position": "300"})
    assert r.status_code == 302 and Command.objects.count() == 2


# --- the HTTP batch endpoint ----------------------------------------------------------


def post(client, body, key=None):
    headers = {"HTTP_X_API_KEY": key} if key else {}
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post("/api/v1/sensors/readings", data, content_type="application/json", **headers)


def test_http_batch_needs_a_valid_key(city, now):
    outfall, _node = make_devices(city)
    client = Client()
    body = {"readings": [{"device": "yk-01", "ts": at(0).isoformat(), "values": {"flow": 1}}]}
    assert post(client, body).status_code == 401
    assert post(client, body, "msk_wrong").status_code == 401
    key = credentials.issue_api_key(device=outfall)
    assert post(client, body, key).status_code == 200
    outfall.api_keys.update(revoked=True)
    assert post(client, body, key).status_code == 401


def test_http_batch_refuses_malformed_bodies_with_422(city, now):
    outfall, _node = make_devices(city)
    key = credentials.issue_api_key(device=outfall)
    client = Client()
    assert post(client, "{not json", key).status_code in (400, 422)
    assert post(client, {"rows": []}, key).status_code == 422
    assert post(client, {"readings": "x"}, key).status_code == 422
    too_many = {"readings": [{"device": "yk-01"}] * 10_001}
    assert post(client, too_many, key).status_code == 422
    assert storage.count() == 0


def test_http_batch_stores_the_good_readings_and_counts_the_rest(city, now):
    outfall, node = make_devices(city)
    gateway = Gateway.objects.create(code="gw", name="网关")
    Device.objects.filter(pk=outfall.pk).update(gateway=gateway)
    key = credentials.issue_api_key(gateway=gateway)
    client = Client()
    readings = [
        {"device": "yk-01", "ts": at(-20).isoformat(), "values": {"flow": 0.1, "level": 0.2}},
        {"device": "yk-01", "ts": at(-10).isoformat(), "values": {"flow": 9.0}},
        {"device": "ghost", "ts": at(0).isoformat(), "values": {"flow": 1}},
        {"device": "yk-01", "ts": at(7200).isoformat(), "values": {"flow": 1}},
        {"device": "yk-01", "ts": "yesterday", "values": {"flow": 1}},
        {"device": "gw-01", "ts": at(0).isoformat(), "values": {"level": 1}},  # not behind it
        {"device": "yk-01", "ts": at(-5).isoformat(), "values": {"flow": "high"}},
        "junk",
    ]
    r = post(client, {"readings": readings}, key)
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["accepted"] == 2 and body["rejected"] == 6
    assert [(e["index"], e["reason"]) for e in body["errors"]] == [
        (2, "unknown_device"),
        (3, "future"),
        (4, "malformed"),
        (5, "not_allowed"),
        (6, "malformed"),
        (7, "malformed"),
    ]
    counts = dict(RejectCounter.objects.filter(source="http").values_list("reason", "count"))
    assert counts == {"unknown_device": 1, "future": 1, "malformed": 3, "not_allowed": 1}
    assert storage.count(outfall.pk) == 2 and storage.count(node.pk) == 0
    assert post(client, {"readings": readings[:2]}, key).json()["accepted"] == 2
    assert storage.count(outfall.pk) == 2  # the retry stored nothing twice
    # The ingest process takes the batches over and judges them.
    assert InboundBatch.objects.count() == 2
    pipeline = Pipeline()
    pipeline.load()
    assert pipeline.take_inbound() == 4
    assert InboundBatch.objects.count() == 0
    alarm = Alarm.objects.get(device=outfall, rule="dry_weather")
    assert alarm.case.channel == "sensor"


def test_a_device_key_speaks_only_for_its_device_and_gateways_poll_commands(city, now):
    outfall, _node = make_devices(city)
    key = credentials.issue_api_key(device=outfall)
    client = Client()
    r = post(
        client, {"readings": [{"device": "gw-01", "ts": at(0).isoformat(), "values": {"level": 1}}]}, key
    )
    assert r.json()["errors"][0]["reason"] == "not_allowed"
    grant(city.users["water"])
    cmd = actions.send_command(city.actor("water"), "yk-01", "close_valve")
    r = client.get("/api/v1/sensors/commands/pending", HTTP_X_API_KEY=key)
    assert [c["id"] for c in r.json()] == [cmd.command_id]
    assert client.get("/api/v1/sensors/commands/pending", HTTP_X_API_KEY=key).json() == []
    r = client.post(
        "/api/v1/sensors/acks",
        {"device": "yk-01", "id": cmd.command_id, "ok": True, "position": 0},
        content_type="application/json",
        HTTP_X_API_KEY=key,
    )
    assert r.status_code == 200 and r.json()["state"] == "acked"
    r = client.post(
        "/api/v1/sensors/acks",
        {"device": "gw-01", "id": cmd.command_id},
        content_type="application/json",
        HTTP_X_API_KEY=key,
    )
    assert r.status_code == 403


# --- pages and the registry API -------------------------------------------------------


def test_device_pages_map_data_and_the_case_panel(city, now):
    outfall, _node = make_devices(city)
    grant(city.users["water"])
    storage.write(
        [(outfall.pk, clock.now() - dt.timedelta(minutes=m), {"flow": 0.1, "level": 0.2}) for m in range(30)]
    )
    alarm = actions.raise_alarm(outfall, "dry_weather", "flow", since=at(-60), value=8.0)
    web = Client()
    web.force_login(city.users["water"])
    r = web.get("/sensors/")
    assert r.status_code == 200 and "东湖雨水排口" in r.content.decode()
    data = web.get("/sensors/map.json").json()
    (yk,) = [d for d in data["devices"] if d["device_id"] == "yk-01"]
    assert yk["status"] == "alarm" and yk["may_command"] and yk["active_alarms"][0]["rule"] == "dry_weather"
    page = web.get("/sensors/yk-01/").content.decode()
    assert "sensor-device-chart" in page and 'value="close_valve"' in page
    series = web.get("/sensors/yk-01/series.json").json()
    assert len(series["t"]) == 30
    panel = web.get(f"/sensors/case/{alarm.case_id}/panel/").content.decode()
    assert "sensor-case-chart" in panel and f'name="case_id" value="{alarm.case_id}"' in panel
    # The case page itself carries the device's chart around the alarm.
    case_page = web.get(f"/cases/{alarm.case_id}/").content.decode()
    assert "sensor-case-chart" in case_page and "传感器告警" in case_page  # a word, not a code
    # A person who may not command sees no form; one who may not see the case gets 404.
    roads = Client()
    roads.force_login(city.users["roads"])
    assert 'value="close_valve"' not in roads.get("/sensors/yk-01/").content.decode()
    assert roads.get(f"/sensors/case/{alarm.case_id}/panel/").status_code == 404
    token = create_token(city.users["leader"])
    r = Client().get("/api/v1/sensors/devices", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert r.status_code == 200 and {d["device_id"] for d in r.json()} == {"yk-01", "gw-01"}
    r = Client().get("/api/v1/sensors/devices/yk-01/readings?hours=1", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert len(r.json()["t"]) == 30


def test_the_case_panel_tag_renders_only_for_cases_with_alarms(city, now, rf):
    from django.template import Context as TContext
    from django.template import Template

    outfall, _node = make_devices(city)
    alarm = actions.raise_alarm(outfall, "dry_weather", "flow", since=at(-60), value=8.0)
    request = rf.get("/")
    request.user = city.users["water"]
    tpl = Template("{% load sensors %}[{% sensor_panel case %}]")
    assert "sensor-panel" in tpl.render(TContext({"request": request, "case": alarm.case}))
    other = Case.objects.create(
        number="X1",
        channel="hotline",
        text="t",
        title="t",
        state="accepted",
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    assert tpl.render(TContext({"request": request, "case": other})) == "[]"


# --- broker credentials ---------------------------------------------------------------


def test_broker_passwords_use_mosquittos_format(city, now):
    outfall, _node = make_devices(city)
    raw = credentials.set_mqtt_password(outfall)
    assert credentials.check_login("yk-01", raw) == "device"
    assert credentials.check_login("yk-01", raw + "x") is None
    assert credentials.check_login("gw-01", raw) is None
    svc = credentials.service_password("minsheng-ingest")
    assert credentials.check_login("minsheng-ingest", svc) == "service"
    passwd, acl = credentials.mosquitto_files("minsheng/sensors", {"minsheng-ingest": svc})
    assert passwd.startswith("yk-01:$7$") and "minsheng-ingest:$7$" in passwd
    assert "pattern write minsheng/sensors/%u/telemetry" in acl
    tool = shutil.which("mosquitto_passwd")
    if tool:  # a hash made by Mosquitto's own tool checks out too
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "passwd")
            subprocess.run([tool, "-c", "-b", path, "dev", "s3cret"], check=True)  # noqa: S603
            with open(path) as f:
                encoded = f.read().strip().split(":", 1)[1]
        assert credentials.check_mosquitto_hash("s3cret", encoded)


# --- the demo -------------------------------------------------------------------------


@pytest.fixture
def demo_places(db):
    """The demo city's places, units and accounts."""
    from minsheng.demo.actions import load_demo

    try:
        load_demo(with_cases=False)
    except TypeError:  # an older loader without the switch
        load_demo()


def test_demo_devices_sit_in_the_demo_city_with_a_week_of_readings(demo_places, now):
    from django.contrib.auth import get_user_model

    from minsheng.sensors.demo import load_demo_devices

    made = load_demo_devices()
    assert made["devices"] == 6 and made["readings"] == 6 * 7 * 24 * 6
    devices = list(Device.objects.select_related("place", "owner_unit"))
    assert {d.owner_unit.code for d in devices} == {"swjt"}
    assert all(d.place is not None for d in devices)
    assert {d.kind for d in devices} >= {"outfall", "pumping_station"}
    assert any(d.valve for d in devices if d.kind == "pumping_station")
    swjt = get_user_model().objects.get(username="swjt")
    assert swjt.has_perm("sensors.send_command")
    # Enough same-hour history for the baseline rule from the first day.
    overflow = Device.objects.get(device_id="ph-yl-01")
    assert len(storage.same_hour_means([overflow.pk], "flow", clock.now(), 28)[overflow.pk]) >= 27
    assert load_demo_devices() == {"devices": 6, "readings": 0}  # again: nothing doubled
