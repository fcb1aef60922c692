"""The centre's transfer pages: transfers from 110 awaiting a decision with their clocks
(accept into the loop, or return with a reason), what was decided and sent, the figures each
way, and the two lists. Each posted form calls one action; a refusal is shown on the page
with the field (422), nothing written."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from minsheng.accounts.actors import Actor
from minsheng.accounts.guards import signed_in
from minsheng.cases.errors import CaseError, Invalid
from minsheng.core import clock

from . import actions, queries, rules


def _error(exc: CaseError) -> dict[str, str]:
    return {"field": exc.field if isinstance(exc, Invalid) else "", "message": exc.message}


def _page(
    request: HttpRequest, *, error: dict[str, str] | None = None, status: int = 200, **more: Any
) -> HttpResponse:
    now = clock.now()
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    context = {
        "pending": list(queries.pending_transfers()),
        "incoming": queries.recent_incoming(),
        "outgoing": queries.recent_outgoing(),
        "today": queries.figures(today, today + dt.timedelta(days=1), now),
        "month": queries.figures(today - dt.timedelta(days=29), today + dt.timedelta(days=1), now),
        "now": now,
        "error": error,
        "posted": request.POST if error else None,
        **more,
    }
    return render(request, "transfer/index.html", context, status=status)


@require_GET
@signed_in(rules.CENTRE_ROLES)
def index(request: HttpRequest, actor: Actor) -> HttpResponse:
    return _page(request, returned=request.GET.get("returned", ""))


@require_GET
@signed_in(rules.CENTRE_ROLES)
def lists(request: HttpRequest, actor: Actor) -> HttpResponse:
    return render(request, "transfer/lists.html", {"lists": queries.lists()})


@require_POST
@signed_in(rules.CENTRE_ROLES)
def accept(request: HttpRequest, actor: Actor, transfer_id: int) -> HttpResponse:
    try:
        case = actions.accept_transfer(actor, transfer_id, category=request.POST.get("category") or None)
    except CaseError as exc:
        return _page(request, error={**_error(exc), "transfer": str(transfer_id)}, status=exc.status)
    return redirect("web:case", case.pk)


@require_POST
@signed_in(rules.CENTRE_ROLES)
def return_(request: HttpRequest, actor: Actor, transfer_id: int) -> HttpResponse:
    try:
        transfer = actions.return_transfer(actor, transfer_id, reason=request.POST.get("reason", ""))
    except CaseError as exc:
        return _page(request, error={**_error(exc), "transfer": str(transfer_id)}, status=exc.status)
    return redirect(f"{request.path.rsplit('/incoming/', 1)[0]}/?returned={transfer.police_ref}")


@require_POST
@signed_in(rules.CENTRE_ROLES)
def to_police(request: HttpRequest, actor: Actor, case_id: int) -> HttpResponse:
    version = request.POST.get("version", "")
    try:
        actions.transfer_to_police(
            actor,
            case_id,
            item=request.POST.get("item", ""),
            note=request.POST.get("note", ""),
            expected_version=int(version) if version.isdigit() else None,
        )
    except CaseError as exc:
        context = {"error": _error(exc), "case_id": case_id}
        return render(request, "transfer/refused.html", context, status=exc.status)
    return redirect("web:case", case_id)
