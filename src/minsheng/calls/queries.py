"""Read-only questions about calls, for the seat, the callback queue and the case page.

* :func:`ringing_for` — the calls ringing or in progress at a seat or for an agent;
* :func:`caller_history` — the caller's earlier cases, as far as the person may see them;
* :func:`incoming` — both together, what the seat shows when a call rings;
* :func:`open_callbacks`, :func:`calls_of_case`;
* :func:`held_about` — the calls from one number and the callbacks owed to it, for a
  person's access request (registered with ``cases.registry.register_personal_data``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from minsheng.accounts.actors import Actor
from minsheng.cases.models import Case
from minsheng.cases.scoping import visible_cases
from minsheng.core import clock

from . import rules
from .models import Call, CallbackState, CallbackTask, CallerNumberAccess, CallState

# An answered call without a hang-up after this long is no longer shown at the seat.
TALK_SHOWN_FOR = dt.timedelta(hours=2)
HISTORY_ROWS = 5


def ringing_for(*, agent: str = "", seat: str = "", now: dt.datetime | None = None) -> list[Call]:
    """Calls ringing or answered (not yet hung up) for ``agent`` (the operator's user name,
    as the telephone system knows it) or at ``seat``, newest first. A ring older than the
    ring timeout, or a conversation older than two hours, is stale and left out."""
    agent, seat = agent.strip(), seat.strip()
    if not agent and not seat:
        return []
    now = now or clock.now()
    who = Q()
    if agent:
        who |= Q(agent=agent)
    if seat:
        who |= Q(seat=seat)
    fresh = Q(state=CallState.RINGING, rang_at__gt=now - rules.ring_timeout()) | Q(
        state=CallState.ANSWERED, answered_at__gt=now - TALK_SHOWN_FOR
    )
    return list(Call.objects.filter(who).filter(fresh).order_by("-rang_at", "-id")[:5])


def caller_history(actor: Actor, phone: str, *, rows: int = HISTORY_ROWS) -> tuple[list[Case], int]:
    """The caller's earlier cases that ``actor`` may see (``visible_cases``), newest first,
    and how many there are."""
    if not phone:
        return [], 0
    cases = visible_cases(actor, Case.objects.filter(requester_phone=phone))
    total = cases.count()
    shown = (
        list(cases.select_related("matter", "owner_unit").order_by("-created_at", "-id")[:rows])
        if total
        else []
    )
    return shown, total


@dataclass
class Incoming:
    """A call at the seat, with what the caller asked before."""

    call: Call
    history: list[Case] = field(default_factory=list)
    history_total: int = 0
    open_callback: CallbackTask | None = None


def incoming(actor: Actor, *, seat: str = "") -> list[Incoming]:
    """What the seat shows: the calls ringing or in progress for this person (by user
    name) or at ``seat``, each with the caller's earlier cases."""
    agent = actor.user.get_username() if actor.user is not None else ""
    out = []
    for call in ringing_for(agent=agent, seat=seat):
        history, total = caller_history(actor, call.caller)
        owed = (
            CallbackTask.objects.filter(phone=call.caller, state=CallbackState.OPEN).first()
            if call.caller
            else None
        )
        out.append(Incoming(call=call, history=history, history_total=total, open_callback=owed))
    return out


def open_callbacks() -> QuerySet[CallbackTask]:
    """The callback queue: open tasks, the earliest clock first."""
    return CallbackTask.objects.filter(state=CallbackState.OPEN).order_by("due_at", "id")


def recently_closed_callbacks(rows: int = 20) -> list[CallbackTask]:
    return list(
        CallbackTask.objects.exclude(state=CallbackState.OPEN)
        .select_related("closed_by")
        .order_by("-closed_at", "-id")[:rows]
    )


def calls_of_case(case: Case) -> list[Call]:
    """The calls a case was registered from (with their recordings)."""
    return list(Call.objects.filter(case=case).order_by("rang_at", "id"))


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def held_about(phone: str) -> dict[str, Any]:
    """What calls hold about one number (national digits): every call from it, with its
    times, state, recording and the case it produced, and who was shown the full number
    (by unit and role, not by name); every callback owed to it, with its outcome. A number
    the retention rule has erased is no longer found."""
    calls = list(Call.objects.filter(caller=phone).select_related("case").order_by("rang_at", "id"))
    seen: dict[int, list[dict[str, Any]]] = {}
    accesses = (
        CallerNumberAccess.objects.filter(call__in=calls)
        .select_related("user__profile__unit")
        .order_by("at", "id")
    )
    for row in accesses:
        profile = getattr(row.user, "profile", None)
        seen.setdefault(row.call_id, []).append(
            {
                "at": _iso(row.at),
                "via": row.via,
                "unit": profile.unit.name if profile is not None and profile.unit else None,
                "role": profile.get_role_display() if profile is not None else None,
            }
        )
    callbacks = CallbackTask.objects.filter(phone=phone).order_by("missed_at", "id")
    return {
        "calls": [
            {
                "call_id": c.call_id,
                "state": c.state,
                "state_label": str(c.get_state_display()),
                "rang_at": _iso(c.rang_at),
                "answered_at": _iso(c.answered_at),
                "ended_at": _iso(c.ended_at),
                "seat": c.seat,
                "recording_url": c.recording_url or None,
                "case": c.case.number if c.case else None,
                "seen_by": seen.get(c.pk, []),
            }
            for c in calls
        ],
        "callbacks": [
            {
                "state": t.state,
                "state_label": str(t.get_state_display()),
                "missed_at": _iso(t.missed_at),
                "due_at": _iso(t.due_at),
                "missed_calls": t.missed_count,
                "attempts": t.attempts,
                "closed_at": _iso(t.closed_at),
                "note": t.note,
            }
            for t in callbacks
        ],
    }
