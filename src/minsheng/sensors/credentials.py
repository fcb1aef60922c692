"""How devices prove who they are.

* At the broker, each device logs in with username = its ``device_id`` and its own
  password. Minsheng stores the password in Mosquitto's own hash format (PBKDF2-SHA512,
  ``$7$…``), so :func:`mosquitto_files` can write the broker's ``password_file`` and an
  ``acl_file`` that lets a device publish only under its own topics. The embedded broker
  checks the same hashes (:mod:`minsheng.sensors.broker`).
* Over HTTP, a device or a gateway sends an API key (``X-Api-Key``); only its SHA-256 is
  stored, like personal API tokens.
* Minsheng's own processes (the ingest process, the demo simulator) log in to the
  embedded broker with passwords derived from ``SECRET_KEY``, so nothing extra has to be
  configured for the embedded default and nothing is written to disk.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from django.conf import settings

from minsheng.core import clock

from .models import Device, Gateway, SensorKey

KEY_PREFIX = "msk_"
PBKDF2_ITERATIONS = 10_000
SERVICE_USERS = ("minsheng-ingest", "minsheng-simulator")


# --- API keys for the HTTP batch endpoint ----------------------------------------------


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_api_key(
    *, device: Device | None = None, gateway: Gateway | None = None, name: str = "", raw: str | None = None
) -> str:
    """A new key for one device or one gateway. Only its hash is kept: show it once."""
    if (device is None) == (gateway is None):
        raise ValueError("a key belongs to exactly one device or one gateway")
    raw = raw or KEY_PREFIX + secrets.token_urlsafe(32)
    SensorKey.objects.create(
        device=device,
        gateway=gateway,
        name=name[:64],
        prefix=raw[:10],
        key_hash=hash_key(raw),
        created_at=clock.now(),
    )
    return raw


def key_for(raw: str) -> SensorKey | None:
    if not raw:
        return None
    key = (
        SensorKey.objects.select_related("device", "gateway")
        .filter(key_hash=hash_key(raw), revoked=False)
        .first()
    )
    if key is None:
        return None
    now = clock.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        SensorKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


def demo_gateway_key() -> str:
    """The demo simulator's HTTP key, derived from ``SECRET_KEY`` (never in production)."""
    return KEY_PREFIX + _derive("demo-gateway-key")


# --- broker passwords -----------------------------------------------------------------


def mosquitto_hash(password: str, *, salt: bytes | None = None, iterations: int = PBKDF2_ITERATIONS) -> str:
    """The ``$7$`` PBKDF2-SHA512 hash Mosquitto 2 reads from its password file."""
    salt = salt or secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def check_mosquitto_hash(password: str, encoded: str) -> bool:
    try:
        _empty, alg, iterations, salt, digest = encoded.split("$")
        if alg != "7":
            return False
        got = hashlib.pbkdf2_hmac("sha512", password.encode(), base64.b64decode(salt), int(iterations))
        return hmac.compare_digest(got, base64.b64decode(digest))
    except (ValueError, TypeError):
        return False


def set_mqtt_password(device: Device, raw: str | None = None) -> str:
    """Give the device a new broker password; returns it (shown once)."""
    raw = raw or secrets.token_urlsafe(18)
    device.mqtt_password_hash = mosquitto_hash(raw)
    device.save(update_fields=["mqtt_password_hash"])
    return raw


def _derive(purpose: str) -> str:
    mac = hmac.new(settings.SECRET_KEY.encode(), f"minsheng-sensors:{purpose}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()[:24]).decode().rstrip("=")


def service_password(username: str) -> str:
    """The embedded broker password of one of Minsheng's own processes."""
    return _derive(f"mqtt:{username}")


def check_login(username: str, password: str) -> str | None:
    """Who a broker login is: ``"service"``, ``"device"``, or ``None`` (refused)."""
    if not username or password is None:
        return None
    if username in SERVICE_USERS:
        return "service" if hmac.compare_digest(password, service_password(username)) else None
    encoded = (
        Device.objects.filter(device_id=username, active=True)
        .values_list("mqtt_password_hash", flat=True)
        .first()
    )
    if encoded and check_mosquitto_hash(password, encoded):
        return "device"
    return None


def mosquitto_files(prefix: str, service_logins: dict[str, str] | None = None) -> tuple[str, str]:
    """``(password_file, acl_file)`` for Mosquitto: every active device with a broker
    password, plus the given service logins (username → password) which may read and
    write everything under ``prefix``. Devices publish only their own telemetry and
    acknowledgements and read only their own commands."""
    lines = []
    for device_id, encoded in (
        Device.objects.filter(active=True)
        .exclude(mqtt_password_hash="")
        .values_list("device_id", "mqtt_password_hash")
    ):
        lines.append(f"{device_id}:{encoded}")
    acl = ["# Generated by Minsheng: devices under their own topics only.", ""]
    for user, password in (service_logins or {}).items():
        lines.append(f"{user}:{mosquitto_hash(password)}")
        acl += [f"user {user}", f"topic readwrite {prefix}/#", ""]
    acl += [
        "# every other login is a device; %u is its username (= device_id)",
        f"pattern write {prefix}/%u/telemetry",
        f"pattern write {prefix}/%u/ack",
        f"pattern read {prefix}/%u/command",
        "",
    ]
    return "\n".join(lines) + "\n", "\n".join(acl)
