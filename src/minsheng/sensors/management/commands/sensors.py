"""``minsheng sensors``: the ingest process (数据接入) for smart-water devices.

* ``MQTT_URL`` set (or ``--mqtt-url``): subscribe at the city's broker (Mosquitto, EMQX).
* ``--embedded`` without ``MQTT_URL``: start the embedded broker (amqtt) when it is
  installed, else take readings only through the HTTP batch endpoint. The first lines it
  prints say which.
"""

from __future__ import annotations

import gc
import logging
import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from minsheng.sensors import broker
from minsheng.sensors.conf import setting
from minsheng.sensors.credentials import service_password
from minsheng.sensors.ingest import BrokerAddress, MqttIngest, Pipeline, run_http_only, topic_prefix


def embedded_port() -> int:
    return int(setting("MINSHENG_SENSORS_EMBEDDED_PORT", 18830))


class Command(BaseCommand):
    help = ("Ingest sensor readings (MQTT and the HTTP batch endpoint), detect anomalies, "
            "open work orders, deliver valve commands.")

    def add_arguments(self, parser):
        parser.add_argument("--mqtt-url", default=None,
                            help="the city's broker, e.g. mqtt://user:pass@host:1883 "
                                 "(default: $MQTT_URL)")
        parser.add_argument("--embedded", action="store_true",
                            help="without MQTT_URL: run the embedded broker (amqtt), or the "
                                 "HTTP endpoint alone when amqtt is not installed")
        parser.add_argument("--http-only", action="store_true",
                            help="no MQTT: detection for readings posted over HTTP only")
        parser.add_argument("--client-id", default=None,
                            help="fixed MQTT client id of the persistent session "
                                 "(default: minsheng-ingest)")
        parser.add_argument("--prefix", default=None, help="topic prefix (default: minsheng/sensors)")
        parser.add_argument("--batch", type=int, default=5000, help="readings per batch at most")

    def handle(self, *args, mqtt_url, embedded, http_only, client_id, prefix, batch, **options):
        logging.getLogger("minsheng.sensors").setLevel(logging.INFO)
        # Batches allocate many short-lived objects: collect the young generation less
        # often (the long-lived registry is frozen out of collection by the pipeline).
        gc.set_threshold(100_000, 50, 100)
        for noisy in ("amqtt", "transitions"):  # the embedded broker's chatter
            logging.getLogger(noisy).setLevel(logging.WARNING)
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_a: stop.set())
        prefix = (prefix or topic_prefix()).rstrip("/")
        client_id = client_id or setting("MINSHENG_SENSORS_CLIENT_ID", "minsheng-ingest")
        url = mqtt_url or setting("MQTT_URL", "")
        pipeline = Pipeline(source="mqtt")
        if http_only or (not url and embedded and not broker.AVAILABLE):
            self.stdout.write("sensors: no MQTT broker; readings come in through the HTTP batch "
                              "endpoint /api/v1/sensors/readings (install amqtt or set MQTT_URL "
                              "for MQTT)")
            self.stdout.flush()
            run_http_only(pipeline, stop)
            return
        embedded_broker = None
        username = password = None
        if url:
            address = BrokerAddress.parse(url)
            self.stdout.write(f"sensors: MQTT at the city's broker {address} (MQTT_URL), "
                              f"topics {prefix}/+/telemetry, client id {client_id}")
        elif embedded:
            embedded_broker = broker.EmbeddedBroker(port=embedded_port(), prefix=prefix)
            try:
                embedded_broker.start()
            except (RuntimeError, OSError) as exc:
                raise CommandError(f"the embedded broker could not start: {exc}") from exc
            address = BrokerAddress.parse(embedded_broker.url)
            username, password = "minsheng-ingest", service_password("minsheng-ingest")
            self.stdout.write(f"sensors: embedded MQTT broker (amqtt) on {address}, "
                              f"topics {prefix}/+/telemetry; also the HTTP batch endpoint")
        else:
            raise CommandError("Set MQTT_URL to the city's broker (or pass --mqtt-url), or pass "
                               "--embedded for the embedded default.")
        self.stdout.flush()
        ingest = MqttIngest(pipeline, address, client_id=client_id, prefix=prefix,
                            username=username, password=password, batch_max=batch)
        try:
            ingest.run(stop)
        finally:
            if embedded_broker is not None:
                embedded_broker.stop()
