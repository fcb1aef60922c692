"""Rate limits and the friction step of the public pages.

Limits (django-ratelimit, counted in the shared cache): per client address and per phone
number. Past a limit the answer is 429 with a plain message; nothing else is revealed.
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
import secrets
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest
from django_ratelimit.core import is_ratelimited

from minsheng.core import clock
from minsheng.core.conf import setting

SALT = "minsheng.public.friction"


def client_address(request: HttpRequest) -> str:
    """The client's address as the rate limits see it (``RATELIMIT_IP_META_KEY`` behind
    a proxy, else the connection's)."""
    meta_key = setting("RATELIMIT_IP_META_KEY", None)
    if isinstance(meta_key, str) and meta_key in request.META:
        return str(request.META[meta_key]).split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "")


def _address_hash(request: HttpRequest) -> str:
    return hashlib.sha256(f"{settings.SECRET_KEY}:{client_address(request)}".encode()).hexdigest()[:24]


def over_limit(request: HttpRequest, scope: str, *, phone: str = "") -> bool:
    """Count this attempt, per address and (when given) per phone; True past a limit."""
    ip_rate = setting("MINSHENG_PUBLIC_RATE_IP", "20/h")
    phone_rate = setting("MINSHENG_PUBLIC_RATE_PHONE", "5/10m")
    limited = is_ratelimited(request, group=f"public-{scope}-ip", key="ip", rate=ip_rate, increment=True)
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
