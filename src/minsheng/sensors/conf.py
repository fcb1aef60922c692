"""The app's settings: a Django setting of the name wins, else the environment variable,
else the default, so that a deployment can set them either way (see docs/sensors.md)."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings


def setting(name: str, default: Any) -> Any:
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name)
    if value is None or value == "":
        return default
    return type(default)(value) if default is not None and not isinstance(value, type(default)) else value
