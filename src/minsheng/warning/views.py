"""Pages of early warning: the warnings and topics (open and closed), and a topic with its
linked cases and the owner's closing form. Each translates and calls ``actions`` or
``queries``; a refusal is shown on the page with its status (422 keeps what was typed)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from minsheng.accounts.actors import Actor
from minsheng.accounts.guards import signed_in
from minsheng.cases.errors import CaseError, Invalid

from . import actions, queries, rules
from .models import TopicState


@require_GET
@signed_in(rules.WARNING_ROLES)
def topic_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    return render(
        request,
        "warning/list.html",
        {
            "open_topics": queries.topic_list(actor, state=TopicState.OPEN),
            "closed_topics": queries.topic_list(actor, state=TopicState.CLOSED, limit=50),
        },
    )


def _topic_page(request: HttpRequest, actor: Actor, pk: int, status: int = 200, **extra) -> HttpResponse:
    topic = queries.get_topic(actor, pk)
    if topic is None:
        raise Http404("no such topic")
    context = {
        "topic": topic,
        "cases": queries.topic_cases(actor, topic),
        "may_close": topic.is_open and rules.may_close(actor, topic),
        **extra,
    }
    return render(request, "warning/topic.html", context, status=status)


@require_GET
@signed_in(rules.WARNING_ROLES)
def topic(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    return _topic_page(request, actor, pk)


@require_POST
@signed_in(rules.WARNING_ROLES)
def close(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    conclusion = request.POST.get("conclusion", "")
    try:
        actions.close_topic(actor, pk, conclusion=conclusion)
    except CaseError as exc:
        if exc.status == 404:
            raise Http404("no such topic") from exc
        field = exc.field if isinstance(exc, Invalid) else ""
        return _topic_page(
            request, actor, pk, status=exc.status, error=exc.message, error_field=field, kept=conclusion
        )
    return redirect("warning:topic", pk=pk)
