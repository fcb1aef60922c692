"""A device simulator (设备模拟器) for the demo, the tests and the benchmark.

It plays a set of monitoring points with plausible physics: sewage flow that follows the
day (low before dawn, peaks in the morning and evening), rain outfalls that are dry in dry
weather, pumping stations with a wet-well level, and valves that cut the flow behind them.
Anomalies can be injected: an illegal discharge at a rain outfall in dry weather (偷排),
an overflow, a sudden spike, a device going silent. Commands are answered like a device
would: the valve moves, an acknowledgement goes back, and the next readings show it.

Transports: MQTT (one connection publishing for all simulated devices, as a gateway does)
or the HTTP batch endpoint. The world itself (:class:`World`) needs neither a broker nor a
database.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import random
import threading
import time
import urllib.error
import urllib.request
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from minsheng.core import clock

log = logging.getLogger("minsheng.sensors.simulator")
CST = zoneinfo.ZoneInfo("Asia/Shanghai")
ANOMALIES = ("discharge", "overflow", "spike", "silence", "cod")


@dataclass
class SimDevice:
    """One simulated device. ``profile``: ``rain_outfall`` (no flow in dry weather),
    ``sewage`` (flow follows the day) or ``pump`` (a pumping station's wet well)."""

    device_id: str
    profile: str = "sewage"
    base_flow: float = 20.0
    overflow_level: float = 1.2
    has_valve: bool = False
    valve: float = 100.0
    quantities: tuple[str, ...] = ("flow", "level", "cod", "ph", "conductivity")
    anomaly: str | None = None
    anomaly_until: float | None = None
    next_t: float = 0.0
    phase: float = field(default_factory=lambda: random.random() * math.tau)  # noqa: S311


def diurnal(hour: float) -> float:
    """Share of the mean sewage flow at a local hour: ~0.35 at 4 h, peaks ~1.5 at 8 h
    and ~1.3 at 20 h."""
    morning = math.exp(-((hour - 8.0) ** 2) / 4.0)
    evening = 0.8 * math.exp(-((hour - 20.0) ** 2) / 6.0)
    night = math.exp(-((hour - 4.0) ** 2) / 8.0)
    return max(0.2, 0.9 + 0.6 * morning + 0.4 * evening - 0.55 * night)


def iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, tz=CST).isoformat(timespec="milliseconds")


