"""``minsheng sensors``: the ingest process (数据接入) for smart-water devices.

* ``MQTT_URL`` set (or ``--mqtt-url``): subscribe at the city's broker (Mosquitto, EMQX).
* ``--embedded`` without ``MQTT_URL``: start the embedded broker (amqtt) when it is
  installed, else take readings only through the HTTP batch endpoint. The first lines it
  prints say which.
* ``--shards N`` (default ``MINSHENG_SENSORS_SHARDS``, 1): a supervisor running N child
  processes ``minsheng sensors --shard i/N`` with the same options; ``--shard i/N`` runs
  one of them (shards may run on several machines). Not with the embedded broker.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import sys
import threading

from django.core.management.base import BaseCommand, CommandError

from minsheng.core.conf import setting
from minsheng.sensors import broker
from minsheng.sensors.credentials import service_password
from minsheng.sensors.ingest import (
    BrokerAddress,
    Chores,
    MqttIngest,
    Pipeline,
    run_http_only,
    topic_prefix,
)
from minsheng.sensors.shards import Shard, Supervisor, configured_count


def embedded_port() -> int:
    return int(setting("MINSHENG_SENSORS_EMBEDDED_PORT", 18830))


class Command(BaseCommand):
    help = (
        "Ingest sensor readings (MQTT and the HTTP batch endpoint), detect anomalies, "
        "open work orders, deliver valve commands."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--mqtt-url",
            default=None,
            help="the city's broker, e.g. mqtt://user:pass@host:1883 (default: $MQTT_URL)",
        )
        parser.add_argument(
            "--embedded",
            action="store_true",
            help="without MQTT_URL: run the embedded broker (amqtt), or the "
            "HTTP endpoint alone when amqtt is not installed",
        )
        parser.add_argument(
            "--http-only", action="store_true", help="no MQTT: detection for readings posted over HTTP only"
        )
        parser.add_argument(
            "--client-id",
            default=None,
            help="fixed MQTT client id of the persistent session (default: minsheng-ingest)",
        )
        parser.add_argument("--prefix", default=None, help="topic prefix (default: minsheng/sensors)")
        parser.add_argument("--batch", type=int, default=5000, help="readings per batch at most")
        parser.add_argument(
            "--shards",
            type=int,
            default=None,
            help="run N ingest processes, each owning a share of the devices "
            "(default: $MINSHENG_SENSORS_SHARDS, 1)",
        )
        parser.add_argument(
            "--shard",
            default=None,
            metavar="I/N",
            help="run shard I of N only (e.g. 0/2), for shards on several machines; --shards starts them all",
        )

    def handle(
        self, *args, mqtt_url, embedded, http_only, client_id, prefix, batch, shards, shard, **options
    ):
        if shard is not None and shards is not None:
            raise CommandError("--shard I/N runs one shard, --shards N runs them all: not both")
        try:
            one = Shard.parse(shard) if shard is not None else None
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        count = one.count if one is not None else (shards or configured_count())
        if count < 1:
            raise CommandError("--shards must be at least 1")
        url = mqtt_url or setting("MQTT_URL", "")
        if count > 1 and not url and not http_only:
            raise CommandError(
                f"{count} shards need the city's broker (MQTT_URL or --mqtt-url) or --http-only: "
                "the embedded broker lives inside one ingest process. Run with --shards 1 "
                "(and MINSHENG_SENSORS_SHARDS=1) for the embedded default."
            )
        if one is None and count > 1:
            self._supervise(
                count, mqtt_url=mqtt_url, http_only=http_only, client_id=client_id, prefix=prefix, batch=batch
            )
            return
        self._run(
            one or Shard(),
            url=url,
            embedded=embedded,
            http_only=http_only,
            client_id=client_id,
            prefix=prefix,
            batch=batch,
        )

    def _supervise(self, count, *, mqtt_url, http_only, client_id, prefix, batch) -> None:
        """N children ``minsheng sensors --shard i/N`` with the same options. The broker URL
        goes to them in the environment, not on a command line ``ps`` shows."""
        env = dict(os.environ)
        if mqtt_url:
            env["MQTT_URL"] = mqtt_url
        env["MINSHENG_SENSORS_SHARDS"] = str(count)
        common = ["--batch", str(batch)]
        if http_only:
            common.append("--http-only")
        if client_id:
            common += ["--client-id", client_id]
        if prefix:
            common += ["--prefix", prefix]
        commands = [
            [sys.executable, "-m", "minsheng", "sensors", "--shard", f"{i}/{count}", *common]
            for i in range(count)
        ]
        base = client_id or setting("MINSHENG_SENSORS_CLIENT_ID", "minsheng-ingest")
        how = (
            "the HTTP batch endpoint only"
            if http_only
            else f"MQTT at {BrokerAddress.parse(env.get('MQTT_URL', ''))}, client ids "
            f"{Shard(0, count).client_id(base)} … {Shard(count - 1, count).client_id(base)}"
        )
        self.stdout.write(
            f"sensors: supervisor of {count} ingest shards (devices split by "
            f"CRC-32 of device_id; shard 0 also publishes commands and runs the "
            f"hourly roll-ups), {how}; restarts a shard that dies"
        )
        self.stdout.flush()

        def say(line: str) -> None:
            self.stdout.write(line)
            self.stdout.flush()

        supervisor = Supervisor(commands, env=env, log=say)
        supervisor.handle_signals()
        supervisor.run()

    def _run(self, shard, *, url, embedded, http_only, client_id, prefix, batch) -> None:
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
        client_id = shard.client_id(client_id or setting("MINSHENG_SENSORS_CLIENT_ID", "minsheng-ingest"))
        pipeline = Pipeline(source="mqtt", shard=shard, chores=Chores())
        of = f"shard {shard}: " if shard.sharded else ""
        topics = (
            f"the topics of its devices under {prefix}/" if shard.sharded else f"topics {prefix}/+/telemetry"
        )
        if http_only or (not url and embedded and not broker.AVAILABLE):
            self.stdout.write(
                f"sensors: {of}no MQTT broker; readings come in through the HTTP "
                "batch endpoint /api/v1/sensors/readings (install amqtt or set "
                "MQTT_URL for MQTT)"
            )
            self.stdout.flush()
            run_http_only(pipeline, stop)
            return
        embedded_broker = None
        username = password = None
        if url:
            address = BrokerAddress.parse(url)
            self.stdout.write(
                f"sensors: {of}MQTT at the city's broker {address} (MQTT_URL), "
                f"{topics}, client id {client_id}"
            )
        elif embedded:
            embedded_broker = broker.EmbeddedBroker(port=embedded_port(), prefix=prefix)
            try:
                embedded_broker.start()
            except (RuntimeError, OSError) as exc:
                raise CommandError(f"the embedded broker could not start: {exc}") from exc
            address = BrokerAddress.parse(embedded_broker.url)
            username, password = "minsheng-ingest", service_password("minsheng-ingest")
            self.stdout.write(
                f"sensors: embedded MQTT broker (amqtt) on {address}, "
                f"topics {prefix}/+/telemetry; also the HTTP batch endpoint"
            )
        else:
            raise CommandError(
                "Set MQTT_URL to the city's broker (or pass --mqtt-url), or pass "
                "--embedded for the embedded default."
            )
        self.stdout.flush()
        ingest = MqttIngest(
            pipeline,
            address,
            client_id=client_id,
            prefix=prefix,
            username=username,
            password=password,
            batch_max=batch,
        )
        try:
            ingest.run(stop)
        finally:
            if embedded_broker is not None:
                embedded_broker.stop()
