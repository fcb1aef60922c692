"""The embedded MQTT broker: amqtt (pure Python), started inside ``minsheng sensors
--embedded`` when no ``MQTT_URL`` names the city's broker, so that the default setup needs
nothing installed by hand.

It is for a laptop and the demo: sessions live in memory (a broker restart forgets them;
Mosquitto with ``persistence true`` does not), and one asyncio loop carries all traffic.
Logins are checked like at a production broker: devices with their own password (the
hashes in the registry), Minsheng's processes with passwords derived from ``SECRET_KEY``;
anonymous logins are refused. Devices may use only their own topics.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.db import close_old_connections, connections

from . import credentials

log = logging.getLogger("minsheng.sensors.broker")

try:  # amqtt is optional: without it the embedded default is the HTTP batch endpoint.
    from amqtt.broker import Broker
    from amqtt.contexts import Action
    from amqtt.plugins.base import BaseAuthPlugin, BaseTopicPlugin

    AVAILABLE = True
except ImportError:  # pragma: no cover - depends on the installation
    AVAILABLE = False
    BaseAuthPlugin = BaseTopicPlugin = object  # type: ignore[assignment,misc]

CACHE_SECONDS = 60.0
_cache: dict[tuple[str, str], tuple[float, str | None]] = {}
_cache_lock = threading.Lock()


def _check(username: str, password: str) -> str | None:
    key = (username, password)
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None and now - hit[0] < CACHE_SECONDS:
            return hit[1]
    close_old_connections()
    who = credentials.check_login(username, password)
    with _cache_lock:
        if len(_cache) > 50_000:
            _cache.clear()
        _cache[key] = (now, who)
    return who


class MinshengAuthPlugin(BaseAuthPlugin):  # type: ignore[misc,valid-type]
    """Devices log in as their ``device_id``; Minsheng's processes as service users."""

    @dataclass
    class Config:
        pass

    async def authenticate(self, *, session: Any) -> bool:
        username = session.username or ""
        password = session.password or ""
        if isinstance(password, bytes):
            password = password.decode(errors="replace")
        who = await sync_to_async(_check, thread_sensitive=True)(username, password)
        if who is None:
            log.warning("broker login refused for %r", username)
            return False
        return True


class MinshengTopicPlugin(BaseTopicPlugin):  # type: ignore[misc,valid-type]
    """The ACL: a device publishes its own telemetry and acknowledgements and reads its own
    commands; service users may use everything under the prefix."""

    @dataclass
    class Config:
        prefix: str = "minsheng/sensors"

    async def topic_filtering(
        self, *, session: Any = None, topic: str | None = None, action: Any = None
    ) -> bool:
        if session is None or topic is None:
            return False
        prefix = self.config.prefix
        user = session.username or ""
        if user in credentials.SERVICE_USERS:
            return topic.startswith(prefix + "/") or topic.startswith("$SYS")
        own = f"{prefix}/{user}/"
        if action == Action.PUBLISH:
            return topic in (own + "telemetry", own + "ack")
        # Subscribing to and receiving its own commands (filters must not reach others').
        return topic == own + "command"


class EmbeddedBroker:
    """amqtt in a background thread with its own event loop."""

    def __init__(self, host: str = "127.0.0.1", port: int = 18830, prefix: str = "minsheng/sensors") -> None:
        if not AVAILABLE:
            raise RuntimeError("amqtt is not installed")
        self.host, self.port, self.prefix = host, port, prefix
        self._loop: asyncio.AbstractEventLoop | None = None
        self._broker: Any = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def config(self) -> dict[str, Any]:
        return {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {
                "minsheng.sensors.broker.MinshengAuthPlugin": {},
                "minsheng.sensors.broker.MinshengTopicPlugin": {"prefix": self.prefix},
            },
        }

    def start(self, timeout: float = 10.0) -> None:
        self._thread = threading.Thread(target=self._run, name="embedded-mqtt", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("the embedded broker did not start in time")
        if self._error is not None:
            raise RuntimeError(f"the embedded broker did not start: {self._error}")

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)

        async def main() -> None:
            try:
                self._broker = Broker(self.config(), loop=loop)
                await self._broker.start()
            except BaseException as exc:
                self._error = exc
                self._ready.set()
                return
            self._ready.set()

        loop.run_until_complete(main())
        if self._error is None:
            loop.run_forever()
        loop.close()

    def stop(self, timeout: float = 5.0) -> None:
        loop, broker = self._loop, self._broker
        if loop is None or broker is None or not loop.is_running():
            return

        async def shutdown() -> None:
            try:
                await broker.shutdown()
            finally:
                try:
                    # The logins were checked in asgiref's sync thread: its connection
                    # would outlive the broker (and keep a test database from dropping).
                    await sync_to_async(connections.close_all, thread_sensitive=True)()
                finally:
                    loop.stop()

        asyncio.run_coroutine_threadsafe(shutdown(), loop)
        if self._thread is not None:
            self._thread.join(timeout)
