"""The person's own account: the second factor's page (``/account/two-factor/``).

One page does the three things a person does with the second factor: turn it on (scan the
QR code, give the first code), give the code for a session begun without it (the Django
admin's sign-in page), and turn it off. The rules, and the record of each, are in
``accounts.second_factor``.
"""

from __future__ import annotations

from base64 import b32encode
from typing import Any

import segno
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django_otp import login as otp_login

from minsheng.accounts import second_factor
from minsheng.accounts.actors import Actor
from minsheng.accounts.guards import signed_in

from .forms import CodeForm


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return resolve_url("web:home")


def _key_groups(device: Any) -> str:
    """The secret as the person types it into an app that cannot scan: groups of four."""
    key = b32encode(device.bin_key).decode()
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


@signed_in()
def two_factor(request: HttpRequest, actor: Actor) -> HttpResponse:
    user = request.user
    error = ""
    if request.method == "POST":
        form = CodeForm(request.POST)
        if form.is_valid():
            step, code = form.cleaned_data["step"], form.cleaned_data["code"]
            try:
                if step == "verify":
                    otp_login(request, second_factor.verify(user, code))
                    return redirect(_next(request))
                if step == "confirm":
                    otp_login(request, second_factor.confirm(user, code))
                    request.session[second_factor.SESSION_KEY] = True
                    return redirect(_next(request))
                second_factor.remove(user, code)
                request.session[second_factor.SESSION_KEY] = second_factor.required(user)
                return redirect("web:two_factor")
            except second_factor.Refused as refused:
                error = str(refused)
        else:
            error = _("Enter the six-digit code from your authenticator app.")
    device = second_factor.device_of(user)
    verified = bool(user.is_verified())  # type: ignore[union-attr]
    context = {
        "device": device,
        "verified": verified,
        "required": second_factor.required(user),
        "next": _next(request),
        "error": error,
    }
    if device is None:
        # A refused first code keeps the key the person just scanned; a fresh visit gets a new one.
        new = request.method == "POST" and second_factor.device_of(user, confirmed=False)
        new = new or second_factor.start(user)
        qr = segno.make(new.config_url, error="m").svg_inline(
            scale=4, title=_("QR code for your authenticator app")
        )
        context.update(new=new, key=_key_groups(new), qr=mark_safe(qr))  # noqa: S308  (segno's own SVG, no input of ours)
    return render(request, "web/two_factor.html", context, status=422 if error else 200)
