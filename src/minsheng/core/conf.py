"""The one way Minsheng reads a setting of its own (``MINSHENG_*``, ``MQTT_URL``, …).

``setting(name, default)`` looks in two places, in order: the Django setting of that name,
then the environment variable of that name (12-factor: a deployment may set either). A value
that is missing, ``None`` or the empty string counts as not given, wherever it comes from;
when neither place gives one, the answer is ``default``. A value is converted to the
default's type (a boolean from the environment is true for ``1``, ``true``, ``yes``, ``on``);
with a default of ``None`` it is returned as found.

Django's own settings (``SECRET_KEY``, ``TIME_ZONE``, ``AUTH_USER_MODEL``, …) are always
defined and are read as attributes of ``django.conf.settings``.
"""

from __future__ import annotations

import os
from typing import Any, TypeVar, overload

from django.conf import settings

T = TypeVar("T")

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})


def _given(value: Any) -> bool:
    return value is not None and value != ""


@overload
def setting(name: str, default: None) -> Any: ...
@overload
def setting(name: str, default: T) -> T: ...
def setting(name: str, default: Any) -> Any:
    """The setting ``name`` from Django settings, else the environment, else ``default``."""
    value: Any = getattr(settings, name, None)
    if not _given(value):
        value = os.environ.get(name)
    if not _given(value):
        return default
    if default is None or isinstance(value, type(default)):
        return value
    if isinstance(default, bool):
        return value.strip().lower() in TRUE_WORDS if isinstance(value, str) else bool(value)
    return type(default)(value)
