"""The one way a view finds who is asking, and keeps out whoever may not come in.

``actor_of(request)`` is the :class:`Actor` behind a request: the API's authenticated user
(a token's or the session's, set by django-ninja as ``request.auth``), else the session's.

``@signed_in()`` guards a page for anyone signed in, ``@signed_in(roles, refuse=...)`` for
people with one of ``roles``. The view is called as ``view(request, actor, *args)``.

* Not signed in: the sign-in page, with the way back. An HTMX request gets an
  ``HX-Redirect`` to it, so the sign-in page is loaded whole, not swapped into a fragment.
* Signed in without one of ``roles``: ``refuse(request, actor)`` when given (a page of the
  app that says why, a redirect to the person's own workbench, or ``Http404`` raised where a
  page must not be known to exist), else 403. An HTMX request is never answered with a
  redirect: a refusal that would redirect is a plain 403.

What a person may see or do on a case is not decided here but by ``visible_cases`` and
the named actions; this only keeps strangers and the wrong roles off whole pages.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import resolve_url
from django.utils.http import urlencode

from minsheng.core.htmx import htmx_of, hx_redirect

from .actors import Actor
from .models import Role

# Everyone with a role in Minsheng (a signed-in user without one has none).
ANY_ROLE = frozenset(Role.values)

Refusal = Callable[[HttpRequest, Actor], HttpResponse]


def actor_of(request: HttpRequest) -> Actor:
    """Who is asking: the API's authenticated user if any, else the session's user."""
    auth = getattr(request, "auth", None)  # set by django-ninja's authentication
    return Actor.of(auth if auth is not None else request.user)


def _sign_in(request: HttpRequest) -> HttpResponse:
    htmx = htmx_of(request)
    if htmx:
        back = htmx.current_url_abs_path or resolve_url(settings.LOGIN_REDIRECT_URL)
        return hx_redirect(f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': back})}")
    return redirect_to_login(request.get_full_path())


def _refuse(request: HttpRequest, actor: Actor, refuse: Refusal | None) -> HttpResponse:
    response = refuse(request, actor) if refuse is not None else HttpResponseForbidden()
    if htmx_of(request) and 300 <= response.status_code < 400:
        return HttpResponseForbidden()
    return response


def signed_in(roles: Collection[str] | None = None, *, refuse: Refusal | None = None) -> Callable:
    """Guard a view: signed in, and with one of ``roles`` when given (see the module)."""

    def wrap(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if not request.user.is_authenticated:
                return _sign_in(request)
            actor = actor_of(request)
            if roles is not None and actor.role not in roles:
                return _refuse(request, actor, refuse)
            return view(request, actor, *args, **kwargs)

        return inner

    return wrap
