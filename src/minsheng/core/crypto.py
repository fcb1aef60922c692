"""Personal data and secrets at rest (静态加密): encryption with keys from the environment,
rotated without downtime, and a keyed hash to find a value without decrypting anything.

* ``MINSHENG_DATA_KEYS`` — Fernet keys (AES-128-CBC with HMAC-SHA256, from
  ``cryptography``), comma-separated, newest first. The first encrypts; every one decrypts,
  so a new key is put in front, the processes restarted, ``minsheng rotatekeys`` run, and
  the old key taken out afterwards.
* ``MINSHENG_INDEX_KEYS`` — HMAC-SHA256 keys for the blind index (a phone number's keyed
  hash, ``Case.requester_phone_hash``), comma-separated, newest first. The first writes;
  look-ups ask for the hash under every key, so finding by phone keeps working while
  ``rotatekeys`` recomputes the column.

Without them (development and tests) one key of each kind is derived from ``SECRET_KEY``;
``minsheng check --deploy`` refuses that in production, where a changed ``SECRET_KEY``
would otherwise make every stored name and number unreadable.

Empty values are stored empty: that a request was anonymous is no secret, and "has no phone"
stays a plain query.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from .conf import setting

__all__ = [
    "InvalidToken",
    "blind_index",
    "blind_indexes",
    "decrypt",
    "encrypt",
    "generate_key",
    "keys_from_environment",
]


def _keys(name: str) -> tuple[str, ...]:
    """A key list from the setting or the environment: a comma-separated string, or a
    list in settings."""
    raw = setting(name, None) or ""
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    return tuple(k.strip() for k in items if k and k.strip())


def _derived(purpose: str) -> str:
    digest = hashlib.sha256(f"minsheng:{purpose}:{settings.SECRET_KEY}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def keys_from_environment() -> bool:
    """Whether both key lists are configured rather than derived from ``SECRET_KEY``."""
    return bool(_keys("MINSHENG_DATA_KEYS")) and bool(_keys("MINSHENG_INDEX_KEYS"))


def _data_keys() -> tuple[str, ...]:
    return _keys("MINSHENG_DATA_KEYS") or (_derived("data"),)


def _index_keys() -> tuple[str, ...]:
    return _keys("MINSHENG_INDEX_KEYS") or (_derived("index"),)


@functools.lru_cache(maxsize=8)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(k.encode()) for k in keys])
    except ValueError as exc:
        raise ValueError(
            "MINSHENG_DATA_KEYS must hold Fernet keys (32 url-safe base64-encoded bytes each, "
            "comma-separated): `minsheng rotatekeys --new-key` prints one"
        ) from exc


def generate_key() -> str:
    """A fresh key, fit for either list."""
    return Fernet.generate_key().decode()


def encrypt(value: str) -> str:
    """``value`` encrypted under the newest data key ('' stays '')."""
    if not value:
        return ""
    return _fernet(_data_keys()).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    """The text ``token`` holds, under any configured data key; ``InvalidToken`` when none
    opens it (a key taken out too soon, or a value written around this module)."""
    if not token:
        return ""
    return _fernet(_data_keys()).decrypt(token.encode()).decode()


def _hmac(key: str, value: str) -> str:
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()


def blind_index(value: str) -> str:
    """The keyed hash of ``value`` under the newest index key ('' stays ''). Without the
    key nobody can test a guessed phone number against the column."""
    if not value:
        return ""
    return _hmac(_index_keys()[0], value)


def blind_indexes(value: str) -> list[str]:
    """The keyed hash of ``value`` under every index key, for look-ups during a rotation."""
    if not value:
        return []
    return [_hmac(k, value) for k in _index_keys()]
