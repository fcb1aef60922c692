"""The second factor (两步验证): a TOTP code from an authenticator app (django-otp).

Any staff member may turn it on for themselves; administrators (the administrator role,
superusers and whoever may use the Django admin) must have it where
``MINSHENG_SECOND_FACTOR_FOR_ADMINS`` is on, as it is by default in production.

A session must be verified by a code when the person has a confirmed device or must have
one: the sign-in page asks for the code with the password; a session begun elsewhere (the
Django admin's own sign-in page) is held by :class:`SecondFactorMiddleware` at the second
factor page until the code is given, or, for an administrator without a device, until one is
set up. Meanwhile the API refuses the session (403) and an HTMX request is sent to the page by
``HX-Redirect``. Whether a session is held is decided once, at sign-in, and kept in it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, resolve_url
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from minsheng.core.conf import setting
from minsheng.core.htmx import htmx_of, hx_redirect

from .models import Role
from .signins import printable

log = logging.getLogger("minsheng.security")
SESSION_KEY = "minsheng_second_factor"  # this session must be verified by a code
# What a held session may still reach.
OPEN_VIEWS = frozenset({"web:two_factor", "web:logout", "set_language"})


def is_administrator(user: Any) -> bool:
    profile = getattr(user, "profile", None)
    return bool(user.is_superuser or user.is_staff or (profile is not None and profile.role == Role.ADMIN))


def required(user: Any) -> bool:
    """Must ``user`` use a second factor?"""
    return setting("MINSHENG_SECOND_FACTOR_FOR_ADMINS", False) and is_administrator(user)


def device_of(user: Any, *, confirmed: bool = True) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("pk").first()


def check_code(device: TOTPDevice, code: str) -> bool:
    """Is ``code`` the device's current one (each code is accepted once; failures are
    throttled by django-otp, doubling the wait after each)?"""
    allowed, _details = device.verify_is_allowed()
    return bool(allowed and code.strip().isdigit() and device.verify_token(code.strip()))


def started(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    """On signing in (``user_logged_in``): note whether this session must be verified."""
    request.session[SESSION_KEY] = required(user) or device_of(user) is not None


def page_url(request: HttpRequest) -> str:
    """The second factor's page, with the way back to where the person was going."""
    htmx = htmx_of(request)
    back = (htmx.current_url_abs_path if htmx else None) or request.get_full_path()
    return (
        f"{resolve_url(setting('MINSHENG_SECOND_FACTOR_URL', 'web:two_factor'))}?{urlencode({'next': back})}"
    )


class SecondFactorMiddleware:
    """Hold a session that must be verified and is not (see the module)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view: Any, args: Any, kwargs: Any) -> HttpResponse | None:
        if not request.session.get(SESSION_KEY):
            return None
        user: Any = request.user
        if not user.is_authenticated or user.is_verified():
            return None
        match = request.resolver_match
        if match is not None and match.view_name in OPEN_VIEWS:
            return None
        if request.path.startswith("/api/"):
            return JsonResponse(
                {"detail": _("Give your second-factor code on the web page first.")}, status=403
            )
        if htmx_of(request):
            return hx_redirect(page_url(request))
        return redirect(page_url(request))


# --- turning it on and off (the person's own device) ---


class Refused(Exception):
    """A code or a request the second factor's page refuses; ``str()`` says why."""


def start(user: Any) -> TOTPDevice:
    """A new, unconfirmed device with a fresh secret, to show as a QR code; the one shown
    before, never confirmed, goes."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=_("Authenticator app"), confirmed=False)


def confirm(user: Any, code: str) -> TOTPDevice:
    """Turn the second factor on: ``code`` proves the app holds the secret just shown."""
    device = device_of(user, confirmed=False)
    if device is None:
        raise Refused(_("Start again: the key shown before is no longer valid."))
    if not check_code(device, code):
        log.warning("second factor refused (setting up): user=%s", printable(user.get_username()))
        raise Refused(_("That code is not right. Check the time on your phone and try again."))
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
    log.info("second factor turned on: user=%s", printable(user.get_username()))
    return device


def verify(user: Any, code: str) -> TOTPDevice:
    """The person's device, if ``code`` is its current code."""
    device = device_of(user)
    if device is None:
        raise Refused(_("You have no second factor to verify."))
    if not check_code(device, code):
        log.warning("second factor refused: user=%s", printable(user.get_username()))
        raise Refused(_("That code is not right. Check the time on your phone and try again."))
    return device


def remove(user: Any, code: str) -> None:
    """Turn the second factor off, with a current code; never where it is required."""
    if required(user):
        raise Refused(_("Administrators must keep a second factor."))
    verify(user, code)
    TOTPDevice.objects.filter(user=user).delete()
    log.info("second factor turned off: user=%s", printable(user.get_username()))
