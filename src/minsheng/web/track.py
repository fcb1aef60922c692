"""The public follow page (no sign-in): a requester finds their case by its number and the
last four digits of their phone, or by the secret link sent to them, sees its progress in
plain words, and rates the outcome.

A wrong number and wrong digits answer the same words, so the page never tells whether a
number exists; failed look-ups are counted per client and per case number, atomically, and
refused past a limit (``public.limits.take_guess``).
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from minsheng.accounts.actors import Actor
from minsheng.cases.actions import available_actions
from minsheng.cases.errors import Conflict, Invalid, NotFound
from minsheng.cases.models import Case, CaseEvent
from minsheng.cases.states import State
from minsheng.knowledge.actions import answer_of, rate_answer
from minsheng.media.models import PUBLIC_SOURCES, Photo
from minsheng.public import limits
from minsheng.public.actions import rate_by_requester

from .forms import RatingForm, TrackForm

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

# What a requester reads for each state: plain words, nothing internal (a return to the
# dispatcher reads like the first routing).
PUBLIC_STATE: dict[str, StrPromise] = {
    State.ACCEPTED: gettext_lazy(
        "We have received your request and are finding the unit responsible for it."
    ),
    State.RETURNED: gettext_lazy(
        "We have received your request and are finding the unit responsible for it."
    ),
    State.ASSIGNED: gettext_lazy("Your request has been passed to the responsible unit."),
    State.SIGNED: gettext_lazy("The responsible unit has taken up your request."),
    State.DISPATCHED: gettext_lazy("Staff have been sent to deal with it."),
    State.HANDLING: gettext_lazy("Your request is being dealt with."),
    State.FEEDBACK: gettext_lazy(
        "The unit has reported the result. Please tell us whether you are satisfied."
    ),
    State.RATED: gettext_lazy("Thank you for your rating. The case will be closed shortly."),
    State.CLOSED: gettext_lazy("Your request has been completed."),
}
# What a merged duplicate's requester reads: the progress of the case it was merged into,
# in words that never ask them to rate (the rating is the other requester's).
MERGED_STATE: dict[str, StrPromise] = {
    **PUBLIC_STATE,
    State.FEEDBACK: gettext_lazy("The unit has reported the result of dealing with the problem."),
    State.RATED: gettext_lazy("The problem has been dealt with. The case will be closed shortly."),
}
STEPS = [
    gettext_lazy("Submitted"),
    gettext_lazy("Passed to unit"),
    gettext_lazy("Being handled"),
    gettext_lazy("Result reported"),
    gettext_lazy("Rated"),
    gettext_lazy("Completed"),
]
STEP_OF: dict[str, int] = {
    State.ACCEPTED: 0,
    State.RETURNED: 0,
    State.ASSIGNED: 1,
    State.SIGNED: 2,
    State.DISPATCHED: 2,
    State.HANDLING: 2,
    State.FEEDBACK: 3,
    State.RATED: 4,
    State.CLOSED: 5,
}
PUBLIC_EVENTS = {
    "accept": gettext_lazy("Request received"),
    "answered_on_the_spot": gettext_lazy("Answered on the spot"),
    "assign": gettext_lazy("Passed to %(unit)s"),
    "sign": gettext_lazy("Taken up by the unit"),
    "dispatch": gettext_lazy("Staff sent"),
    "arrive": gettext_lazy("Staff arrived on site"),
    "feedback": gettext_lazy("Result reported"),
    "rate": gettext_lazy("You rated it"),
    "close": gettext_lazy("Completed"),
    "reopen": gettext_lazy("Reopened to be dealt with again"),
    "merge": gettext_lazy("Merged with an earlier report of the same problem"),
}
# Of the case a duplicate was merged into, its requester sees how it is handled, never how
# it was received or rated (that is the other requester's).
HANDLING_EVENTS = frozenset(PUBLIC_EVENTS) - {"accept", "rate", "merge"}
MAX_MERGE_HOPS = 10


def find_for_requester(number: str, digits: str) -> Case | None:
    """The case with this number whose phone ends with these digits; ``None`` for a wrong
    number and for wrong digits alike, compared in constant time."""
    case = Case.objects.filter(number=number).only("pk", "requester_phone", "public_token").first()
    phone = case.requester_phone if case is not None else ""
    tail = phone[-4:] if len(phone) >= 4 else "\0\0\0\0"
    matched = hmac.compare_digest(tail.encode(), digits.encode())
    return case if (case is not None and matched) else None


@never_cache
@csrf_protect
def track(request: HttpRequest) -> HttpResponse:
    form = TrackForm(request.POST or None)
    not_found = False
    throttled = ""  # which limit stopped this look-up: "client" or "case"
    if request.method == "POST" and form.is_valid():
        number = form.cleaned_data["number"]
        # Counted before it is checked, so that racing clients never pass the limit.
        throttled = limits.take_guess(request, number)
        if not throttled:
            case = find_for_requester(number, form.cleaned_data["digits"])
            if case is not None:
                limits.give_back_guess(request, number)
                return redirect("web:track_token", token=case.public_token)
            not_found = True
    return render(request, "web/track.html", {"form": form, "not_found": not_found, "throttled": throttled})


def _public_events(case: Case, shown: Case) -> list[dict]:
    """The timeline in plain words: the requester's own case, and for a merged duplicate the
    handling of the case it was merged into."""
    events = CaseEvent.objects.filter(case=case, action__in=PUBLIC_EVENTS)
    if shown.pk != case.pk:
        events = events | CaseEvent.objects.filter(case=shown, action__in=HANDLING_EVENTS)
    out = []
    for e in events.order_by("at", "id"):
        words = str(PUBLIC_EVENTS[e.action])
        if e.action == "assign":
            words = words % {"unit": e.data.get("unit_name") or _("the responsible unit")}
        out.append({"at": e.at, "words": words})
    return out


def progress_of(case: Case) -> Case:
    """The case whose progress this requester follows: their own, or, once it was merged as
    a duplicate, the case it was merged into (following a chain of merges)."""
    shown, hops = case, 0
    while shown.merged_into_id and hops < MAX_MERGE_HOPS:
        nxt = Case.objects.select_related("matter", "owner_unit").filter(pk=shown.merged_into_id).first()
        if nxt is None:
            break
        shown, hops = nxt, hops + 1
    return shown


@never_cache
@csrf_protect
def track_token(request: HttpRequest, token: str) -> HttpResponse:
    case = Case.objects.select_related("matter", "owner_unit").filter(public_token=token).first()
    if case is None:
        raise Http404(_("Not found."))
    rating_form = RatingForm(request.POST or None)
    error = ""
    status = 200
    # A case answered on the spot (直接答复) is closed at once and rated beside it.
    answered = case.state == State.CLOSED and not case.rating and answer_of(case) is not None
    if request.method == "POST":
        if rating_form.is_valid():
            try:
                # "Unsatisfied" needs a reason and reopens the case, in one transaction.
                (rate_answer if answered else rate_by_requester)(
                    case.pk,
                    rating=rating_form.cleaned_data["rating"],
                    note=rating_form.cleaned_data["note"],
                    expected_version=_int(request.POST.get("version")),
                )
            except Invalid as exc:
                field = exc.field if exc.field in ("rating", "note") else None
                rating_form.add_error(field, exc.message)
                status = 422
            except Conflict:
                error = _("This case cannot be rated now: it may have been rated already.")
                status = 409
            except NotFound as exc:
                raise Http404(_("Not found.")) from exc
            else:
                return redirect(f"{request.path}?thanks=1")
        else:
            status = 422
        case.refresh_from_db()
    # A merged duplicate's requester follows the progress of the case it was merged into,
    # but that case's page, requester, feedback, photos and rating stay its own requester's.
    shown = progress_of(case)
    merged = shown.pk != case.pk
    context = {
        "case": case,
        "merged": merged,
        "matter": shown.matter,
        "owner_unit": shown.owner_unit,
        "words": (MERGED_STATE if merged else PUBLIC_STATE).get(shown.state, ""),
        "steps": [
            {
                "label": label,
                "done": i < STEP_OF.get(shown.state, 0),
                "current": i == STEP_OF.get(shown.state, 0),
            }
            for i, label in enumerate(STEPS)
        ],
        "events": _public_events(case, shown),
        # The requester's right to rate, as the rating action itself decides it.
        "can_rate": "rate" in available_actions(Actor.requester(), case) or answered,
        "rating_form": rating_form,
        "error": error,
        "thanks": request.GET.get("thanks") == "1",
        # The handling's photos only: never what another requester sent.
        "photos": list(
            Photo.objects.filter(case=case, source__in=PUBLIC_SOURCES).order_by("created_at", "id")
        ),
    }
    response = render(request, "web/track_case.html", context, status=status)
    response["Referrer-Policy"] = "same-origin"
    return response


def _int(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() else None
