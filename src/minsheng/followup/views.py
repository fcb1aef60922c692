"""The follow-up queue (回访队列) for the centre's operators: the follow-ups due now with the
script to read and the unit's feedback, and the buttons that record what the requester
said. Each posted form becomes one named action of :mod:`minsheng.followup.actions`; a
refusal is shown on the queue (403 for a right the person lacks, 409 for a follow-up that
moved on, 422 for input to fix, with what was typed kept)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from minsheng.accounts.actors import Actor
from minsheng.accounts.guards import signed_in
from minsheng.cases.errors import CaseError, Invalid, NotFound
from minsheng.cases.states import Rating
from minsheng.core.phones import mask_phone

from . import actions, queries, rules
from .models import RuleSet


def _context(actor: Actor, **extra: Any) -> dict[str, Any]:
    due = queries.due_queue()
    for item in due:
        item.phone = mask_phone(item.followup.case.requester_phone)  # type: ignore[attr-defined]
    return {
        "due": due,
        "waiting": queries.waiting(),
        "finished": queries.recently_finished(),
        "ruleset": RuleSet.current(),
        "ratings": Rating.choices,
        **extra,
    }


@require_GET
@signed_in(rules.FOLLOWUP_ROLES)
def queue(request: HttpRequest, actor: Actor) -> HttpResponse:
    return render(request, "followup/queue.html", _context(actor))


@require_POST
@signed_in(rules.FOLLOWUP_ROLES)
def answer(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    outcome = request.POST.get("outcome", "")
    note = request.POST.get("note", "")
    try:
        if outcome == "no_answer":
            followup = actions.record_no_answer(actor, pk, note=note)
            messages.info(
                request,
                _("Call %(n)d of %(of)d not answered; the next is due later.")
                % {"n": followup.attempts, "of": RuleSet.current().attempts},
            )
        else:
            followup = actions.record_answer(actor, pk, outcome=outcome, note=note)
            if outcome == Rating.UNSATISFIED:
                messages.warning(
                    request,
                    _("Case %(number)s goes back to %(unit)s to be handled again.")
                    % {"number": followup.case.number, "unit": followup.unit.name if followup.unit else "—"},
                )
            else:
                messages.success(
                    request, _("Follow-up of %(number)s recorded.") % {"number": followup.case.number}
                )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except CaseError as exc:
        context = _context(
            actor,
            error=exc.message,
            error_for=pk,
            error_field=exc.field if isinstance(exc, Invalid) else "",
            kept_note=note,
            kept_outcome=outcome,
        )
        return render(request, "followup/queue.html", context, status=exc.status)
    return redirect("followup:queue")
