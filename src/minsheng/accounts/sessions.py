"""How long a staff session lasts: it ends after ``MINSHENG_SESSION_IDLE_MINUTES`` without
the person doing anything, and at the latest ``MINSHENG_SESSION_MAX_HOURS`` after signing in
(0 turns either limit off). Time is ``core.clock.now()``, so tests drive it.

A request a page makes in the background (the bell polling every minute) is not activity:
its view is marked with :func:`background`, and an open tab left alone still ends. The moment
of the last activity is written at most once a minute, so a busy person's requests do not each
write the session. An ended session is signed out (and so logged by ``signins``); the request
goes on signed out, so the page's guard sends the person to the sign-in page (over HTMX by
``HX-Redirect``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

from minsheng.core import clock
from minsheng.core.conf import setting

from .signins import printable, where

log = logging.getLogger("minsheng.security")

SIGNED_IN_AT = "minsheng_signed_in_at"
SEEN_AT = "minsheng_seen_at"
WRITE_EVERY_S = 60  # the last activity is written at most this often


def background(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a view a page polls by itself: asking it does not keep a session alive."""
    view.background = True  # type: ignore[attr-defined]
    return view


def started(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    """On signing in (``user_logged_in``): the session's clocks start now."""
    at = clock.now().timestamp()
    request.session[SIGNED_IN_AT] = at
    request.session[SEEN_AT] = at


def _ended(session: Any, now: float) -> str | None:
    """Why the session has ended, or None while it is alive."""
    idle_s = setting("MINSHENG_SESSION_IDLE_MINUTES", 30) * 60
    max_s = setting("MINSHENG_SESSION_MAX_HOURS", 8) * 3600
    signed_in_at = session.get(SIGNED_IN_AT)
    seen_at = session.get(SEEN_AT)
    if max_s and signed_in_at is not None and now - signed_in_at > max_s:
        return "the working day's limit"
    if idle_s and seen_at is not None and now - seen_at > idle_s:
        return "idle"
    return None


class SessionLimitsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any) -> None:
        session = request.session
        if "_auth_user_id" not in session:
            return None
        now = clock.now().timestamp()
        reason = _ended(session, now)
        if reason is not None:
            log.info(
                "session ended (%s): user=%s %s",
                reason,
                printable(request.user.get_username()),
                where(request),
            )
            logout(request)
            return None
        session.setdefault(SIGNED_IN_AT, now)  # a session from before these limits
        seen_at = session.get(SEEN_AT)
        if not getattr(view, "background", False) and (seen_at is None or now - seen_at >= WRITE_EVERY_S):
            session[SEEN_AT] = now
        return None
