"""The city's numbers for 110 ↔ 12345 transfers, read through :func:`minsheng.core.conf.setting`
(a Django setting, else the environment, else the default here):

* ``MINSHENG_TRANSFER_110_SECRET`` — the secret shared with 110 that signs its requests;
  without it the 110 endpoints refuse everything (503).
* ``MINSHENG_TRANSFER_110_UNIT`` (``police-110``) — the unit that stands for 110 in the outbox:
  its webhook channel (admin → Unit channels) is where decisions, outcomes and transfers to
  110 are posted, with the outbox's retries.
* ``MINSHENG_TRANSFER_MAX_SKEW_S`` (300) — how far a request's timestamp may lie from our clock.
* ``MINSHENG_TRANSFER_RECEIVE_MINUTES`` (5) — the clock for the centre to accept or return a
  transfer from 110 (wall time: both work around the clock).
* ``MINSHENG_TRANSFER_RECEIPT_MINUTES`` (10) — the clock for 110 to acknowledge a transfer to it.
"""

from __future__ import annotations

import datetime as dt

from minsheng.accounts.models import Role
from minsheng.core.conf import setting

# Who receives transfers from 110 and hands police matters to 110: the centre.
CENTRE_ROLES = frozenset({Role.OPERATOR, Role.CITY_DISPATCHER, Role.ADMIN})


def secret() -> str:
    return str(setting("MINSHENG_TRANSFER_110_SECRET", ""))


def police_unit_code() -> str:
    return str(setting("MINSHENG_TRANSFER_110_UNIT", "police-110"))


def max_skew() -> dt.timedelta:
    return dt.timedelta(seconds=float(setting("MINSHENG_TRANSFER_MAX_SKEW_S", 300)))


def receive_limit() -> dt.timedelta:
    return dt.timedelta(minutes=float(setting("MINSHENG_TRANSFER_RECEIVE_MINUTES", 5)))


def receipt_limit() -> dt.timedelta:
    return dt.timedelta(minutes=float(setting("MINSHENG_TRANSFER_RECEIPT_MINUTES", 10)))
