"""The callback queue (漏接回拨) for the centre's operators: the callers nobody answered, the
earliest clock first, and for each the page to call them back from (the full number, shown
and recorded as ``privacy.reveal_caller`` says) with its two outcomes: reached (done), or not
reached (tried again after the set interval, unreachable after the set number of attempts).
Each posted form becomes one named action of :mod:`minsheng.calls.actions`; a refusal is
shown on the page it came from (403, 409, 422)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from minsheng.accounts.actors import Actor
from minsheng.accounts.guards import signed_in
from minsheng.cases.errors import CaseError, NotFound
from minsheng.core.phones import mask_phone

from . import actions, queries, rules
from .models import CallbackTask
from .privacy import reveal_caller


@require_GET
@signed_in(rules.CALLBACK_ROLES)
def callbacks(request: HttpRequest, actor: Actor) -> HttpResponse:
    rows = [{"task": t, "phone": mask_phone(t.phone)} for t in queries.open_callbacks()[:200]]
    return render(
        request,
        "calls/callbacks.html",
        {
            "rows": rows,
            "closed": queries.recently_closed_callbacks(),
            "attempts_allowed": rules.callback_attempts(),
        },
    )


def _task_context(actor: Actor, task: CallbackTask, **extra: Any) -> dict[str, Any]:
    calls = list(task.calls.order_by("rang_at", "id"))
    shown = mask_phone(task.phone)
    if calls and task.is_open and reveal_caller(actor, calls[-1], via="callback"):
        shown = task.phone
    history, total = queries.caller_history(actor, task.phone)
    return {
        "task": task,
        "phone": shown,
        "calls": calls,
        "history": history,
        "history_total": total,
        "attempts_allowed": rules.callback_attempts(),
        **extra,
    }


@require_GET
@signed_in(rules.CALLBACK_ROLES)
def callback_detail(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    task = CallbackTask.objects.filter(pk=pk).first()
    if task is None:
        raise Http404(_("No such callback."))
    return render(request, "calls/callback.html", _task_context(actor, task))


@require_POST
@signed_in(rules.CALLBACK_ROLES)
def callback_outcome(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    outcome = request.POST.get("outcome", "")
    note = request.POST.get("note", "")
    try:
        if outcome == "done":
            actions.complete_callback(actor, pk, note=note)
            messages.success(request, _("Called back."))
        elif outcome == "unreachable":
            task = actions.callback_unreachable(actor, pk, note=note)
            if task.is_open:
                messages.info(request, _("Not reached; try again from the time shown."))
            else:
                messages.warning(request, _("Not reached after every attempt: closed as unreachable."))
        else:
            raise CaseError(_("Choose: reached, or not reached."))
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except CaseError as exc:
        found = CallbackTask.objects.filter(pk=pk).first()
        if found is None:
            raise Http404(exc.message) from exc
        context = _task_context(actor, found, error=exc.message, kept_note=note)
        status = 422 if exc.status == 400 else exc.status
        return render(request, "calls/callback.html", context, status=status)
    return redirect("calls:callbacks")