class World:
    """The simulated devices and their physics; thread-safe."""

    def __init__(
        self, devices: Iterable[SimDevice], *, seed: int | None = None, raining: bool = False
    ) -> None:
        self.devices = {d.device_id: d for d in devices}
        self.rng = random.Random(seed)  # noqa: S311  (a simulation, not security)
        self.raining = raining
        self.lock = threading.Lock()
        self.ignore_commands = False

    def inject(
        self, device_id: str, anomaly: str, duration_s: float | None = None, now_t: float | None = None
    ) -> None:
        if anomaly not in ANOMALIES:
            raise ValueError(f"unknown anomaly {anomaly!r}; one of {', '.join(ANOMALIES)}")
        now_t = clock.timestamp() if now_t is None else now_t
        with self.lock:
            d = self.devices[device_id]
            d.anomaly = anomaly
            d.anomaly_until = now_t + duration_s if duration_s else None
            log.info("injected %s at %s", anomaly, device_id)

    def clear(self, device_id: str) -> None:
        with self.lock:
            d = self.devices[device_id]
            d.anomaly, d.anomaly_until = None, None

    def silent(self, d: SimDevice, t: float) -> bool:
        return d.anomaly == "silence" and (d.anomaly_until is None or t < d.anomaly_until)

    def reading(self, d: SimDevice, t: float) -> dict[str, float]:
        """The values the device reports at ``t`` (epoch seconds)."""
        with self.lock:
            if d.anomaly_until is not None and t >= d.anomaly_until:
                d.anomaly, d.anomaly_until = None, None
            rng = self.rng
            hour = (
                dt.datetime.fromtimestamp(t, tz=CST).hour + dt.datetime.fromtimestamp(t, tz=CST).minute / 60.0
            )
            a = d.anomaly
            if d.profile == "rain_outfall":
                flow = d.base_flow * (0.6 + 0.4 * rng.random()) if self.raining else abs(rng.gauss(0.0, 0.03))
                cod, cond, ph = 40.0 + rng.gauss(0, 4), 250.0 + rng.gauss(0, 15), 7.2
                if a == "discharge":
                    flow = 8.0 + rng.gauss(0, 0.6)
                    cod, cond, ph = 320.0 + rng.gauss(0, 20), 1500.0 + rng.gauss(0, 60), 6.4
                level = 0.05 + flow / 60.0
            else:
                flow = d.base_flow * diurnal(hour) * (1.0 + rng.gauss(0, 0.04))
                cod, cond, ph = 220.0 + rng.gauss(0, 12), 850.0 + rng.gauss(0, 30), 7.3
                if d.profile == "pump":
                    level = 1.2 + 0.5 * math.sin(t / 900.0 + d.phase) + rng.gauss(0, 0.02)
                else:
                    level = 0.15 + 0.45 * flow / max(d.base_flow, 1e-6) + rng.gauss(0, 0.01)
            if a == "spike":
                flow *= 3.5
            if a == "overflow":
                level = d.overflow_level + 0.3 + rng.gauss(0, 0.02)
            if a == "cod":
                cod = 900.0 + rng.gauss(0, 30)
            if d.has_valve:
                flow *= d.valve / 100.0  # the meter sits behind the gate: closed is zero
            values = {
                "flow": round(max(flow, 0.0), 3),
                "level": round(max(level, 0.0), 3),
                "cod": round(max(cod, 0.0), 1),
                "ph": round(ph + rng.gauss(0, 0.05), 2),
                "conductivity": round(max(cond, 0.0), 1),
            }
            out = {q: v for q, v in values.items() if q in d.quantities}
            if d.has_valve:
                out["valve"] = round(d.valve, 1)
            return out

    def command(self, device_id: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """What the device does with a command, and its acknowledgement (``None``: the
        device ignores it, as a broken one would)."""
        with self.lock:
            d = self.devices.get(device_id)
            if d is None or self.ignore_commands:
                return None
            cid = payload.get("id")
            action = payload.get("action")
            if not d.has_valve:
                return {"id": cid, "ok": False, "message": "no valve", "ts": iso(clock.timestamp())}
            if action == "close_valve":
                d.valve = 0.0
            elif action == "open_valve":
                d.valve = 100.0
            elif action == "set_position" and isinstance(payload.get("position"), int | float):
                d.valve = max(0.0, min(100.0, float(payload["position"])))
            else:
                return {
                    "id": cid,
                    "ok": False,
                    "message": f"unknown action {action}",
                    "ts": iso(clock.timestamp()),
                }
            if d.valve == 0.0 and d.anomaly == "discharge":
                # Intercepted: the discharge now goes to the sewer; it stops a while later.
                d.anomaly_until = clock.timestamp() + 120.0
            return {"id": cid, "ok": True, "position": d.valve, "ts": iso(clock.timestamp())}

    def due(self, t: float, interval: float) -> list[tuple[SimDevice, dict[str, float]]]:
        """Readings due at ``t``: each device every ``interval`` seconds, spread out."""
        out = []
        for d in self.devices.values():
            if d.next_t == 0.0:
                d.next_t = t + self.rng.random() * interval
            if t >= d.next_t:
                d.next_t += interval
                if d.next_t <= t:  # fell behind (a pause): carry on from now, no burst
                    d.next_t = t + interval
                if not self.silent(d, t):
                    out.append((d, self.reading(d, t)))
        return out


def telemetry(d: SimDevice, t: float, values: dict[str, float]) -> bytes:
    return json.dumps({"ts": iso(t), "values": values}, separators=(",", ":")).encode()


# --- transports -----------------------------------------------------------------------


class MqttTransport:
    """One MQTT connection that publishes for every simulated device (QoS 1) and answers
    their commands. A persistent session and paho's own queue keep QoS 1 messages through
    a broker restart."""

    def __init__(
        self,
        world: World,
        url: str,
        *,
        prefix: str,
        client_id: str,
        username: str | None = None,
        password: str | None = None,
        ack_delay: float = 0.2,
    ) -> None:
        from .ingest.mqtt import BrokerAddress, make_client

        self.world = world
        self.prefix = prefix
        self.ack_delay = ack_delay
        self.address = BrokerAddress.parse(url)
        self.client = make_client(
            client_id, clean_session=False, address=self.address, username=username, password=password
        )
        self.client.max_queued_messages_set(0)
        self.client.max_inflight_messages_set(100)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.connected = threading.Event()
        self.commands: list[dict[str, Any]] = []
        self.acks: list[dict[str, Any]] = []

    def _on_connect(self, client: Any, _u: Any, _flags: Any, reason: Any, _p: Any = None) -> None:
        if getattr(reason, "is_failure", False):
            log.error("broker refused the simulator: %s", reason)
            return
        client.subscribe(f"{self.prefix}/+/command", qos=1)
        self.connected.set()
        log.info("simulator connected to %s", self.address)

    def _on_message(self, _c: Any, _u: Any, msg: Any) -> None:
        parts = msg.topic.split("/")
        device_id = parts[-2] if len(parts) >= 2 else ""
        try:
            payload = json.loads(msg.payload)
        except ValueError:
            return
        self.commands.append({"device": device_id, **payload})
        if device_id not in self.world.devices:
            return

        def answer() -> None:
            ack = self.world.command(device_id, payload)
            if ack is not None:
                self.acks.append({"device": device_id, **ack})
                self.client.publish(f"{self.prefix}/{device_id}/ack", json.dumps(ack), qos=1)

        threading.Timer(self.ack_delay, answer).start()

    def start(self, timeout: float = 10.0) -> bool:
        self.client.connect_async(self.address.host, self.address.port, keepalive=30)
        self.client.loop_start()
        return self.connected.wait(timeout)

    def send(self, readings: Sequence[tuple[SimDevice, float, dict[str, float]]]) -> int:
        for d, t, values in readings:
            self.client.publish(f"{self.prefix}/{d.device_id}/telemetry", telemetry(d, t, values), qos=1)
        return len(readings)

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class HttpTransport:
    """Batches to ``/api/v1/sensors/readings`` with a gateway's API key; commands fetched
    from ``/api/v1/sensors/commands/pending`` and acknowledged on ``/api/v1/sensors/acks``."""

    def __init__(self, world: World, base_url: str, api_key: str, *, timeout: float = 10.0) -> None:
        self.world = world
        self.base = base_url.rstrip("/") + "/api/v1/sensors"
        self.key = api_key
        self.timeout = timeout
        self.last_poll = 0.0

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        if not self.base.startswith(("http://", "https://")):
            raise ValueError("the simulator only talks HTTP(S)")
        req = urllib.request.Request(  # noqa: S310  (scheme checked above)
            self.base + path,
            data=data,
            method=method,
            headers={"X-Api-Key": self.key, "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310
            return json.loads(resp.read() or b"null")

    def start(self, timeout: float = 10.0) -> bool:
        return True

    def send(self, readings: Sequence[tuple[SimDevice, float, dict[str, float]]]) -> int:
        sent = 0
        try:
            for i in range(0, len(readings), 1000):
                chunk = readings[i : i + 1000]
                self._call(
                    "POST",
                    "/readings",
                    {"readings": [{"device": d.device_id, "ts": iso(t), "values": v} for d, t, v in chunk]},
                )
                sent += len(chunk)
            if time.monotonic() - self.last_poll > 1.0:
                self.last_poll = time.monotonic()
                self.poll_commands()
        except (urllib.error.URLError, OSError, ValueError) as exc:
            log.warning("HTTP send failed: %s", exc)
        return sent

    def poll_commands(self) -> None:
        for cmd in self._call("GET", "/commands/pending") or []:
            ack = self.world.command(cmd["device"], cmd)
            if ack is not None:
                self._call("POST", "/acks", {"device": cmd["device"], **ack})

    def stop(self) -> None:
        pass


# --- running --------------------------------------------------------------------------


def profile_for(kind: str, rules: dict[str, Any]) -> str:
    """How to simulate a registered device: one watched for dry-weather flow is a rain
    outfall (no flow when dry), a pumping station has a wet well, the rest carry sewage."""
    if (rules.get("quantities") or {}).get("flow", {}).get("dry_weather") or kind == "rain_node":
        return "rain_outfall"
    if kind == "pumping_station":
        return "pump"
    return "sewage"


def run(
    world: World,
    transport: Any,
    *,
    interval: float,
    stop: threading.Event,
    duration: float | None = None,
    schedule: Sequence[tuple[float, str, str, float | None]] = (),
) -> int:
    """Publish readings until ``stop`` (or ``duration`` seconds). ``schedule`` injects
    anomalies: ``(after_seconds, device_id, anomaly, duration_s)``."""
    # Readings carry the business clock's time (a test's, when a test started us), ticking
    # on from where it stood even while a test holds its own clock pinned.
    started, mono = clock.timestamp(), time.monotonic()
    pending = sorted(schedule)
    sent = 0
    tick = min(1.0, max(0.02, interval / 10.0))
    while not stop.is_set():
        now = started + (time.monotonic() - mono)
        if duration is not None and now - started >= duration:
            break
        while pending and now - started >= pending[0][0]:
            _after, device_id, anomaly, dur = pending.pop(0)
            if device_id in world.devices:
                world.inject(device_id, anomaly, dur, now)
        due = world.due(now, interval)
        if due:
            sent += transport.send([(d, now, v) for d, v in due])
        stop.wait(tick)
    return sent
