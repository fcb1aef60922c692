"""The operator's seat (话务坐席): the intake form with a map pin and address autocomplete,
live matter suggestions and possible duplicates while the operator types, knowledge
suggestions to answer on the spot (直接答复), and the call ringing at the seat with the
caller's earlier cases (来电弹屏).

Every view here translates and calls: the intake goes through ``accept_case`` (or
``calls.actions.intake_from_call`` for a case registered during a call), the answer on the
spot through ``knowledge.actions.answer_on_the_spot`` (linked to the call by
``calls.actions.linking_call``, in the answer's own transaction); the panels read through the parts'
queries (``routing.classifier.classify_text``, ``knowledge.queries.suggest_answers``,
``cases.queries.possible_duplicates``, ``places.queries.suggest_addresses``,
``calls.queries.incoming``). ``/intake/`` is the same page as ``/seat/``.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from minsheng.accounts.actors import Actor
from minsheng.calls import actions as call_actions
from minsheng.calls import queries as call_queries
from minsheng.calls.models import Call
from minsheng.calls.privacy import reveal_caller
from minsheng.calls.rules import SEAT_ROLES
from minsheng.cases import actions
from minsheng.cases.errors import CaseError, Forbidden, Invalid, NotFound
from minsheng.cases.queries import get_visible_case, possible_duplicates
from minsheng.catalog.models import Matter
from minsheng.core.conf import setting
from minsheng.core.htmx import hx_redirect, partial
from minsheng.core.phones import mask_phone
from minsheng.knowledge.actions import answer_on_the_spot
from minsheng.knowledge.queries import served_articles, suggest_answers
from minsheng.places.queries import suggest_addresses
from minsheng.routing.classifier import classify_text

from . import queries
from .forms import INTAKE_FIELD_FOR, SeatForm
from .views import render_page, workbench

# What the assist panels read of a request being typed: enough for any real request.
ASSIST_TEXT_MAX = 2000
SEAT_SESSION_KEY = "seat_extension"
CALLER_POLL_SECONDS = 2

# The keys the page answers to, shown on the page (seat.js binds them).
SHORTCUTS = [
    ("Enter", gettext_lazy("Register (Shift+Enter: new line)")),
    ("Alt+1…3", gettext_lazy("Take a suggested matter")),
    ("Alt+Q/W/E", gettext_lazy("Show a suggested answer")),
    ("Alt+S", gettext_lazy("Send the answer by SMS and close")),
    ("Alt+D", gettext_lazy("Answered on the spot: close")),
    ("Alt+A", gettext_lazy("Take the ringing call")),
    ("Alt+P", gettext_lazy("Address")),
    ("Esc", gettext_lazy("Close the list or the answer")),
]


def _extension(request: HttpRequest) -> str:
    """The seat (telephone extension) this browser sits at: ``?seat=`` once, kept in the
    session; calls are also found by the operator's user name."""
    given = request.GET.get("seat")
    if given is not None:
        given = given.strip()[:32]
        request.session[SEAT_SESSION_KEY] = given
        return given
    return str(request.session.get(SEAT_SESSION_KEY, ""))


def _takes_calls(actor: Actor) -> bool:
    return actor.role in SEAT_ROLES


def _caller_context(request: HttpRequest, actor: Actor) -> dict[str, Any]:
    ext = _extension(request)
    rows = []
    if _takes_calls(actor):
        for item in call_queries.incoming(actor, seat=ext):
            rows.append(
                {
                    "call": item.call,
                    "state": item.call.get_state_display(),
                    "masked": mask_phone(item.call.caller),
                    "history": item.history,
                    "history_total": item.history_total,
                    "more": item.history_total > len(item.history),
                    "open_callback": item.open_callback,
                }
            )
    return {
        "calls": rows,
        "extension": ext,
        "takes_calls": _takes_calls(actor),
        "poll_seconds": CALLER_POLL_SECONDS,
    }


