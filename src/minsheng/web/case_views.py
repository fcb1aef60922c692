"""The case page and its actions. A posted form becomes one named action; whatever the
action refuses (stale version 409, bad input 422, not allowed 403) is shown on the page,
next to the form, with what the person typed kept. HTMX swaps the case panel; without
JavaScript the same URL answers with a redirect (success) or the whole page (refusal)."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from minsheng.accounts.actors import Actor
from minsheng.accounts.guards import signed_in
from minsheng.cases import actions
from minsheng.cases.errors import CaseError, Conflict, Invalid, NotFound
from minsheng.cases.models import Case
from minsheng.cases.presenters import panel_context
from minsheng.cases.privacy import reveal_phone
from minsheng.cases.queries import get_visible_case, get_visible_case_by_number
from minsheng.core.htmx import hx_redirect, partial

from .views import render_page

DONE = {
    "assign": gettext_lazy("Assigned."),
    "sign": gettext_lazy("Signed."),
    "return": gettext_lazy("Returned to the dispatcher."),
    "dispatch": gettext_lazy("People dispatched."),
    "handle": gettext_lazy("Note added."),
    "feedback": gettext_lazy("Feedback sent to the requester."),
    "rate": gettext_lazy("Rating recorded."),
    "close": gettext_lazy("Case closed."),
    "reopen": gettext_lazy("Case reopened."),
    "extend": gettext_lazy("Extension requested."),
    "approve_extension": gettext_lazy("Extension decided."),
    "supervise": gettext_lazy("Supervision recorded."),
    "merge": gettext_lazy("Merged into the original case."),
}

PEOPLE_SPLIT = re.compile(r"[,，、;；\n]+")


def _int(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() else None


def _visible(actor: Actor, pk: int) -> Case:
    try:
        return get_visible_case(actor, pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def case_panel(actor: Actor, case: Case, **kwargs: Any) -> dict[str, Any]:
    """The case panel's context; showing the full phone number is recorded first."""
    return panel_context(actor, case, full_phone=reveal_phone(actor, case, via="web"), **kwargs)


@signed_in()
def case_page(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    case = _visible(actor, pk)
    return render_page(request, actor, "web/case.html", case_panel(actor, case))


@signed_in()
def case_by_number(request: HttpRequest, actor: Actor, number: str) -> HttpResponse:
    try:
        case = get_visible_case_by_number(actor, number.strip().upper())
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return redirect("web:case", pk=case.pk)


def _call(actor: Actor, pk: int, action: str, post: QueryDict) -> Case:
    """Translate the posted form into the one named action. A form always carries the
    version it was drawn from; one without it is treated as stale, never as "any"."""
    version = _int(post.get("version"))
    common: dict[str, Any] = {"expected_version": version if version is not None else 0}
    note = post.get("note", "")
    if action == "assign":
        return actions.assign_case(
            actor,
            pk,
            unit_id=_int(post.get("unit")),
            category=post.get("category") or None,
            note=note,
            **common,
        )
    if action == "dispatch":
        people = [p for p in PEOPLE_SPLIT.split(post.get("people", "")) if p.strip()]
        people += [p for p in post.getlist("worker") if p.strip() and p not in people]
        return actions.dispatch_case(actor, pk, people=people, note=note, **common)
    if action == "rate":
        return actions.rate_case(actor, pk, rating=post.get("rating", ""), note=note, **common)
    if action == "extend":
        days = _int(post.get("days"))
        if days is None:
            raise Invalid("days", _("Ask for 1 to 30 working days."))
        return actions.request_extension(actor, pk, days=days, note=note, **common)
    if action == "approve_extension":
        return actions.approve_extension(
            actor, pk, approved=post.get("approved") != "no", note=note, **common
        )
    if action == "merge":
        number = post.get("into", "").strip().upper()
        try:
            original = get_visible_case_by_number(actor, number) if number else None
        except NotFound:
            original = None
        if original is None:
            raise Invalid("into", _("No such case to merge into."))
        return actions.merge_case(actor, pk, into=original.pk, note=note, **common)
    return actions.ACTION_FUNCTIONS[action](actor, pk, note=note, **common)


def _next_url(request: HttpRequest) -> str | None:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


@signed_in()
@require_POST
def case_action(request: HttpRequest, actor: Actor, pk: int, action: str) -> HttpResponse:
    if action not in actions.ACTION_FUNCTIONS:
        raise Http404("No such action.")
    _visible(actor, pk)
    from_row = request.POST.get("from") == "row"
    try:
        _call(actor, pk, action, request.POST)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except CaseError as exc:
        return _refused(request, actor, pk, action, exc, from_row=from_row)
    return _done(request, actor, pk, action, from_row=from_row)


def _done(request: HttpRequest, actor: Actor, pk: int, action: str, *, from_row: bool) -> HttpResponse:
    flash = str(DONE[action])
    try:
        case: Case | None = get_visible_case(actor, pk)
    except NotFound:
        case = None  # e.g. returned: the unit no longer holds it, so no longer sees it
    if partial(request):
        if from_row:
            return render(
                request,
                "web/_row_result.html",
                {
                    "case": case or Case.objects.get(pk=pk),
                    "ok": True,
                    "message": flash,
                    "colspan": _int(request.POST.get("colspan")) or 8,
                    "linked": case is not None,
                },
            )
        if case is None:
            messages.success(request, flash)
            return hx_redirect(reverse("web:home"))
        return render(request, "web/_case_panel.html", case_panel(actor, case, flash=flash))
    messages.success(request, flash)
    target = _next_url(request) if from_row else None
    if target:
        return redirect(target)
    return redirect("web:case", pk=pk) if case is not None else redirect("web:home")


def _refused(
    request: HttpRequest, actor: Actor, pk: int, action: str, exc: CaseError, *, from_row: bool
) -> HttpResponse:
    posted_version = _int(request.POST.get("version"))
    stale = isinstance(exc, Conflict) and posted_version != exc.version
    error = {"action": action, "field": getattr(exc, "field", ""), "message": exc.message, "stale": stale}
    case = _visible(actor, pk)
    if partial(request) and from_row:
        # Swapped into the row whatever the status: the person sees why, and a link.
        return render(
            request,
            "web/_row_result.html",
            {
                "case": case,
                "ok": False,
                "stale": stale,
                "message": exc.message,
                "colspan": _int(request.POST.get("colspan")) or 8,
                "linked": True,
            },
        )
    ctx = case_panel(actor, case, error=error, posted=request.POST)
    if partial(request):
        return render(request, "web/_case_panel.html", ctx, status=exc.status)
    return render_page(request, actor, "web/case.html", ctx, status=exc.status)
