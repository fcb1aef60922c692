"""Rate limits, the follow page's guess limit and the friction step of the public pages.

Limits (django-ratelimit, counted in the shared cache): per client address and per phone
number. Past a limit the answer is 429 with a plain message; nothing else is revealed. The
client is who ``core.clients.client_address`` says (behind a trusted proxy, the address
the proxy saw).

The follow page's guess limit (a case number and the last four digits of a phone) is
counted in the database instead (``GuessCount``), with one atomic statement per count, so
that it holds on any cache and across processes: per client (``MINSHENG_TRACK_CLIENT_FAILURES``
failed look-ups per ``MINSHENG_TRACK_CLIENT_WINDOW`` seconds, 20 per quarter of an hour) and
per case number (``MINSHENG_TRACK_CASE_FAILURES`` per ``MINSHENG_TRACK_CASE_WINDOW``, 10 a
day), whoever guesses. A guess takes its place in both counts before it is checked, so
clients racing each other can never pass the limit; a look-up that finds the case gives its
place back, so a requester who knows their digits never uses up their address's allowance.
A number that does not exist is counted like one that does (no existence oracle). A case
whose own limit is reached cannot be looked up by its number for the rest of the window; its
requester still has the secret link sent to them, and 12345.
django-ratelimit is used as a library, not listed in INSTALLED_APPS: its system check
refuses the file cache of a development install. In production the cache must be Redis
(``CACHE_URL``), whose increments are atomic across processes.

The friction step, for bursts of anonymous reports from one address, is a *wait*, not a
puzzle: after ``MINSHENG_FRICTION_AFTER`` anonymous reports from an address within the
window, that address's report form carries a signed, single-use token stamped with the
time it was issued, and a report is accepted only ``MINSHENG_FRICTION_WAIT`` seconds or
more after that. Why this rather than a CAPTCHA or proof-of-work:

* it asks nothing of the person's eyes, ears, hands or reading (no distorted letters, no
  pictures to pick), so screen-reader and switch users pass it exactly as others do;
* it works without JavaScript (the page's script only shows a countdown);
* a person takes longer than the wait to describe a problem anyway, so normally nobody
  notices it; a script sending bursts is slowed to one report per wait per token, and each
  token is tied to the address and usable once, on top of the hard per-address limit.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import connection, transaction
from django.http import HttpRequest
from django_ratelimit.core import is_ratelimited

from minsheng.core import clock
from minsheng.core.clients import client_key
from minsheng.core.conf import setting

from .models import GuessCount

SALT = "minsheng.public.friction"


def _address_hash(request: HttpRequest) -> str:
    return hashlib.sha256(f"{settings.SECRET_KEY}:{client_key(request)}".encode()).hexdigest()[:24]


def over_limit(request: HttpRequest, scope: str, *, phone: str = "") -> bool:
    """Count this attempt, per address and (when given) per phone; True past a limit."""
    ip_rate = setting("MINSHENG_PUBLIC_RATE_IP", "20/h")
    phone_rate = setting("MINSHENG_PUBLIC_RATE_PHONE", "5/10m")
    limited = is_ratelimited(
        request,
        group=f"public-{scope}-ip",
        key=lambda _g, r: client_key(r),
        rate=ip_rate,
        increment=True,
    )
    if phone:
        limited = (
            is_ratelimited(
                request,
                group=f"public-{scope}-phone",
                key=lambda _g, _r: phone,
                rate=phone_rate,
                increment=True,
            )
            or limited
        )
    return limited


# --- the follow page's guess limit ------------------------------------------------------


def _limits() -> dict[str, tuple[int, int]]:
    """(failed look-ups allowed, window in seconds) per kind of key."""
    return {
        "client": (
            setting("MINSHENG_TRACK_CLIENT_FAILURES", 20),
            setting("MINSHENG_TRACK_CLIENT_WINDOW", 15 * 60),
        ),
        "case": (
            setting("MINSHENG_TRACK_CASE_FAILURES", 10),
            setting("MINSHENG_TRACK_CASE_WINDOW", 24 * 3600),
        ),
    }


def _guess_keys(request: HttpRequest, number: str) -> dict[str, str]:
    def keyed(kind: str, value: str) -> str:
        mac = hmac.new(settings.SECRET_KEY.encode(), f"track:{kind}:{value}".encode(), hashlib.sha256)
        return f"{kind}:{mac.hexdigest()[:48]}"

    return {"client": keyed("client", client_key(request)), "case": keyed("case", number.strip().upper())}


def _count(key: str, window: int, longest: int) -> int:
    """Add one to ``key``'s count in its current window and answer the new count, in one
    statement the database runs atomically (a window past its end starts again at 1)."""
    now_s = int(clock.now().timestamp())
    qn = connection.ops.quote_name
    table, k, n, started = (qn(x) for x in (GuessCount._meta.db_table, "key", "count", "started"))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE ({k} = %s AND {started} <= %s) OR {started} <= %s",  # noqa: S608
            [key, now_s - window, now_s - longest],
        )
        cursor.execute(
            f"INSERT INTO {table} ({k}, {n}, {started}) VALUES (%s, 1, %s) "  # noqa: S608
            f"ON CONFLICT ({k}) DO UPDATE SET {n} = {table}.{n} + 1 RETURNING {n}",
            [key, now_s],
        )
        row = cursor.fetchone()
    return int(row[0])


def take_guess(request: HttpRequest, number: str) -> str:
    """Count one look-up of case ``number`` by this client, before it is checked. Answers
    ``""`` when it may go ahead, else which limit stops it: ``"client"`` or ``"case"``.
    A client past its own limit is not counted against the case."""
    limits = _limits()
    longest = max(window for _n, window in limits.values())
    keys = _guess_keys(request, number)
    for kind in ("client", "case"):
        allowed, window = limits[kind]
        if _count(keys[kind], window, longest) > allowed:
            return kind
    return ""


def give_back_guess(request: HttpRequest, number: str) -> None:
    """A look-up that found its case: it counts against neither the client nor the case."""
    qn = connection.ops.quote_name
    table, k, n = (qn(x) for x in (GuessCount._meta.db_table, "key", "count"))
    with connection.cursor() as cursor:
        for key in _guess_keys(request, number).values():
            cursor.execute(f"UPDATE {table} SET {n} = {n} - 1 WHERE {k} = %s AND {n} > 0", [key])  # noqa: S608


# --- friction for anonymous bursts ------------------------------------------------------


def _count_key(request: HttpRequest) -> str:
    return f"public-anon:{_address_hash(request)}"


def anonymous_count(request: HttpRequest) -> int:
    return int(cache.get(_count_key(request), 0))


def note_anonymous(request: HttpRequest) -> None:
    """One more anonymous report from this address (the window starts at the first)."""
    key = _count_key(request)
    window = friction_window()
    if not cache.add(key, 1, window):
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, window)


def needs_friction(request: HttpRequest) -> bool:
    return anonymous_count(request) >= setting("MINSHENG_FRICTION_AFTER", 3)


def wait_seconds() -> int:
    return setting("MINSHENG_FRICTION_WAIT", 15)


def friction_window() -> int:
    """Seconds over which anonymous reports from one address are counted."""
    return setting("MINSHENG_FRICTION_WINDOW", 3600)


def issue_token(request: HttpRequest) -> str:
    payload = {"t": clock.now().timestamp(), "n": secrets.token_urlsafe(12), "a": _address_hash(request)}
    return signing.dumps(payload, salt=SALT)


def check_token(request: HttpRequest, token: str) -> tuple[bool, float]:
    """(passed, seconds still to wait). A token from another address, reused, forged or
    older than the window does not pass."""
    window = friction_window()
    try:
        payload: dict[str, Any] = signing.loads(token or "", salt=SALT, max_age=window)
    except signing.BadSignature:
        return False, float(wait_seconds())
    if payload.get("a") != _address_hash(request):
        return False, float(wait_seconds())
    waited = clock.now().timestamp() - float(payload.get("t", 0))
    if waited < wait_seconds():
        return False, wait_seconds() - waited
    if not cache.add(f"public-anon-used:{payload.get('n')}", 1, window):
        return False, float(wait_seconds())
    return True, 0.0
