"""The provincial platform's settings, read through :func:`minsheng.core.conf.setting`:

* ``MINSHENG_PROVINCE_SECRET`` — the secret shared with the provincial platform, both ways:
  it signs the cases it posts to us and our polling requests; without it the webhook refuses
  everything (503) and nothing is polled.
* ``MINSHENG_PROVINCE_URL`` — the platform's base URL for polling (``GET {url}/cases?since=``);
  empty: no polling.
* ``MINSHENG_PROVINCE_UNIT`` (``province-12345``) — the unit that stands for the platform in
  the outbox: its webhook channel is where status goes back.
* ``MINSHENG_PROVINCE_POLL_S`` (60) — how often the worker polls.
* ``MINSHENG_PROVINCE_MAX_SKEW_S`` (300) — how far a request's timestamp may lie from our clock.
"""

from __future__ import annotations

import datetime as dt

from minsheng.core.conf import setting


def secret() -> str:
    return str(setting("MINSHENG_PROVINCE_SECRET", ""))


def base_url() -> str:
    return str(setting("MINSHENG_PROVINCE_URL", "")).rstrip("/")


def unit_code() -> str:
    return str(setting("MINSHENG_PROVINCE_UNIT", "province-12345"))


def poll_every() -> dt.timedelta:
    return dt.timedelta(seconds=float(setting("MINSHENG_PROVINCE_POLL_S", 60)))


def max_skew() -> dt.timedelta:
    return dt.timedelta(seconds=float(setting("MINSHENG_PROVINCE_MAX_SKEW_S", 300)))
