"""Deployment checks of Minsheng's own (``minsheng check --deploy``), beside Django's.

In production the keys that protect personal data at rest come from the environment: keys
derived from ``SECRET_KEY`` (the development fallback of :mod:`minsheng.core.crypto`) would
make every stored name and number unreadable the day ``SECRET_KEY`` is changed, and would put
both secrets in one place. A data key that is not a Fernet key stops the check too, instead
of the first request that reads a phone number.
"""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, Tags, register

from . import crypto
from .conf import setting


@register(Tags.security, deploy=True)
def keys_from_the_environment(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    if setting("MINSHENG_ENV", "development") != "production":
        return []
    if not crypto.keys_from_environment():
        return [
            Error(
                "MINSHENG_DATA_KEYS and MINSHENG_INDEX_KEYS are not both set: personal data would "
                "be encrypted with keys derived from SECRET_KEY.",
                hint="Set each to a key from `minsheng rotatekeys --new-key` (docs/OPERATIONS.md).",
                id="minsheng.E001",
            )
        ]
    try:
        crypto.encrypt("check")
    except ValueError as exc:
        return [Error(str(exc), id="minsheng.E002")]
    return []
