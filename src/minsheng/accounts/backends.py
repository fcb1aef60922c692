"""Sign-in lockout (django-axes) as the first authentication backend.

``LockoutBackend`` is django-axes' standalone backend: it refuses an account locked after
too many failed sign-ins before any password is checked, at ``/login/``, ``/admin/login/``
and wherever Django's ``authenticate()`` is called with the request. Failures are counted
by django-axes' signal handlers; ``settings.AXES_*`` say how many and for how long.

The one difference: ``authenticate()`` without a request (the test client's ``login()``,
a script) is still refused for a locked account, instead of failing for want of a
request. Such a call has no client to count a failure against, so it is never counted; every
sign-in a person makes goes through a page, with its request.
"""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.http import HttpRequest


class LockoutBackend(AxesStandaloneBackend):
    def authenticate(  # type: ignore[override]
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        return super().authenticate(
            request if request is not None else HttpRequest(), username, password, **kwargs
        )
