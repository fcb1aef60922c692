"""The audit of what staff change (操作审计): django-auditlog records every change to the
models the settings name (``AUDITLOG_INCLUDE_TRACKING_MODELS``: accounts, units, the list of
matters, channels, templates, places, devices, the duty roster …), from the admin or any
page, with who, when, from where, and each field's old and new value. Its rows are
append-only in the database (``cases`` migration ``0007_audit_append_only``) and read in the
admin ("Log entries").

Two things differ from auditlog's defaults: the address recorded is the one the rest of
Minsheng trusts (:func:`minsheng.core.clients.client_address`: ``X-Forwarded-For`` only from
a configured proxy, never a header any client may write), and a masked field (a secret, a
password hash, a URL carrying a token) is recorded as changed without any of its value.
"""

from __future__ import annotations

import contextlib
import ipaddress
from typing import Any

from auditlog.context import auditlog_value
from auditlog.middleware import AuditlogMiddleware
from django.http import HttpRequest

from .clients import client_address

MASK = "••••••"


def mask_secret(value: str) -> str:
    """What the audit keeps of a secret: whether there was one, nothing of it."""
    return MASK if value and value != "None" else ""


class AuditMiddleware(AuditlogMiddleware):
    """auditlog's middleware (actor, address and correlation id of each change), with the
    client's address taken as Minsheng's limits take it."""

    @staticmethod
    def _get_remote_addr(request: HttpRequest) -> Any:
        address = client_address(request)
        try:
            return str(ipaddress.ip_address(address))
        except ValueError:
            return None

    @staticmethod
    def _get_remote_port(request: HttpRequest) -> Any:
        return None


def attribute_to(user: Any) -> None:
    """The person behind the rest of this request's changes, when they are known only after
    the middleware ran (an API token is read by the API's authentication, after
    :class:`AuditMiddleware` recorded no one)."""
    with contextlib.suppress(LookupError):  # outside a request: nothing is being attributed
        auditlog_value.get()["actor"] = user
