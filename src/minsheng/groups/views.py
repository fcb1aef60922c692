"""The joint group's pages: each posted form becomes one named action of
:mod:`minsheng.groups.actions`, answered as the case page answers its own actions (the
case panel swapped by HTMX, or a redirect / the whole page without JavaScript), and the
thread's photos, served only to people who may see the case."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from minsheng.accounts.actors import Actor
from minsheng.accounts.guards import signed_in
from minsheng.cases.errors import CaseError, Conflict, Invalid, NotFound
from minsheng.cases.models import Case
from minsheng.cases.presenters import panel_context
from minsheng.cases.privacy import reveal_phone
from minsheng.cases.queries import get_visible_case
from minsheng.cases.scoping import can_see
from minsheng.core.htmx import hx_redirect, partial

from . import actions
from .forms import assist_rows, int_or_none, unit_ids
from .models import GroupPhoto


def _version(post: QueryDict) -> int:
    # A form always carries the version it was drawn from; one without it is stale.
    version = int_or_none(post.get("version"))
    return version if version is not None else 0


def _hours(post: QueryDict) -> int | None:
    raw = (post.get("hours") or "").strip()
    if not raw:
        return None
    value = int_or_none(raw)
    if value is None:
        raise Invalid("hours", _("Give the parts 1 to %(n)d hours.") % {"n": actions.HOURS_MAX})
    return value


def _form(actor: Actor, pk: int, post: QueryDict, files: Any) -> Any:
    return actions.form_joint_group(
        actor,
        pk,
        lead_unit_id=int_or_none(post.get("lead_unit")),
        assists=assist_rows(post),
        lead_task=post.get("lead_task", ""),
        note=post.get("note", ""),
        hours=_hours(post),
        expected_version=_version(post),
    )


def _change(actor: Actor, pk: int, post: QueryDict, files: Any) -> Any:
    return actions.change_group(
        actor,
        pk,
        add=assist_rows(post),
        remove=unit_ids(post, "remove"),
        note=post.get("note", ""),
        hours=_hours(post),
        request_id=int_or_none(post.get("request_id")),
        expected_version=_version(post),
    )


# Group actions leave the case's version alone (see ``actions``): their forms are checked
# by the part's own state, so a message posted meanwhile never makes them stale.
HANDLERS: dict[str, Callable[[Actor, int, QueryDict, Any], Any]] = {
    "form": _form,
    "sign": lambda a, pk, p, f: actions.sign_part(a, pk, note=p.get("note", "")),
    "done": lambda a, pk, p, f: actions.mark_part_done(a, pk, note=p.get("note", "")),
    "request": lambda a, pk, p, f: actions.request_group_change(a, pk, note=p.get("note", "")),
    "waive": lambda a, pk, p, f: actions.waive_part(
        a, pk, unit_id=int_or_none(p.get("unit_id")), note=p.get("note", "")
    ),
    "change": _change,
    "decline": lambda a, pk, p, f: actions.decline_group_change(
        a, pk, request_id=int_or_none(p.get("request_id")), note=p.get("note", "")
    ),
    "dissolve": lambda a, pk, p, f: actions.dissolve_group(
        a, pk, note=p.get("note", ""), expected_version=_version(p)
    ),
    "message": lambda a, pk, p, f: actions.post_group_message(
        a, pk, text=p.get("text", ""), photos=f.getlist("photos")
    ),
}
DONE = {
    "form": gettext_lazy("Joint group formed; every unit has been told."),
    "sign": gettext_lazy("Your unit's part is signed."),
    "done": gettext_lazy("Your unit's part is marked done."),
    "request": gettext_lazy("Your request has gone to the dispatcher."),
    "waive": gettext_lazy("Part waived."),
    "change": gettext_lazy("Group changed."),
    "decline": gettext_lazy("Request declined."),
    "dissolve": gettext_lazy("Group dissolved."),
    "message": gettext_lazy("Message posted."),
}


def _visible(actor: Actor, pk: int) -> Case:
    try:
        return get_visible_case(actor, pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _panel(actor: Actor, case: Case, **kwargs: Any) -> dict[str, Any]:
    """The case page's panel, as the case page draws it (showing the phone is recorded)."""
    return {
        "actor": actor,
        **panel_context(actor, case, full_phone=reveal_phone(actor, case, via="web"), **kwargs),
    }


@signed_in()
@require_POST
def group_action(request: HttpRequest, actor: Actor, pk: int, action: str) -> HttpResponse:
    handler = HANDLERS.get(action)
    if handler is None:
        raise Http404("No such action.")
    _visible(actor, pk)
    try:
        handler(actor, pk, request.POST, request.FILES)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except CaseError as exc:
        return _refused(request, actor, pk, action, exc)
    flash = str(DONE[action])
    try:
        case = get_visible_case(actor, pk)
    except NotFound:  # e.g. its unit was taken out of the group
        messages.success(request, flash)
        if partial(request):
            return hx_redirect(reverse("web:home"))
        return redirect("web:home")
    if partial(request):
        return render(request, "web/_case_panel.html", _panel(actor, case, flash=flash))
    messages.success(request, flash)
    return redirect("web:case", pk=pk)


def _refused(request: HttpRequest, actor: Actor, pk: int, action: str, exc: CaseError) -> HttpResponse:
    # Any conflict means the page was out of date (a part already signed, a group already
    # formed...): the form it came from may be gone, so say it above the panel.
    stale = isinstance(exc, Conflict)
    error = {
        "action": f"group_{action}",
        "field": getattr(exc, "field", ""),
        "message": exc.message,
        "stale": stale,
    }
    case = _visible(actor, pk)
    ctx = _panel(actor, case, error=error, posted=request.POST)
    template = "web/_case_panel.html" if partial(request) else "web/case.html"
    return render(request, template, ctx, status=exc.status)


@signed_in()
@require_GET
def photo(request: HttpRequest, actor: Actor, pk: int) -> FileResponse:
    """A thread photo, to those who may see its case (a photo of a case one cannot see
    looks like one that does not exist)."""
    item = GroupPhoto.objects.select_related("message__group__case").filter(pk=pk).first()
    if item is None or not can_see(actor, item.message.group.case):
        raise Http404(_("No such photo."))
    response = FileResponse(item.image.open("rb"), content_type=item.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    return response
