"""``minsheng simulate-calls``: the spelling the docs use for ``simulate_calls``."""

from .simulate_calls import Command  # noqa: F401
