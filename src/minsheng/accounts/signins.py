"""The record of signing in: one line per event on the ``minsheng.security`` logger.

django-axes keeps the rows (``AccessLog``: each sign-in with its address, browser and
sign-out time; ``AccessFailureLog``: each failure; ``AccessAttempt``: the running count that
locks an account), shown read-only in the admin. These receivers, connected in
``AccountsConfig.ready()``, write the same events as log lines, which production appends to
``MINSHENG_SECURITY_LOG`` and ships off the machine, so the trail survives anyone who can
write to the database. A password or code is never written; a user name is written with its
control characters replaced, so no one can forge a line by choosing one.
"""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest

from minsheng.core.clients import client_address

log = logging.getLogger("minsheng.security")


def printable(value: Any, limit: int = 150) -> str:
    """``value`` as one short line: control characters become ``?``."""
    text = str(value if value is not None else "-")[:limit]
    return "".join(ch if ch.isprintable() else "?" for ch in text) or "-"


def where(request: HttpRequest | None) -> str:
    """The client's address and the path, for a line of the log."""
    if request is None or not getattr(request, "META", None):
        return "address=- path=-"
    return f"address={printable(client_address(request) or '-')} path={printable(request.path)}"


def signed_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    log.info("signed in: user=%s %s", printable(user.get_username()), where(request))


def sign_in_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    log.warning("sign-in failed: user=%s %s", printable(credentials.get("username")), where(request))


def signed_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    name = user.get_username() if user is not None else "-"
    log.info("signed out: user=%s %s", printable(name), where(request))


def locked_out(sender: Any, request: HttpRequest | None, username: str | None, **kwargs: Any) -> None:
    log.warning("locked out: user=%s %s", printable(username), where(request))


def connect() -> None:
    """Called once from ``AccountsConfig.ready()``."""
    from axes.signals import user_locked_out
    from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

    user_logged_in.connect(signed_in, dispatch_uid="minsheng.signins.signed_in")
    user_login_failed.connect(sign_in_failed, dispatch_uid="minsheng.signins.sign_in_failed")
    user_logged_out.connect(signed_out, dispatch_uid="minsheng.signins.signed_out")
    user_locked_out.connect(locked_out, dispatch_uid="minsheng.signins.locked_out")
