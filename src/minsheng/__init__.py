"""Minsheng (民声): one closed loop for a city's public requests."""

__version__ = "0.1.0"
