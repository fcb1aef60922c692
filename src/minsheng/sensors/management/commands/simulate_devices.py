"""``minsheng simulate-devices --count N``: play N registered devices (the demo's first),
publish realistic readings with injected anomalies, and answer their commands.

Transport, like ``minsheng sensors``: ``MQTT_URL`` (or ``--mqtt-url``) → that broker;
``--embedded`` → the embedded broker when amqtt is installed, else the HTTP batch endpoint
at ``--http-url`` with the demo gateway's key.
"""

from __future__ import annotations

import logging
import random
import signal
import threading
import uuid

from django.core.management.base import BaseCommand, CommandError

from minsheng.core.conf import setting
from minsheng.places.models import PlaceKind
from minsheng.places.queries import locate_point
from minsheng.sensors import actions, broker, simulator
from minsheng.sensors.credentials import demo_gateway_key, service_password
from minsheng.sensors.demo import sim_devices
from minsheng.sensors.ingest.mqtt import topic_prefix
from minsheng.sensors.models import Device, DeviceKind, DeviceType

from .sensors import embedded_port

DEMO_SCENARIO = [  # (after seconds, device, anomaly, duration seconds), repeated hourly
    (90, "ph-yk-01", "discharge", 600),
    (20 * 60, "ph-yl-01", "overflow", 300),
    (40 * 60, "ph-yk-02", "discharge", 600),
]


def parse_inject(spec: str) -> tuple[float, str, str, float | None]:
    """``ANOMALY:DEVICE[:AFTER_S[:DURATION_S]]`` → a schedule entry."""
    parts = spec.split(":")
    if len(parts) < 2 or parts[0] not in simulator.ANOMALIES:
        raise CommandError(
            f"--inject {spec!r}: use ANOMALY:DEVICE[:AFTER[:DURATION]] with "
            f"ANOMALY one of {', '.join(simulator.ANOMALIES)}"
        )
    after = float(parts[2]) if len(parts) > 2 and parts[2] else 0.0
    duration = float(parts[3]) if len(parts) > 3 and parts[3] else None
    return after, parts[1], parts[0], duration


class Command(BaseCommand):
    help = "Simulate smart-water devices: readings with anomalies, answers to commands."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=6, help="how many devices to play")
        parser.add_argument(
            "--interval", type=float, default=10.0, help="seconds between two readings of one device"
        )
        parser.add_argument("--mqtt-url", default=None, help="broker (default: $MQTT_URL)")
        parser.add_argument(
            "--embedded",
            action="store_true",
            help="use the embedded broker of 'minsheng sensors --embedded' (or "
            "its HTTP endpoint when amqtt is not installed)",
        )
        parser.add_argument(
            "--http-url", default="http://127.0.0.1:8000", help="Minsheng's address for the HTTP transport"
        )
        parser.add_argument("--api-key", default=None, help="HTTP key (default: the demo's)")
        parser.add_argument("--prefix", default=None)
        parser.add_argument(
            "--inject",
            action="append",
            default=[],
            metavar="SPEC",
            help="ANOMALY:DEVICE[:AFTER_S[:DURATION_S]], repeatable; anomalies: "
            + ", ".join(simulator.ANOMALIES),
        )
        parser.add_argument(
            "--demo", action="store_true", help="the demo's scenario: a discharge, an overflow, … every hour"
        )
        parser.add_argument(
            "--create", action="store_true", help="register synthetic devices (sim-00001…) when fewer exist"
        )
        parser.add_argument("--duration", type=float, default=None, help="stop after seconds")
        parser.add_argument("--seed", type=int, default=None)
        parser.add_argument(
            "--ignore-commands", action="store_true", help="never acknowledge (to see commands fail)"
        )

    def _devices(self, count: int, create: bool) -> list[Device]:
        devices = list(
            Device.objects.filter(active=True).select_related("device_type").order_by("device_id")[:count]
        )
        if len(devices) < count and create:
            devices += self._create(count - len(devices))
        return devices

    def _create(self, n: int) -> list[Device]:
        from minsheng.places.models import Place

        city = Place.objects.filter(kind=PlaceKind.CITY).first()
        lat0, lng0 = (
            (city.center_lat, city.center_lng)
            if city and city.center_lat and city.center_lng is not None
            else (30.7, 121.0)
        )
        dtype = DeviceType.objects.filter(kind=DeviceKind.SEWAGE_NODE).first()
        rng = random.Random(7)  # noqa: S311
        made = []
        start = Device.objects.filter(device_id__startswith="sim-").count()
        for i in range(start + 1, start + n + 1):
            lat, lng = lat0 + rng.uniform(-0.05, 0.05), lng0 + rng.uniform(-0.05, 0.05)
            if locate_point(lat, lng) is None:
                lat, lng = lat0, lng0
            made.append(
                actions.register_device(
                    f"sim-{i:05d}",
                    name=f"模拟管网节点{i}",
                    kind=DeviceKind.SEWAGE_NODE,
                    lat=lat,
                    lng=lng,
                    device_type=dtype,
                )
            )
        return made

    def handle(
        self,
        *args,
        count,
        interval,
        mqtt_url,
        embedded,
        http_url,
        api_key,
        prefix,
        inject,
        demo,
        create,
        duration,
        seed,
        ignore_commands,
        **options,
    ):
        logging.getLogger("minsheng.sensors").setLevel(logging.INFO)
        devices = self._devices(count, create)
        if not devices:
            raise CommandError("No devices to simulate: load the demo (minsheng loaddemo) or pass --create.")
        world = simulator.World(sim_devices(devices), seed=seed)
        world.ignore_commands = ignore_commands
        schedule = [parse_inject(s) for s in inject]
        if demo:
            schedule += [
                (after + hour * 3600, dev, anomaly, dur)
                for hour in range(24)
                for after, dev, anomaly, dur in DEMO_SCENARIO
            ]
        prefix = (prefix or topic_prefix()).rstrip("/")
        url = mqtt_url or setting("MQTT_URL", "")
        transport: object
        if url:
            transport = simulator.MqttTransport(
                world, url, prefix=prefix, client_id=f"minsheng-sim-{uuid.uuid4().hex[:8]}"
            )
            where = f"MQTT {url.split('@')[-1]}"
        elif embedded and broker.AVAILABLE:
            transport = simulator.MqttTransport(
                world,
                f"mqtt://127.0.0.1:{embedded_port()}",
                prefix=prefix,
                client_id="minsheng-simulator",
                username="minsheng-simulator",
                password=service_password("minsheng-simulator"),
            )
            where = f"the embedded broker on 127.0.0.1:{embedded_port()}"
        else:
            transport = simulator.HttpTransport(world, http_url, api_key or demo_gateway_key())
            where = f"HTTP {http_url}/api/v1/sensors/readings"
        self.stdout.write(
            f"simulator: {len(devices)} device(s) every {interval:g} s through "
            f"{where}" + (" with the demo scenario" if demo else "")
        )
        self.stdout.flush()
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_a: stop.set())
        transport.start()  # type: ignore[attr-defined]
        try:
            sent = simulator.run(
                world, transport, interval=interval, stop=stop, duration=duration, schedule=schedule
            )
        finally:
            transport.stop()  # type: ignore[attr-defined]
        self.stdout.write(f"simulator: sent {sent} readings")
