"""The city's numbers for calls, read through :func:`minsheng.core.conf.setting` (a Django
setting, else the environment, else the default here):

* ``MINSHENG_CTI_SECRET`` — the secret shared with the telephone system that signs its
  events; without it the webhook refuses every event (503).
* ``MINSHENG_CTI_MAX_SKEW_S`` (300) — how far an event's timestamp may lie from our clock.
* ``MINSHENG_CALLBACK_MINUTES`` (30) — the callback clock: a missed call is called back
  within this many minutes (wall time: the hotline works around the clock).
* ``MINSHENG_CALLBACK_ATTEMPTS`` (3) and ``MINSHENG_CALLBACK_RETRY_MINUTES`` (20) — a
  callback that does not reach the caller is tried again after the interval, and closes as
  unreachable after that many attempts.
* ``MINSHENG_CALL_RING_TIMEOUT_S`` (600) — a call still ringing this long after it rang
  (its hang-up never came) counts as missed.
"""

from __future__ import annotations

import datetime as dt

from minsheng.accounts.models import Role
from minsheng.core.conf import setting

# Who works the callback queue and is shown a caller's full number: the centre's roles.
CALLBACK_ROLES = frozenset({Role.OPERATOR, Role.CITY_DISPATCHER, Role.ADMIN})
# Who sees the incoming call at a seat: those who take calls and register requests.
SEAT_ROLES = frozenset({Role.OPERATOR, Role.CITY_DISPATCHER, Role.ADMIN})


def cti_secret() -> str:
    return str(setting("MINSHENG_CTI_SECRET", ""))


def max_skew() -> dt.timedelta:
    return dt.timedelta(seconds=setting("MINSHENG_CTI_MAX_SKEW_S", 300))


def callback_limit() -> dt.timedelta:
    return dt.timedelta(minutes=setting("MINSHENG_CALLBACK_MINUTES", 30))


def callback_attempts() -> int:
    return max(1, setting("MINSHENG_CALLBACK_ATTEMPTS", 3))


def callback_retry() -> dt.timedelta:
    return dt.timedelta(minutes=setting("MINSHENG_CALLBACK_RETRY_MINUTES", 20))


def ring_timeout() -> dt.timedelta:
    return dt.timedelta(seconds=setting("MINSHENG_CALL_RING_TIMEOUT_S", 600))
