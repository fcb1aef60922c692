"""Against a real broker (``MQTT_URL=mqtt://127.0.0.1:1883``): the seed's loop end to end,
and QoS 1 messages surviving an ingest restart and a broker restart, stored once.

Every test uses its own topic prefix and client ids, so runs never see each other's
messages on a shared broker."""

import datetime as dt
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid

import pytest
from django.db import close_old_connections, connection

from minsheng.cases.models import Case, CaseEvent
from minsheng.cases.states import ClockName
from minsheng.sensors import actions, storage
from minsheng.sensors.ingest import BrokerAddress, MqttIngest, Pipeline, make_client
from minsheng.sensors.models import Alarm, AlarmState, CommandState, Device
from minsheng.sensors.shards import Shard
from minsheng.sensors.simulator import MqttTransport, SimDevice, World, iso, run
from tests.integration.test_sensor_shards import four_devices
from tests.integration.test_sensors import grant, make_devices

MQTT_URL = os.environ.get("MQTT_URL", "")

needs_broker = pytest.mark.skipif(not MQTT_URL, reason="set MQTT_URL to run against a broker")
pytestmark = [pytest.mark.mqtt, pytest.mark.django_db(transaction=True)]

FAST_RULES = {
    "hold_seconds": 0,
    "clear_seconds": 1,
    "silence": False,
    "quantities": {"flow": {"dry_weather": {"max": 0.5}}},
}


