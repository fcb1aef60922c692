"""Enterprise pages for the centre: the enterprises with their service officers (register
one), and the form that takes in an enterprise's request. Each posted form calls one
action; a refusal is shown on the page with the field (422), nothing written."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from minsheng.accounts.actors import Actor
from minsheng.accounts.guards import signed_in
from minsheng.cases import actions as case_actions
from minsheng.cases.errors import CaseError, Invalid

from . import actions, queries


def _officers() -> Any:
    return (
        get_user_model()
        .objects.filter(is_active=True, profile__role__in=actions.OFFICER_ROLES)
        .select_related("profile__unit")
        .order_by("username")
    )


def _int(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() else None


@require_http_methods(["GET", "POST"])
@signed_in(actions.MANAGERS)
def enterprises(request: HttpRequest, actor: Actor) -> HttpResponse:
    error: dict[str, str] | None = None
    status = 200
    if request.method == "POST":
        p = request.POST
        try:
            made = actions.register_enterprise(
                actor,
                credit_code=p.get("credit_code", ""),
                name=p.get("name", ""),
                address=p.get("address", ""),
                officer_id=_int(p.get("service_officer")),
            )
        except Invalid as exc:
            error, status = {"field": exc.field, "message": exc.message}, exc.status
        except CaseError as exc:
            error, status = {"field": "", "message": exc.message}, exc.status
        else:
            return redirect(f"{request.path}?saved={made.pk}")
    context = {
        "rows": queries.enterprises(actor),
        "officers": _officers(),
        "error": error,
        "posted": request.POST if error else None,
        "saved": _int(request.GET.get("saved")),
    }
    return render(request, "enterprise/enterprises.html", context, status=status)


@require_http_methods(["GET", "POST"])
@signed_in(actions.MANAGERS)
def new_request(request: HttpRequest, actor: Actor) -> HttpResponse:
    error: dict[str, str] | None = None
    status = 200
    if request.method == "POST":
        p = request.POST
        data = case_actions.Intake(
            channel="enterprise",
            text=p.get("text", ""),
            address=p.get("address", ""),
            category=p.get("category") or None,
            requester_name=p.get("requester_name", ""),
            requester_phone=p.get("requester_phone", ""),
        )
        try:
            case = actions.accept_enterprise_request(actor, p.get("credit_code", ""), data)
        except Invalid as exc:
            error, status = {"field": exc.field, "message": exc.message}, exc.status
        except CaseError as exc:
            error, status = {"field": "", "message": exc.message}, exc.status
        else:
            return redirect("web:case", case.pk)
    context = {
        "matters": queries.enterprise_matters(),
        "error": error,
        "posted": request.POST if error else None,
        "credit_code": request.GET.get("code", ""),
        "title": _("Enterprise request"),
    }
    return render(request, "enterprise/new_request.html", context, status=status)
