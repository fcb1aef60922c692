"""``minsheng simulate-devices``: the spelling the docs use for ``simulate_devices``."""

from .simulate_devices import Command  # noqa: F401
