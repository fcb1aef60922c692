"""``minsheng sensor-credentials``: the spelling the docs use."""

from .sensor_credentials import Command  # noqa: F401