def _intake_of(d: dict[str, Any]) -> actions.Intake:
    anonymous = d["anonymous"]
    return actions.Intake(
        channel=d["channel"],
        text=d["text"],
        lat=d["lat"],
        lng=d["lng"],
        address=d["address"],
        category=d["category"] or None,
        urgent=d["urgent"],
        requester_name="" if anonymous else d["requester_name"],
        requester_phone="" if anonymous else d["requester_phone"],
    )


@workbench("intake")
def seat(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The seat. A registered request redirects (so a reload cannot register it twice) to
    the page with the new case's number shown large; a refusal keeps what was typed, with
    the message next to the field (422)."""
    created = None
    if request.method == "POST":
        form = SeatForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            key = d["idempotency_key"] or None
            try:
                if d["call_id"]:
                    case = call_actions.intake_from_call(
                        actor, _intake_of(d), call_id=d["call_id"], idempotency_key=key
                    )
                else:
                    case = actions.accept_case(actor, _intake_of(d), idempotency_key=key)
            except Invalid as exc:
                field = INTAKE_FIELD_FOR.get(exc.field, exc.field)
                form.add_error(field if field in form.fields else None, exc.message)
            except (Forbidden, NotFound) as exc:
                form.add_error(None, exc.message)
            else:
                return redirect(f"{reverse('web:seat')}?new={case.pk}")
        status = 422 if form.errors else 200
    else:
        form = SeatForm()
        status = 200
        new = request.GET.get("new", "")
        if new.isdigit():
            try:
                created = get_visible_case(actor, int(new))
            except NotFound:
                created = None
    closing = queries.closing_queue(actor)
    context = {
        "form": form,
        "created": created,
        "closing_count": closing.count(),
        "closing_rows": list(closing[:5]),
        "shortcuts": SHORTCUTS,
        "tile_url": setting("MINSHENG_MAP_TILE_URL", ""),
        "tile_attribution": setting("MINSHENG_MAP_TILE_ATTRIBUTION", ""),
        **_caller_context(request, actor),
    }
    return render_page(request, actor, "web/seat.html", context, status=status)


# --- the caller (来电弹屏) ----------------------------------------------------------------------


@require_GET
@workbench("intake")
def seat_caller(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The caller panel, polled by the page every few seconds: the calls ringing or in
    progress at this seat or for this operator, each with the caller's earlier cases (the
    number masked, the cases as far as the operator may see them)."""
    return render_page(request, actor, "web/_seat_caller.html", _caller_context(request, actor))


@require_POST
@workbench("intake")
def seat_take(request: HttpRequest, actor: Actor, call_id: str) -> HttpResponse:
    """Take a call ringing at this seat into the form: the caller's number (revealed to the
    roles who call back, and the view recorded) and the call, so that the case registered
    now is linked to it."""
    if not _takes_calls(actor):
        raise Http404(_("No such call."))
    agent = actor.user.get_username() if actor.user is not None else ""
    ringing = {c.call_id: c for c in call_queries.ringing_for(agent=agent, seat=_extension(request))}
    call: Call | None = ringing.get(call_id)
    if call is None:
        raise Http404(_("No such call."))
    full = reveal_caller(actor, call, via="intake")
    form = SeatForm(initial={"requester_phone": call.caller if full else "", "call_id": call.call_id})
    for name in ("requester_phone", "call_id"):
        form.fields[name].widget.attrs["hx-swap-oob"] = "true"
    context = {"call": call, "form": form, "masked": mask_phone(call.caller), "full": full}
    return render_page(request, actor, "web/_seat_take.html", context)


# --- what the operator types --------------------------------------------------------------


def _float(raw: str | None) -> float | None:
    try:
        value = float(raw or "")
    except ValueError:
        return None
    return value if -180.0 <= value <= 180.0 else None


def _matter_suggestions(text: str) -> list[dict[str, Any]]:
    if not text.strip():
        return []
    answer = classify_text(text)
    ranked = answer["candidates"] or ([{"code": answer["code"], "score": answer["confidence"]}])
    codes = [c["code"] for c in ranked[:3] if c.get("code")]
    names = dict(Matter.objects.filter(code__in=codes, active=True).values_list("code", "name"))
    return [
        {"code": c["code"], "name": names[c["code"]], "score": c["score"], "key": i + 1}
        for i, c in enumerate(c for c in ranked[:3] if c.get("code") in names)
    ]


def _knowledge(text: str) -> dict[str, Any] | None:
    if not text.strip():
        return None
    result = suggest_answers(text)
    codes = [a["code"] for a in result["articles"]]
    pks = dict(served_articles().filter(code__in=codes).values_list("code", "pk"))
    keys = "QWE"
    articles = [
        {**a, "pk": pks.get(a["code"]), "key": keys[i]}
        for i, a in enumerate(a for a in result["articles"] if a["code"] in pks)
    ]
    return {"articles": articles, "answerable": result["answerable"] and bool(articles)}


@require_GET
@workbench("intake")
def seat_assist(request: HttpRequest, actor: Actor) -> HttpResponse:
    """What the page shows beside the form as the operator types, in one answer: the top
    three matters with the classifier's confidence, up to three knowledge articles (and
    whether one answers the question), and the open cases this request may repeat (for
    the chosen matter, else the first suggested)."""
    g = request.GET
    text = (g.get("text") or "")[:ASSIST_TEXT_MAX]
    matters = _matter_suggestions(text)
    chosen = (g.get("category") or "").strip()
    matter_code = chosen or (matters[0]["code"] if matters else "")
    duplicates = possible_duplicates(
        actor,
        text=text,
        matter_code=matter_code,
        lat=_float(g.get("lat")),
        lng=_float(g.get("lng")),
        address=(g.get("address") or "")[:200],
    )
    context = {
        "text": text,
        "matters": matters,
        "chosen": chosen,
        "knowledge": _knowledge(text),
        "duplicates": duplicates,
        "oob": partial(request),
    }
    return render_page(request, actor, "web/_seat_assist.html", context)


@require_GET
@workbench("intake")
def seat_places(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The address autocomplete: the gazetteer's readings of what was typed, each with
    the point the pin goes to."""
    address = (request.GET.get("address") or "").strip()[:200]
    found = suggest_addresses(address) if len(address) >= 2 else []
    return render_page(request, actor, "web/_seat_places.html", {"places": found, "address": address})


# --- answered on the spot (直接答复) ------------------------------------------------------


@require_GET
@workbench("intake")
def seat_article(request: HttpRequest, actor: Actor, code: str) -> HttpResponse:
    """The answer of a served article, to read out, with the buttons that send it by SMS
    and close the request on the spot."""
    article = served_articles().filter(code=code).first()
    if article is None or article.live is None:
        raise Http404(_("No such article."))
    context = {"article": article, "live": article.live}
    return render_page(request, actor, "web/_seat_answer.html", context)


@require_POST
@workbench("intake")
def seat_answer(request: HttpRequest, actor: Actor) -> HttpResponse:
    """直接答复: record a request closed at once with the article read out (and sent by SMS
    when asked), linked to the call taken at the seat. A refusal is shown in the answer
    panel (422), nothing written."""
    p = request.POST
    code = (p.get("article_code") or "").strip()
    article = served_articles().filter(code=code).first()
    if article is None or article.live is None:
        raise Http404(_("No such article."))
    context: dict[str, Any] = {"article": article, "live": article.live}
    anonymous = p.get("anonymous") == "on"
    call_id = (p.get("call_id") or "").strip()
    try:
        case = answer_on_the_spot(
            actor,
            text=p.get("text") or "",
            article_code=code,
            phone="" if anonymous else (p.get("requester_phone") or ""),
            name="" if anonymous else (p.get("requester_name") or ""),
            channel=p.get("channel") or "hotline",
            send_sms=p.get("sms") == "1",
            after_create=call_actions.linking_call(actor, call_id) if call_id else None,
        )
    except CaseError as exc:
        context["error"] = exc.message
        context["error_field"] = getattr(exc, "field", "")
        return render_page(request, actor, "web/_seat_answer.html", context, status=exc.status)
    url = f"{reverse('web:seat')}?new={case.pk}"
    return hx_redirect(url) if partial(request) else redirect(url)
