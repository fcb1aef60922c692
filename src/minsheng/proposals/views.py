"""Proposal pages: the desk's hand-over form and list, the three steps posted from the case
page's proposal panel (contact, written reply, verdict), and the public tracking page
(议案提案 办理追踪). Each posted form calls one action; a refusal is shown with its
message and status (403, 409, 422) and nothing is written."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from minsheng.accounts.actors import Actor
from minsheng.accounts.guards import signed_in
from minsheng.accounts.models import Unit, UnitKind
from minsheng.cases.errors import CaseError, Invalid
from minsheng.cases.states import Rating

from . import actions, queries
from .models import Proposal, ProposalKind


def _int(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() else None


def _refused(request: HttpRequest, exc: CaseError, case_id: int) -> HttpResponse:
    field = exc.field if isinstance(exc, Invalid) else ""
    return render(
        request,
        "proposals/refused.html",
        {"message": exc.message, "field": field, "case_id": case_id},
        status=exc.status,
    )


@require_http_methods(["GET", "POST"])
@signed_in(actions.DESK)
def desk(request: HttpRequest, actor: Actor) -> HttpResponse:
    error: dict[str, str] | None = None
    status = 200
    if request.method == "POST":
        p = request.POST
        try:
            proposal = actions.hand_over(
                actor,
                kind=p.get("kind", ""),
                number=p.get("number", ""),
                title=p.get("title", ""),
                text=p.get("text", ""),
                proposer=p.get("proposer", ""),
                lead_unit_id=_int(p.get("lead_unit")),
                lead_task=p.get("lead_task", ""),
                co_units=[u for u in (_int(v) for v in p.getlist("co_units")) if u],
                public=p.get("public") == "on",
            )
        except CaseError as exc:
            error = {"field": getattr(exc, "field", ""), "message": exc.message}
            status = exc.status
        else:
            messages.success(request, _("Proposal %(number)s handed over.") % {"number": proposal.number})
            return redirect("web:case", proposal.case_id)
    units = Unit.objects.filter(active=True).exclude(kind=UnitKind.CENTRE).order_by("kind", "name")
    context: dict[str, Any] = {
        "kinds": ProposalKind.objects.all(),
        "units": units,
        "rows": Proposal.objects.select_related("kind", "case__owner_unit").order_by("-handed_over_at")[:200],
        "error": error,
        "posted": request.POST if error else None,
        "posted_co": set(request.POST.getlist("co_units")) if error else set(),
    }
    return render(request, "proposals/desk.html", context, status=status)


@require_POST
@signed_in()
def contact(request: HttpRequest, actor: Actor, case_id: int) -> HttpResponse:
    try:
        actions.record_contact(
            actor, case_id, how=request.POST.get("how", ""), note=request.POST.get("note", "")
        )
    except CaseError as exc:
        return _refused(request, exc, case_id)
    messages.success(request, _("Contact with the proposer recorded."))
    return redirect("web:case", case_id)


@require_POST
@signed_in()
def reply(request: HttpRequest, actor: Actor, case_id: int) -> HttpResponse:
    try:
        actions.reply_in_writing(actor, case_id, text=request.POST.get("text", ""))
    except CaseError as exc:
        return _refused(request, exc, case_id)
    messages.success(request, _("Written reply sent."))
    return redirect("web:case", case_id)


@require_POST
@signed_in(actions.DESK)
def verdict(request: HttpRequest, actor: Actor, case_id: int) -> HttpResponse:
    try:
        proposal = actions.record_verdict(
            actor, case_id, verdict=request.POST.get("verdict", ""), note=request.POST.get("note", "")
        )
    except CaseError as exc:
        return _refused(request, exc, case_id)
    words = dict(Rating.choices).get(proposal.verdict, "")
    if proposal.verdict:
        messages.success(request, _("Verdict recorded: %(verdict)s.") % {"verdict": words})
    else:
        messages.success(request, _("The proposer is not satisfied: the proposal is handled again."))
    return redirect("web:case", case_id)


@require_GET
def track(request: HttpRequest) -> HttpResponse:
    """议案提案 办理追踪: every public proposal with its lead and co-units and how far its
    handling has come, and the figures per kind. Open to everyone; no personal data."""
    rows = [queries.progress(p) for p in queries.tracked()[:500]]
    return render(request, "proposals/track.html", {"rows": rows, "figures": queries.figures()})
