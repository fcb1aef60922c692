"""The screen's figures and map, kept per scope for a short time and refreshed behind the
request (stale-while-revalidate).

A figure over a city's open cases (the map's cells, the open count) reads every open case:
at 250,000 open cases that is a few hundred milliseconds however it is indexed. The screen
polls its figures and map every 30 s; so each answer is kept, per reader's scope, for
``MINSHENG_COMMAND_CACHE_S`` seconds (default 60; 0 computes on every request). A request
within the first quarter of that serves it as it is; a later one serves it too and
recomputes it in a thread of its own, so the next poll finds it new; an older one (or none)
is computed in the request. So a poll waits for a cache read, and what it shows is at most
about one poll interval old (the figures were polled every 60 s before they were kept, so a
change reaches the screen within a minute as before). The live feed is never kept.

Readers of one scope see the same cases (``visible_cases`` depends only on the role and the
unit for the screen's roles), so they share an entry: several screens of one sub-centre cost
one computation per interval.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import connections
from django.utils import translation

from minsheng.accounts.actors import Actor
from minsheng.cases.scoping import CITY_WIDE
from minsheng.core import clock
from minsheng.core.conf import setting

log = logging.getLogger("minsheng.command")

PREFIX = "command:kept:"


def max_age_s() -> int:
    return int(setting("MINSHENG_COMMAND_CACHE_S", 0) or 0)


def scope_key(actor: Actor) -> str:
    """The reader's scope: the city, or a role within a unit."""
    if actor.is_system or actor.role in CITY_WIDE:
        return "city"
    unit = actor.unit
    return f"{actor.role}:{unit.pk if unit is not None else 0}"


def kept(key: str, compute: Callable[[], Any]) -> Any:
    """``compute()``'s answer for ``key``, kept as the module says."""
    max_age = max_age_s()
    if max_age <= 0:
        return compute()
    lang = translation.get_language() or ""
    key = f"{key}:{lang}"  # the answer holds words in the reader's language
    now = clock.now().timestamp()
    entry = cache.get(PREFIX + key)
    if entry is not None:
        at, value = entry
        age = now - at
        if 0 <= age < max_age:
            if age >= max_age / 4 and cache.add(PREFIX + key + ":busy", 1, timeout=max_age):
                _start(_refresh, key, compute, max_age, lang)
            return value
    value = compute()
    cache.set(PREFIX + key, (now, value), timeout=max_age)
    return value


def _start(target: Callable[..., None], *args: Any) -> None:
    threading.Thread(target=target, args=args, name="command-kept", daemon=True).start()


def _refresh(key: str, compute: Callable[[], Any], max_age: int, lang: str) -> None:
    """Recompute in a thread, in the reader's language, on a connection of the thread's own
    (closed after)."""
    try:
        with translation.override(lang or None):
            store(key, compute, max_age)
    finally:
        connections.close_all()


def store(key: str, compute: Callable[[], Any], max_age: int) -> None:
    """Compute anew and keep the answer (the next request serves it)."""
    try:
        at = clock.now().timestamp()
        cache.set(PREFIX + key, (at, compute()), timeout=max_age)
    except Exception:  # the next request computes it in its turn
        log.exception("refreshing the screen's %s failed", key)
    finally:
        cache.delete(PREFIX + key + ":busy")
