"""The ingest process's MQTT side (paho-mqtt).

Devices publish ``{prefix}/{device_id}/telemetry`` (QoS 1) with
``{"ts": "2026-11-23T09:00:00+08:00", "values": {"flow": 12.3, "level": 0.42}}`` and
acknowledge commands on ``{prefix}/{device_id}/ack`` with ``{"id": …, "ok": true}``.
:class:`MqttIngest` keeps a persistent session (fixed client id, ``clean_session`` off)
and acknowledges a message to the broker only after its batch is stored: a crash or a
broker restart makes the broker deliver it again, and the ``(device, ts)`` unique key
stores it once. At least once on the wire, exactly once in the table.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from django.db import close_old_connections

from minsheng.core import clock
from minsheng.core.conf import setting

from .. import actions
from .chores import Chores
from .parse import Rejected, parse_topic
from .pipeline import Item, Pipeline
from .writer import StorageWriter

log = logging.getLogger("minsheng.sensors.ingest")  # one logger for the whole package
LULL_S = 0.002  # a batch is complete when no message came for this long


def topic_prefix() -> str:
    return str(setting("MINSHENG_SENSORS_TOPIC_PREFIX", "minsheng/sensors")).rstrip("/")


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        """``mqtt://[user:pass@]host[:1883]`` or ``mqtts://…[:8883]`` (TLS)."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
            raise ValueError(f"not an MQTT URL: {url}")
        tls = parts.scheme in ("mqtts", "ssl")
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or (8883 if tls else 1883),
            tls=tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    def __str__(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def make_client(
    client_id: str,
    *,
    clean_session: bool,
    address: BrokerAddress,
    username: str | None = None,
    password: str | None = None,
    manual_ack: bool = False,
) -> Any:
    import paho.mqtt.client as mqtt

    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=clean_session,
        protocol=mqtt.MQTTv311,
        manual_ack=manual_ack,
    )
    user = username or address.username
    if user:
        client.username_pw_set(user, password if password is not None else address.password)
    if address.tls:
        client.tls_set()
    client.reconnect_delay_set(min_delay=1, max_delay=10)
    return client