def wait_for(predicate, timeout: float, step: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


class Ingest:
    """``minsheng sensors`` in a thread: the same loop, a fixed client id."""

    def __init__(self, url: str, prefix: str, client_id: str, shard: Shard | None = None, **login) -> None:
        self.pipeline = Pipeline(shard=shard)
        self.mqtt = MqttIngest(
            self.pipeline, BrokerAddress.parse(url), client_id=client_id, prefix=prefix, **login
        )
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self.mqtt.run(self.stop_event)
        finally:
            connection.close()

    def start(self) -> "Ingest":
        self.thread.start()
        assert self.mqtt.connected.wait(10), "ingest did not connect"
        time.sleep(0.3)  # the subscription is acknowledged
        return self

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(10)


@pytest.fixture
def run_id():
    return uuid.uuid4().hex[:10]


@needs_broker
def test_dry_weather_flow_opens_a_case_a_valve_closes_and_the_alarm_clears(city, run_id):
    """Seed 001: the device sees flow where none should be, a work order opens within a
    second with the 15-minute response clock, the operator closes the valve remotely, the
    device acknowledges, the flow stops and the alarm clears."""
    close_old_connections()
    outfall, _node = make_devices(city, rules=FAST_RULES)
    grant(city.users["water"])
    prefix = f"minsheng-test-{run_id}/sensors"
    ingest = Ingest(MQTT_URL, prefix, f"ingest-{run_id}").start()
    world = World(
        [SimDevice("yk-01", profile="rain_outfall", has_valve=True, quantities=("flow", "level"))], seed=1
    )
    sim = MqttTransport(world, MQTT_URL, prefix=prefix, client_id=f"sim-{run_id}", ack_delay=0.1)
    assert sim.start()
    stop = threading.Event()
    sim_thread = threading.Thread(
        target=run, args=(world, sim), kwargs={"interval": 0.1, "stop": stop}, daemon=True
    )
    sim_thread.start()
    try:
        assert wait_for(lambda: storage.count(outfall.pk) >= 5, 5)
        assert not Alarm.objects.exists()  # dry and quiet: nothing to report

        world.inject("yk-01", "discharge")
        injected = time.monotonic()
        case = wait_for(lambda: Case.objects.filter(channel="sensor").first(), 3, step=0.005)
        opened_after = time.monotonic() - injected
        assert case is not None, "no case opened"
        assert opened_after < 1.0, f"the case opened {opened_after:.2f} s after the injection"
        alarm = Alarm.objects.get(device=outfall, rule="dry_weather")
        assert alarm.case_id == case.pk and alarm.state == AlarmState.ACTIVE
        # From the first reading showing the discharge to the case: well under a second.
        assert (case.created_at - alarm.condition_since) < dt.timedelta(seconds=1)
        assert case.owner_unit == city.units["water"]
        response = case.clocks.get(name=ClockName.RESPONSE)
        assert response.due_at - response.started_at == dt.timedelta(minutes=15)

        cmd = actions.send_command(city.actor("water"), "yk-01", "close_valve", note="截污")
        assert cmd.case_id == case.pk
        cmd = wait_for(lambda: type(cmd).objects.filter(pk=cmd.pk, state=CommandState.ACKED).first(), 5)
        assert cmd is not None, "the valve command was not acknowledged"
        assert [c["id"] for c in sim.commands] == [cmd.command_id]
        assert cmd.ack["position"] == 0.0

        cleared = wait_for(lambda: Alarm.objects.filter(pk=alarm.pk, state=AlarmState.CLEARED).exists(), 5)
        assert cleared, "the alarm did not clear after the valve closed"
        actions_on_case = list(CaseEvent.objects.filter(case=case).values_list("action", flat=True))
        for expected in ("alarm_raised", "command_sent", "command_acked", "alarm_cleared"):
            assert expected in actions_on_case
        sent = CaseEvent.objects.get(case=case, action="command_sent")
        assert sent.actor == city.users["water"]
        case.refresh_from_db()
        assert case.state != "closed"  # a person closes it
        outfall.refresh_from_db()
        assert outfall.valve_position == 0.0
    finally:
        stop.set()
        sim_thread.join(5)
        sim.stop()
        ingest.stop()


def _publisher(url: str, client_id: str):
    client = make_client(client_id, clean_session=False, address=BrokerAddress.parse(url))
    client.max_queued_messages_set(0)
    client.connect_async(BrokerAddress.parse(url).host, BrokerAddress.parse(url).port)
    client.loop_start()
    return client


def _readings(prefix: str, n: int, start: float):
    return [
        (f"{prefix}/yk-01/telemetry", json.dumps({"ts": iso(start + i * 0.5), "values": {"flow": 0.01 * i}}))
        for i in range(n)
    ]


@needs_broker
def test_qos1_messages_published_while_ingest_is_down_arrive_once(city, run_id):
    close_old_connections()
    outfall, _node = make_devices(city, rules=FAST_RULES)
    prefix = f"minsheng-test-{run_id}/sensors"
    client_id = f"ingest-{run_id}"
    ingest = Ingest(MQTT_URL, prefix, client_id).start()  # creates the persistent session
    ingest.stop()
    pub = _publisher(MQTT_URL, f"pub-{run_id}")
    try:
        assert wait_for(pub.is_connected, 5)
        messages = _readings(prefix, 50, time.time() - 60)
        for topic, payload in messages:
            pub.publish(topic, payload, qos=1).wait_for_publish(5)
        assert storage.count(outfall.pk) == 0
        ingest = Ingest(MQTT_URL, prefix, client_id).start()
        assert ingest.mqtt.session_present is True
        assert wait_for(lambda: storage.count(outfall.pk) >= 50, 10)
        # The same messages again (a device retrying): still stored once.
        for topic, payload in messages:
            pub.publish(topic, payload, qos=1).wait_for_publish(5)
        time.sleep(1.0)
        assert storage.count(outfall.pk) == 50
        ingest.stop()
    finally:
        pub.disconnect()
        pub.loop_stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@needs_broker
@pytest.mark.skipif(not shutil.which("mosquitto"), reason="needs the mosquitto binary")
def test_ingest_reconnects_after_a_broker_restart_without_losing_messages(city, run_id):
    """A private Mosquitto (persistence on) restarted mid-stream: the ingest process and
    the publisher reconnect on their own; every message is stored, once."""
    close_old_connections()
    outfall, _node = make_devices(city, rules=FAST_RULES)
    workdir = tempfile.mkdtemp(prefix="minsheng-mqtt-")
    os.chmod(workdir, 0o777)  # noqa: S103  (mosquitto drops root for its own user)
    port = _free_port()
    conf = os.path.join(workdir, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write(
            f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
            f"persistence_location {workdir}/\n"
        )

    binary = shutil.which("mosquitto") or "mosquitto"

    def broker():
        proc = subprocess.Popen(  # noqa: S603
            [binary, "-c", conf],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert wait_for(lambda: _listening(port), 5)
        return proc

    url = f"mqtt://127.0.0.1:{port}"
    prefix = f"minsheng-test-{run_id}/sensors"
    proc = broker()
    ingest = pub = None
    try:
        ingest = Ingest(url, prefix, f"ingest-{run_id}").start()
        pub = _publisher(url, f"pub-{run_id}")
        assert wait_for(pub.is_connected, 5)
        messages = _readings(prefix, 90, time.time() - 120)
        for topic, payload in messages[:30]:
            pub.publish(topic, payload, qos=1)
        assert wait_for(lambda: storage.count(outfall.pk) >= 30, 5)
        proc.terminate()
        proc.wait(10)
        for topic, payload in messages[30:60]:  # broker down: the publisher queues them
            pub.publish(topic, payload, qos=1)
        time.sleep(0.5)
        proc = broker()
        for topic, payload in messages[60:]:
            pub.publish(topic, payload, qos=1)
        assert wait_for(lambda: storage.count(outfall.pk) >= 90, 20), storage.count(outfall.pk)
        assert wait_for(ingest.mqtt.connected.is_set, 5)
        assert ingest.mqtt.generation >= 2  # it did reconnect
        time.sleep(0.5)
        assert storage.count(outfall.pk) == 90
    finally:
        if pub is not None:
            pub.disconnect()
            pub.loop_stop()
        if ingest is not None:
            ingest.stop()
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def test_embedded_broker_checks_device_logins_and_topics(city, run_id):
    """The embedded default (amqtt): devices log in with their own password and may use
    only their own topics; Minsheng's processes log in with derived passwords."""
    pytest.importorskip("amqtt")
    from minsheng.sensors.broker import EmbeddedBroker
    from minsheng.sensors.credentials import service_password, set_mqtt_password

    close_old_connections()
    outfall, node = make_devices(city, rules=FAST_RULES)
    password = set_mqtt_password(outfall)
    prefix = f"minsheng-test-{run_id}/sensors"
    port = _free_port()
    broker = EmbeddedBroker(port=port, prefix=prefix)
    broker.start()
    url = f"mqtt://127.0.0.1:{port}"
    ingest = device = None
    try:
        ingest = Ingest(
            url,
            prefix,
            f"ingest-{run_id}",
            username="minsheng-ingest",
            password=service_password("minsheng-ingest"),
        ).start()
        address = BrokerAddress.parse(url)
        refused = make_client(
            f"x-{run_id}", clean_session=True, address=address, username="yk-01", password="wrong"
        )
        refused.connect(address.host, address.port)
        refused.loop_start()
        time.sleep(1.0)
        assert not refused.is_connected()  # a wrong password: no session
        refused.disconnect()
        refused.loop_stop()
        device = make_client(
            f"yk-01-{run_id}", clean_session=True, address=address, username="yk-01", password=password
        )
        commands = []
        device.on_message = lambda _c, _u, m: commands.append(json.loads(m.payload))
        device.connect(address.host, address.port)
        device.loop_start()
        assert wait_for(device.is_connected, 5)
        device.subscribe(f"{prefix}/yk-01/command", qos=1)
        t = time.time()
        device.publish(
            f"{prefix}/yk-01/telemetry", json.dumps({"ts": iso(t), "values": {"flow": 0.1}}), qos=1
        )
        # Not its own topic: the broker drops it.
        device.publish(
            f"{prefix}/gw-01/telemetry", json.dumps({"ts": iso(t), "values": {"level": 0.3}}), qos=1
        )
        assert wait_for(lambda: storage.count(outfall.pk) == 1, 5)
        time.sleep(0.5)
        assert storage.count(node.pk) == 0
        grant(city.users["water"])
        cmd = actions.send_command(city.actor("water"), "yk-01", "open_valve")
        assert wait_for(lambda: commands, 5)
        assert commands[0]["id"] == cmd.command_id
    finally:
        if device is not None:
            device.disconnect()
            device.loop_stop()
        if ingest is not None:
            ingest.stop()
        broker.stop()


@pytest.mark.skipif(not shutil.which("mosquitto"), reason="needs the mosquitto binary")
def test_mosquitto_files_let_devices_in_only_under_their_own_topics(city, run_id):
    """The password and ACL files ``minsheng sensor-credentials mosquitto`` writes, loaded
    by a private Mosquitto: a device logs in with its own password and its telemetry
    reaches the ingest login; a wrong password is refused; another device's topic is not
    delivered."""
    from minsheng.sensors.credentials import mosquitto_files, set_mqtt_password

    close_old_connections()
    outfall, node = make_devices(city, rules=FAST_RULES)
    password = set_mqtt_password(outfall)
    prefix = "minsheng/sensors"
    passwd, acl = mosquitto_files(prefix, {"minsheng-ingest": "ingest-pw"})
    workdir = tempfile.mkdtemp(prefix="minsheng-mqtt-")
    os.chmod(workdir, 0o777)  # noqa: S103  (mosquitto drops root for its own user)
    port = _free_port()
    for name, text in (("passwd", passwd), ("acl", acl)):
        with open(os.path.join(workdir, name), "w") as f:
            f.write(text)
        os.chmod(os.path.join(workdir, name), 0o644)
    conf = os.path.join(workdir, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write(
            f"listener {port} 127.0.0.1\nallow_anonymous false\n"
            f"password_file {workdir}/passwd\nacl_file {workdir}/acl\n"
        )
    binary = shutil.which("mosquitto") or "mosquitto"
    proc = subprocess.Popen(  # noqa: S603
        [binary, "-c", conf],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"mqtt://127.0.0.1:{port}"
    clients = []
    try:
        assert wait_for(lambda: _listening(port), 5)
        address = BrokerAddress.parse(url)

        def login(user, pw, client_id):
            c = make_client(client_id, clean_session=True, address=address, username=user, password=pw)
            c.connect_async(address.host, address.port)
            c.loop_start()
            clients.append(c)
            return c

        got = []
        ingest = login("minsheng-ingest", "ingest-pw", f"i-{run_id}")
        ingest.on_message = lambda _c, _u, m: got.append(m.topic)
        assert wait_for(ingest.is_connected, 5)
        ingest.subscribe(f"{prefix}/+/telemetry", qos=1)
        wrong = login("yk-01", "not-it", f"w-{run_id}")
        device = login("yk-01", password, f"d-{run_id}")
        assert wait_for(device.is_connected, 5)
        assert not wrong.is_connected()
        time.sleep(0.3)
        device.publish(f"{prefix}/yk-01/telemetry", b"{}", qos=1).wait_for_publish(5)
        device.publish(f"{prefix}/gw-01/telemetry", b"{}", qos=1).wait_for_publish(5)
        assert wait_for(lambda: got, 5)
        time.sleep(0.5)
        assert got == [f"{prefix}/yk-01/telemetry"]
        assert node.device_id == "gw-01"
    finally:
        for c in clients:
            c.disconnect()
            c.loop_stop()
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


@needs_broker
def test_two_shards_share_the_devices_each_reading_stored_once_and_commands_reach_shard_1(city, run_id):
    """Two ingest shards (0/2 and 1/2) at one broker, each subscribed to its own devices'
    topics: every reading is stored once and judged by the shard that owns the device; an
    anomaly at a shard-1 device opens a case; a valve command to it, published by shard 0,
    is acknowledged on the device's ack topic, which shard 1 takes."""
    close_old_connections()
    outfall, *_others = four_devices(city, rules=FAST_RULES)
    grant(city.users["water"])
    prefix = f"minsheng-test-{run_id}/sensors"
    shards = [
        Ingest(MQTT_URL, prefix, Shard(i, 2).client_id(f"ingest-{run_id}"), shard=Shard(i, 2)).start()
        for i in range(2)
    ]
    ids = ("yk-01", "gw-01", "yk-04", "bz-01")
    world = World(
        [
            SimDevice(d, profile="rain_outfall", has_valve=d.startswith("yk"), quantities=("flow", "level"))
            for d in ids
        ],
        seed=3,
    )
    sim = MqttTransport(world, MQTT_URL, prefix=prefix, client_id=f"sim-{run_id}", ack_delay=0.1)
    assert sim.start()
    try:
        assert wait_for(lambda: all(len(s.mqtt._subscribed) == 2 for s in shards), 5)
        start = time.time() - 300
        quiet = [(world.devices[d], start + i, {"flow": 0.0, "level": 0.1}) for i in range(40) for d in ids]
        sim.send(quiet)
        assert wait_for(lambda: storage.count() >= 160, 10), storage.count()
        time.sleep(0.5)  # anything more would show up now
        assert {d: storage.count(Device.objects.get(device_id=d).pk) for d in ids} == {d: 40 for d in ids}
        # Each shard stored its own two devices' readings and saw no other device's.
        assert [s.pipeline.stored for s in shards] == [80, 80]
        assert all(not s.pipeline.counters.total for s in shards)
        assert not Alarm.objects.exists()

        sim.send([(world.devices["yk-01"], time.time() - 1, {"flow": 9.0, "level": 0.2})])
        case = wait_for(lambda: Case.objects.filter(channel="sensor").first(), 5)
        assert case is not None, "the anomaly at a shard-1 device opened no case"
        alarm = Alarm.objects.get(rule="dry_weather")
        assert alarm.device == outfall and alarm.case_id == case.pk
        # The case commits inside raise_alarm; the shard counts it just after, so wait.
        assert wait_for(lambda: shards[1].pipeline.alarms_raised == 1, 2), "shard 1 raised none"
        assert shards[0].pipeline.alarms_raised == 0

        cmd = actions.send_command(city.actor("water"), "yk-01", "close_valve")
        acked = wait_for(lambda: type(cmd).objects.filter(pk=cmd.pk, state=CommandState.ACKED).first(), 5)
        assert acked is not None, "the valve command to a shard-1 device was not acknowledged"
        assert [c["id"] for c in sim.commands] == [cmd.command_id]  # published once
        assert acked.ack["position"] == 0.0
    finally:
        sim.stop()
        for s in shards:
            s.stop()
