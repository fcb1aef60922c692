"""Open311 GeoReport v2's endpoints (``/open311/v2/``), each in JSON or XML by the path's
extension. Each translates the GeoReport parameters, calls one query or action, and
translates the answer; ``docs/open311.md`` is the contract."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from minsheng.core import clock

from . import actions, presenters, queries
from .render import answer, error

View = Callable[..., HttpResponse]


class _Refused(Exception):
    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status = status
        self.description = description


def _open311(view: View) -> View:
    """Checks ``jurisdiction_id`` (404 for one this endpoint does not serve) and answers a
    refusal in the standard's error shape and the request's format."""

    @wraps(view)
    def inner(request: HttpRequest, *args: Any, fmt: str, **kwargs: Any) -> HttpResponse:
        params = request.POST if request.method == "POST" else request.GET
        served = queries.jurisdiction()
        asked = params.get("jurisdiction_id", "")
        if served and asked and asked != served:
            return error(fmt, 404, _("jurisdiction_id %(id)s is not served here.") % {"id": asked})
        try:
            return view(request, *args, fmt=fmt, **kwargs)
        except _Refused as refused:
            return error(fmt, refused.status, refused.description)
        except actions.BadRequest as bad:
            return error(fmt, 400, f"{bad.field}: {bad.message}")

    return inner


def _key(request: HttpRequest, *, required: bool) -> Any:
    params = request.POST if request.method == "POST" else request.GET
    raw = params.get("api_key", "")
    if not raw and not required:
        return None
    key = queries.key_for(raw)
    if key is None:
        raise _Refused(403, _("api_key: missing, unknown or revoked."))
    actions.mark_used(key)
    return key


def _instant(request: HttpRequest, name: str) -> dt.datetime | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    try:
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise actions.BadRequest(name, _("Not a W3C date-time (2026-11-23T09:00:00+08:00).")) from None
    if value.tzinfo is None:
        raise actions.BadRequest(name, _("Give the time zone offset (+08:00 or Z)."))
    return value


def _listed(request: HttpRequest, name: str) -> list[str]:
    return [part.strip() for part in request.GET.get(name, "").split(",") if part.strip()]


@require_GET
@_open311
def services(request: HttpRequest, *, fmt: str) -> HttpResponse:
    return answer(fmt, "services", [presenters.service(m) for m in queries.services()])


@require_GET
@_open311
def service_definition(request: HttpRequest, code: str, *, fmt: str) -> HttpResponse:
    matter = queries.service(code)
    if matter is None:
        raise _Refused(404, _("service_code %(code)s not found.") % {"code": code})
    return answer(fmt, "service_definition", presenters.service_definition(matter))


@csrf_exempt  # a partner's server posts with its api_key, never with a session
@require_http_methods(["GET", "POST"])
@_open311
def requests(request: HttpRequest, *, fmt: str) -> HttpResponse:
    if request.method == "POST":
        key = _key(request, required=True)
        row = actions.submit_request(key, actions.Submission.from_form(request.POST))
        return answer(fmt, "service_requests", [presenters.created(row)], status=201)
    statuses = _listed(request, "status")
    if any(s not in ("open", "closed") for s in statuses):
        raise actions.BadRequest("status", _("open or closed."))
    start, end = _instant(request, "start_date"), _instant(request, "end_date")
    if start and end and end - start > dt.timedelta(days=queries.DEFAULT_DAYS):
        raise actions.BadRequest("end_date", _("The range may span at most 90 days."))
    rows = queries.search(
        key=_key(request, required=False),
        ids=_listed(request, "service_request_id"),
        service_codes=_listed(request, "service_code"),
        start=start,
        end=end,
        statuses=statuses,
    )
    return answer(fmt, "service_requests", [presenters.request(r) for r in rows])


@require_GET
@_open311
def request_detail(request: HttpRequest, number: str, *, fmt: str) -> HttpResponse:
    row = queries.by_number(number)
    if row is None:
        raise _Refused(404, _("service_request_id %(id)s not found.") % {"id": number})
    return answer(fmt, "service_requests", [presenters.request(row)])


@require_GET
@_open311
def token(request: HttpRequest, token: str, *, fmt: str) -> HttpResponse:
    row = queries.by_token(token)
    if row is None:
        raise _Refused(404, _("token not found."))
    return answer(fmt, "service_requests", [presenters.token(row)])


@require_GET
@_open311
def updates(request: HttpRequest, *, fmt: str) -> HttpResponse:
    """FixMyStreet's ``servicerequestupdates``: what happened to the Open311 requests since
    ``start_date`` (to ``end_date``, at most now)."""
    start = _instant(request, "start_date")
    end = _instant(request, "end_date") or clock.now()
    rows = queries.updates(key=_key(request, required=False), start=start, end=end)
    return answer(fmt, "service_request_updates", [presenters.update(e) for e in rows])