class MqttIngest:
    """The ingest process's MQTT side: a persistent session, messages batched, stored and
    judged, then acknowledged; commands published; periodic work on time.

    Unsharded it subscribes ``{prefix}/+/telemetry`` and ``{prefix}/+/ack``. With a shard
    of the pipeline it subscribes its own devices' exact topics instead, in chunks of
    :attr:`SUBSCRIBE_CHUNK`, and follows the registry as it reloads; only shard 0
    publishes commands."""

    SUBSCRIBE_CHUNK = 500  # topic filters per SUBSCRIBE/UNSUBSCRIBE packet

    def __init__(
        self,
        pipeline: Pipeline,
        address: BrokerAddress,
        *,
        client_id: str,
        prefix: str | None = None,
        username: str | None = None,
        password: str | None = None,
        batch_max: int = 5000,
        batch_wait: float = 0.02,
        overlap: bool = True,
    ) -> None:
        self.pipeline = pipeline
        if overlap and pipeline.writer is None:
            pipeline.writer = StorageWriter.for_shard(pipeline.shard)
        if overlap and pipeline.chores is None:
            pipeline.chores = Chores()
        # Batches stored (or being stored) but not yet acknowledged to the broker, in order.
        self.unacked: deque[tuple[Future[int] | None, list[tuple[int, int, int]]]] = deque()
        self.address = address
        self.prefix = prefix or topic_prefix()
        self.client_id = client_id
        self.batch_max = batch_max
        self.batch_wait = batch_wait
        self.inbox: queue.Queue[Any] = queue.Queue()
        self.connected = threading.Event()
        self.session_present: bool | None = None
        # Message ids are per connection: a message received before a reconnect is never
        # acknowledged after it (the broker delivers it again; storage stores it once).
        self.generation = 0
        self.stopping = False
        self.shard = pipeline.shard
        # Sharded: the devices whose topics are subscribed (shared with paho's thread,
        # which subscribes them all again on every connect).
        self._sub_lock = threading.Lock()
        self._subscribed: set[str] = set()
        self._synced_version = -1
        self.client = make_client(
            client_id,
            clean_session=False,
            address=address,
            username=username,
            password=password,
            manual_ack=True,
        )
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    def _on_connect(self, client: Any, _userdata: Any, flags: Any, reason: Any, _props: Any = None) -> None:
        if getattr(reason, "is_failure", False):
            log.error("broker refused the connection: %s", reason)
            return
        self.session_present = bool(getattr(flags, "session_present", False))
        self.generation += 1
        if self.shard.sharded:
            with self._sub_lock:
                devices = sorted(self._subscribed)
            self._send_subscriptions(devices, subscribe=True)
        else:
            client.subscribe([(f"{self.prefix}/+/telemetry", 1), (f"{self.prefix}/+/ack", 1)])
        self.connected.set()
        log.info(
            "connected to %s as %s (session present: %s)", self.address, self.client_id, self.session_present
        )

    def _topics(self, device_id: str) -> tuple[str, str]:
        return f"{self.prefix}/{device_id}/telemetry", f"{self.prefix}/{device_id}/ack"

    def _send_subscriptions(self, devices: Sequence[str], *, subscribe: bool) -> None:
        topics = [t for d in devices for t in self._topics(d)]
        for i in range(0, len(topics), self.SUBSCRIBE_CHUNK):
            chunk = topics[i : i + self.SUBSCRIBE_CHUNK]
            if subscribe:
                self.client.subscribe([(t, 1) for t in chunk])
            else:
                self.client.unsubscribe(chunk)

    def sync_subscriptions(self) -> tuple[int, int]:
        """Sharded: after the registry (re)loaded, subscribe the shard's new devices and
        unsubscribe the ones it no longer has. Returns (subscribed, unsubscribed). While
        disconnected only the set changes; the next connect subscribes all of it."""
        if not self.shard.sharded or self._synced_version == self.pipeline.registry_version:
            return 0, 0
        self._synced_version = self.pipeline.registry_version
        wanted = set(self.pipeline.devices)
        with self._sub_lock:
            new, gone = sorted(wanted - self._subscribed), sorted(self._subscribed - wanted)
            self._subscribed = wanted
        if self.connected.is_set():
            self._send_subscriptions(new, subscribe=True)
            self._send_subscriptions(gone, subscribe=False)
        if new or gone:
            log.info("shard %s: subscribed %d device(s), unsubscribed %d", self.shard, len(new), len(gone))
        return len(new), len(gone)

    def _on_disconnect(
        self, _client: Any, _userdata: Any, _flags: Any, reason: Any, _props: Any = None
    ) -> None:
        self.connected.clear()
        if self.stopping:
            log.info("disconnected from %s", self.address)
        else:
            log.warning("disconnected from %s (%s); reconnecting", self.address, reason)

    def _on_message(self, _client: Any, _userdata: Any, msg: Any) -> None:
        self.inbox.put((msg.topic, msg.payload, msg.mid, msg.qos, self.generation))

    def start(self) -> None:
        self.sync_subscriptions()
        self.client.connect_async(self.address.host, self.address.port, keepalive=30)
        self.client.loop_start()

    def stop(self) -> None:
        self.stopping = True
        self.client.disconnect()
        self.client.loop_stop()

    def drain(self, timeout: float) -> list[Any]:
        """Wait up to ``timeout`` for a message, then take what keeps coming: until
        ``batch_max``, ``batch_wait`` in all, or a 2 ms lull. The lull matters: a broker
        sends only so many unacknowledged QoS 1 messages (Mosquitto: 20 unless
        ``max_inflight_messages`` is raised), and they are acknowledged after storing, so
        waiting for more than the window holds would only add delay."""
        try:
            first = self.inbox.get(timeout=timeout)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self.batch_wait
        while len(batch) < self.batch_max:
            try:
                batch.append(self.inbox.get_nowait())
                continue
            except queue.Empty:
                pass
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                batch.append(self.inbox.get(timeout=min(left, LULL_S)))
            except queue.Empty:
                break
        return batch

    def handle(self, batch: Sequence[Any]) -> None:
        """Store and judge a batch, then acknowledge it to the broker, in order."""
        now_t = clock.now().timestamp()
        items: list[Item] = []
        acks: list[tuple[str, dict[str, Any]]] = []
        pipeline = self.pipeline
        for topic, payload, _mid, _qos, _gen in batch:
            try:
                device_id, kind = parse_topic(topic, self.prefix)
                try:
                    obj = json.loads(payload.decode() if isinstance(payload, bytes) else payload)
                except (ValueError, UnicodeDecodeError):
                    raise Rejected("malformed", f"not JSON from {device_id}") from None
            except Rejected as exc:
                pipeline.counters.add("mqtt", exc.reason, exc.detail)
                continue
            if kind == "telemetry":
                item = pipeline.accept(device_id, obj, now_t, "mqtt")
                if item is not None:
                    items.append(item)
            else:
                acks.append((device_id, obj))
        try:
            pipeline.process(items)
        except Exception:
            # Not acknowledged: the broker delivers the batch again after a reconnect.
            log.exception("could not store a batch of %d readings", len(items))
            self._give_up()
            return
        for device_id, obj in acks:
            self.handle_ack(device_id, obj)
        self.unacked.append((pipeline.last_write, [(m[2], m[3], m[4]) for m in batch if m[3]]))
        # Busy: let up to two batches be stored while the next is judged. Idle: acknowledge
        # now, so that the broker sends the next window of messages.
        self.settle(keep=2 if self.inbox.qsize() else 0)

    def settle(self, keep: int = 0) -> None:
        """Acknowledge, in order, the batches whose readings are stored; wait for the
        oldest while more than ``keep`` are outstanding."""
        while self.unacked:
            future, mids = self.unacked[0]
            if future is not None and not future.done() and len(self.unacked) <= keep:
                return
            try:
                if future is not None:
                    future.result()
            except Exception:
                log.exception("could not store a batch; it will be delivered again")
                self._give_up()
                return
            self.unacked.popleft()
            generation = self.generation
            for mid, qos, gen in mids:
                if gen == generation:
                    self.client.ack(mid, qos)

    def _give_up(self) -> None:
        """Drop every unacknowledged batch and reconnect: the broker sends them again."""
        self.unacked.clear()
        close_old_connections()
        self.client.disconnect()

    def handle_ack(self, device_id: str, obj: Any) -> None:
        if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
            self.pipeline.counters.add("mqtt", "malformed", f"ack from {device_id}")
            return
        position = obj.get("position")
        try:
            cmd = actions.acknowledge_command(
                device_id,
                obj["id"],
                ok=bool(obj.get("ok", True)),
                position=float(position) if isinstance(position, int | float) else None,
                message=str(obj.get("message", ""))[:200],
            )
        except Exception:
            log.exception("could not record the acknowledgement %s", obj)
            return
        if cmd is None:
            self.pipeline.counters.add("mqtt", "unknown_command", f"{device_id}: {obj['id']}"[:200])

    def publish_commands(self) -> int:
        """Publish pending commands (shard 0 only: one process claims and publishes them;
        the device's acknowledgement reaches the shard that owns it, and
        :func:`actions.acknowledge_command` works from any process)."""
        if not self.shard.leads or not self.connected.is_set():
            return 0
        cmds = actions.claim_pending_commands()
        for cmd in cmds:
            topic = f"{self.prefix}/{cmd.device.device_id}/command"
            self.client.publish(topic, json.dumps(actions.command_payload(cmd)), qos=1)
            log.info("command %s %s → %s", cmd.command_id, cmd.action, cmd.device.device_id)
        return len(cmds)

    def run(self, stop: threading.Event, *, http_inbound: bool = True) -> None:
        self.pipeline.load()
        self.pipeline.freeze()
        self.start()
        last_cmd = 0.0
        try:
            while not stop.is_set():
                batch = self.drain(timeout=0.1)
                if batch:
                    self.handle(batch)
                else:
                    self.settle()
                now = time.monotonic()
                if now - last_cmd >= 0.2:
                    last_cmd = now
                    try:
                        self.publish_commands()
                        if http_inbound:
                            self.pipeline.take_inbound()
                    except Exception:
                        log.exception("commands/inbound pass failed")
                        close_old_connections()
                self.pipeline.tick()
                self.sync_subscriptions()
        finally:
            try:
                self.settle()
            finally:
                self.pipeline.close()
                self.stop()
