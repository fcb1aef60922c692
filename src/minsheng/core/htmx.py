"""What the HTMX headers say about a request (django-htmx's middleware reads them)."""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest, HttpResponse
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """A request as django-htmx's middleware (installed for every request) leaves it."""

    htmx: HtmxDetails


def htmx_of(request: HttpRequest) -> HtmxDetails:
    """``request.htmx``: true when HTMX sent the request."""
    return cast(HtmxHttpRequest, request).htmx


def partial(request: HttpRequest) -> bool:
    """An HTMX request for a fragment (not htmx restoring a page missing from its cache)."""
    htmx = htmx_of(request)
    return bool(htmx) and not htmx.history_restore_request


def hx_redirect(url: str) -> HttpResponse:
    """Tell HTMX to load ``url`` as a whole page instead of swapping the answer in."""
    response = HttpResponse(status=204)
    response["HX-Redirect"] = url
    return response
