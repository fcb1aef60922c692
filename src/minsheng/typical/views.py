"""Typical cases: the centre's queue and editing page (staff), and the public page. Each
translates and calls ``actions`` or ``queries``; a refusal is shown on the page with its
status (422 keeps what was typed, naming the field)."""

from __future__ import annotations

from typing import Any

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from minsheng.accounts.actors import Actor
from minsheng.accounts.guards import signed_in
from minsheng.cases.errors import CaseError, Invalid
from minsheng.cases.scoping import visible_cases

from . import actions, queries, rules
from .models import TypicalState

# --- the centre's pages -----------------------------------------------------------------------


def _refused(request: HttpRequest, exc: CaseError, page: str, context: dict[str, Any]) -> HttpResponse:
    if exc.status == 404:
        raise Http404("not found")
    context.update(error=exc.message, error_field=exc.field if isinstance(exc, Invalid) else "")
    return render(request, page, context, status=exc.status)


def _queue_context(actor: Actor, **extra: Any) -> dict[str, Any]:
    q = queries.queue()
    return {
        "nominated": q[TypicalState.NOMINATED],
        "prepared": q[TypicalState.PREPARED],
        "published": q[TypicalState.PUBLISHED],
        "may_edit": actor.role in rules.EDITOR_ROLES,
        "may_approve": actor.role in rules.APPROVER_ROLES,
        **extra,
    }


@require_GET
@signed_in(rules.STAFF_ROLES)
def queue(request: HttpRequest, actor: Actor) -> HttpResponse:
    return render(request, "typical/queue.html", _queue_context(actor))


@require_POST
@signed_in(rules.NOMINATE_ROLES)
def nominate(request: HttpRequest, actor: Actor) -> HttpResponse:
    raw_id, number = request.POST.get("case", ""), request.POST.get("number", "").strip()
    reason = request.POST.get("reason", "")
    case_id = int(raw_id) if raw_id.isdigit() else None
    if case_id is None and number:
        case_id = visible_cases(actor).filter(number=number).values_list("pk", flat=True).first()
    kept = _queue_context(actor, kept_number=number, kept_reason=reason)
    no_such = Invalid("number", _("No closed case of yours has this number."))
    if case_id is None:
        return _refused(request, no_such, "typical/queue.html", kept)
    try:
        typical = actions.nominate(actor, case_id, reason=reason)
    except CaseError as exc:
        return _refused(request, no_such if exc.status == 404 else exc, "typical/queue.html", kept)
    return redirect("typical:edit", pk=typical.pk)


def _edit_context(actor: Actor, pk: int, **extra: Any) -> dict[str, Any]:
    typical = queries.get(pk)
    if typical is None or not visible_cases(actor).filter(pk=typical.case_id).exists():
        raise Http404("no such typical case")
    return {
        "typical": typical,
        "case": typical.case,
        "photos": queries.case_photos(typical.case),
        "may_edit": actor.role in rules.EDITOR_ROLES
        and typical.state in (TypicalState.NOMINATED, TypicalState.PREPARED),
        "may_approve": actor.role in rules.APPROVER_ROLES and typical.state == TypicalState.PREPARED,
        "may_withdraw": actor.role in rules.EDITOR_ROLES | rules.APPROVER_ROLES
        and typical.state != TypicalState.WITHDRAWN,
        **extra,
    }


@require_GET
@signed_in(rules.STAFF_ROLES)
def edit(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    return render(request, "typical/edit.html", _edit_context(actor, pk))


@require_POST
@signed_in(rules.STAFF_ROLES)
def prepare(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    form = {k: request.POST.get(k, "") for k in ("title", "story", "before_photo", "after_photo")}
    context = _edit_context(actor, pk)
    try:
        actions.prepare(actor, pk, **form)
    except CaseError as exc:
        return _refused(request, exc, "typical/edit.html", {**context, "kept": form})
    return redirect("typical:edit", pk=pk)


@require_POST
@signed_in(rules.STAFF_ROLES)
def approve(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    context = _edit_context(actor, pk)
    try:
        actions.approve(actor, pk)
    except CaseError as exc:
        return _refused(request, exc, "typical/edit.html", context)
    return redirect("typical:edit", pk=pk)


@require_POST
@signed_in(rules.STAFF_ROLES)
def withdraw(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    context = _edit_context(actor, pk)
    try:
        actions.withdraw(actor, pk)
    except CaseError as exc:
        return _refused(request, exc, "typical/edit.html", context)
    return redirect("typical:queue")


# --- the public page ----------------------------------------------------------------------------


@require_GET
def public_list(request: HttpRequest) -> HttpResponse:
    return render(request, "typical/public_list.html", {"items": list(queries.published()[:100])})


@require_GET
def public_detail(request: HttpRequest, pk: int) -> HttpResponse:
    typical = queries.published_one(pk)
    if typical is None:
        raise Http404("no such typical case")
    return render(request, "typical/public_detail.html", {"t": typical})


@require_GET
def public_photo(request: HttpRequest, pk: int, which: str) -> FileResponse:
    """Only a published typical case's chosen photos (stored without EXIF or GPS by media)."""
    photo = queries.public_photo(pk, which)
    if photo is None:
        raise Http404("no such photo")
    try:
        handle = default_storage.open(photo.file.name, "rb")
    except FileNotFoundError as exc:
        raise Http404("missing") from exc
    response = FileResponse(handle, content_type=photo.content_type)
    response["Cache-Control"] = "public, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
