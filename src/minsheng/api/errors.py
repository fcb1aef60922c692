"""What the API answers when something other than the request is wrong: JSON, never a
server's HTML page.

* The database is unreachable (down, restarting, failing over, or the connection dropped):
  ``503 Service Unavailable`` with ``Retry-After``, so that a client waits and retries
  instead of treating its request as refused. Nothing was written: every action is one
  transaction.
* Anything else unforeseen: ``500`` with a JSON body (the error is logged for the operator).

:func:`database_unavailable` answers inside django-ninja; :func:`server_error` is the
project's ``handler500`` and answers whatever escapes it (a middleware, say), as JSON under
``/api/`` and as Django's page elsewhere.
"""

from __future__ import annotations

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import server_error as html_server_error

from minsheng.core.conf import setting

log = logging.getLogger(__name__)

API_PREFIX = "/api/"
RETRY_AFTER_S = 5  # a database restart or fail-over is over in seconds
UNAVAILABLE = (OperationalError, InterfaceError)  # what a lost database raises


def retry_after() -> int:
    """Seconds a client should wait before retrying (``MINSHENG_API_RETRY_AFTER``)."""
    return max(1, setting("MINSHENG_API_RETRY_AFTER", RETRY_AFTER_S))


def unavailable_response() -> HttpResponse:
    response = JsonResponse(
        {"detail": "The service is briefly unavailable; retry after the time in Retry-After."},
        status=503,
    )
    response["Retry-After"] = str(retry_after())
    return response


def database_unavailable(exc: Exception) -> HttpResponse:
    log.warning("API answered 503: the database is unavailable (%s)", exc, exc_info=exc)
    return unavailable_response()


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: JSON under ``/api/`` (503 when the database is what failed), Django's
    page elsewhere. Called while the error is being handled, so ``sys.exc_info()`` holds it."""
    if not request.path.startswith(API_PREFIX):
        return html_server_error(request)
    if isinstance(sys.exc_info()[1], UNAVAILABLE):
        return unavailable_response()
    return JsonResponse({"detail": "Server error; the operator has been told."}, status=500)
