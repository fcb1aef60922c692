"""Every change to calls and callbacks, each one named action in one transaction.

* :func:`receive_event` — an event from the telephone system (ring, answer, hang-up), taken
  once by its id; events that arrive out of order move a call only forward.
* :func:`intake_from_call` — register a case from a call (``cases.actions.accept_case``)
  and link the call to it, in one transaction; the case's timeline says it came from the call.
* :func:`complete_callback`, :func:`callback_unreachable` — the callback queue (漏接回拨).
* :func:`callbacks_pass` — the worker's part: a call whose hang-up never came counts as
  missed, the centre is warned of every callback whose clock has passed, and numbers past
  the city's retention period are erased (``retention.py``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from minsheng.accounts.actors import Actor
from minsheng.accounts.models import Unit, UnitKind
from minsheng.cases import kernel
from minsheng.cases.actions import Intake, accept_case
from minsheng.cases.errors import Conflict, Forbidden, Invalid, NotFound
from minsheng.cases.models import Case
from minsheng.core import clock
from minsheng.core.phones import mask_phone, normalize_phone
from minsheng.core.text import NulCharacter, clean_text
from minsheng.notify.actions import enqueue

from . import retention, rules
from .models import Call, CallbackState, CallbackTask, CallEvent, CallState, EventKind

log = logging.getLogger("minsheng.calls")

# A hang-up's ``cause`` that marks an answered call as cut off, owed a callback.
DROPPED_CAUSE = "dropped"


@dataclass(frozen=True)
class CallEventIn:
    """One event as the telephone system sent it, already parsed by the entry point."""

    event_id: str
    kind: str
    call_id: str
    at: dt.datetime
    caller: str = ""
    seat: str = ""
    agent: str = ""
    recording_url: str = ""
    cause: str = ""


@dataclass(frozen=True)
class Received:
    call: Call
    duplicate: bool
    ignored: str = ""  # why the event changed nothing, when it did not


def _caller(raw: str) -> str:
    """National digits, or "" for a withheld number (nothing to call back)."""
    try:
        return normalize_phone(raw or "")
    except ValueError as exc:
        raise Invalid("caller", _("Not a valid Chinese phone number.")) from exc


def _recording(raw: str) -> str:
    raw = (raw or "").strip()
    if not raw:
        return ""
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(raw) > 500:
        raise Invalid(
            "recording_url", _("A recording is linked by an http(s) URL of at most 500 characters.")
        )
    return raw


def receive_event(event: CallEventIn) -> Received:
    """Take one event of the telephone system. The same ``event_id`` a second time changes
    nothing and is answered as a duplicate. A call moves only forward (ringing → answered →
    ended; a hang-up before any answer is a missed call; a hang-up with cause ``dropped``
    after an answer is a dropped call); an event that arrives after the call moved past it
    fills in what was missing (the ring's time, the recording) and is otherwise ignored."""
    if event.kind not in EventKind.values:
        raise Invalid("event", _("One of: ring, answer, hangup."))
    if timezone.is_naive(event.at):
        raise Invalid("at", _("A moment with its UTC offset."))
    caller = _caller(event.caller)
    recording = _recording(event.recording_url)
    now = clock.now()
    try:
        with transaction.atomic():
            seen = CallEvent.objects.filter(event_id=event.event_id).select_related("call").first()
            if seen is not None:
                return Received(seen.call, duplicate=True, ignored=seen.ignored)
            call, _created = Call.objects.select_for_update().get_or_create(
                call_id=event.call_id,
                defaults={"state": CallState.RINGING, "created_at": now, "updated_at": now},
            )
            ignored = _apply(call, event, caller=caller, recording=recording, now=now)
            CallEvent.objects.create(
                call=call,
                event_id=event.event_id,
                kind=event.kind,
                at=event.at,
                received_at=now,
                ignored=ignored,
            )
            call.updated_at = now
            call.save()
            return Received(call, duplicate=False, ignored=ignored)
    except IntegrityError:
        # The same event delivered twice at the same moment: the other delivery took it.
        seen = CallEvent.objects.filter(event_id=event.event_id).select_related("call").first()
        if seen is None:
            raise
        return Received(seen.call, duplicate=True, ignored=seen.ignored)


def _apply(call: Call, event: CallEventIn, *, caller: str, recording: str, now: dt.datetime) -> str:
    """Move ``call`` by ``event``; answer why nothing moved, or ""."""
    if caller and not call.caller:
        call.caller = caller
    if recording:
        call.recording_url = recording
    # Who the call rings at or was answered by; a call that is over keeps what it had.
    for name in ("seat", "agent"):
        value = getattr(event, name).strip()
        if value and (not call.is_over or not getattr(call, name)):
            setattr(call, name, value)
    if event.kind == EventKind.RING:
        call.rang_at = min(call.rang_at, event.at) if call.rang_at else event.at
        return "" if call.state == CallState.RINGING else "ring after the call moved on"
    if event.kind == EventKind.ANSWER:
        if call.is_over:
            return "answer after the hang-up"
        if call.state == CallState.ANSWERED:
            return "already answered"
        call.state = CallState.ANSWERED
        call.answered_at = event.at
        call.rang_at = call.rang_at or event.at
        _caller_reached(call, now)
        return ""
    # hang-up
    if call.is_over:
        return "already over"
    call.ended_at = event.at
    call.rang_at = call.rang_at or event.at
    if call.state == CallState.ANSWERED:
        call.state = CallState.DROPPED if event.cause == DROPPED_CAUSE else CallState.ENDED
    else:
        call.state = CallState.MISSED
    if call.state in (CallState.MISSED, CallState.DROPPED):
        _owe_callback(call, event.at, now)
    return ""


def _owe_callback(call: Call, missed_at: dt.datetime, now: dt.datetime) -> CallbackTask | None:
    """Open the callback for a missed or dropped call, or join the caller's open one (the
    clock runs from the first missed call). A withheld number cannot be called back."""
    if not call.caller:
        return None
    task = (
        CallbackTask.objects.select_for_update().filter(phone=call.caller, state=CallbackState.OPEN).first()
    )
    if task is None:
        try:
            with transaction.atomic():
                task = CallbackTask.objects.create(
                    phone=call.caller,
                    missed_at=missed_at,
                    due_at=missed_at + rules.callback_limit(),
                    created_at=now,
                )
        except IntegrityError:  # another missed call from the number opened it a moment ago
            task = CallbackTask.objects.select_for_update().get(phone=call.caller, state=CallbackState.OPEN)
            task = _joined(task)
    else:
        task = _joined(task)
    call.callback = task
    return task


def _joined(task: CallbackTask) -> CallbackTask:
    task.missed_count += 1
    task.save(update_fields=["missed_count"])
    return task


def _caller_reached(call: Call, now: dt.datetime) -> None:
    """A caller we owe a callback rang again and was answered: the callback is done."""
    if not call.caller:
        return
    CallbackTask.objects.filter(phone=call.caller, state=CallbackState.OPEN).update(
        state=CallbackState.DONE,
        closed_at=now,
        note=_("The caller rang again and was answered (call %(call)s).") % {"call": call.call_id},
    )


# --- a case from a call ------------------------------------------------------------------


def get_call(call_id: str) -> Call:
    call = Call.objects.filter(call_id=call_id).first()
    if call is None:
        raise NotFound(_("No such call."))
    return call


def link_call(actor: Actor, call: Call, case: Case) -> bool:
    """Link ``call`` to the case registered from it, once: a call keeps the first case it
    produced. The case's timeline says it came from the call. Answers whether it linked."""
    with transaction.atomic():
        locked = Call.objects.select_for_update().get(pk=call.pk)
        if locked.case_id is not None:
            return locked.case_id == case.pk
        at = clock.now()
        locked.case = case
        locked.updated_at = at
        locked.save(update_fields=["case", "updated_at"])
        kernel.record(case, "call_linked", at, actor=actor, data={"call_id": locked.call_id})
        call.case = case
        return True


def linking_call(actor: Actor, call_id: str) -> Callable[[Case], None]:
    """The step that links a case another part registers during a call to that call, for
    that part's action to run in its own transaction (``after_create`` of
    ``knowledge.actions.answer_on_the_spot``: 直接答复 on the call). An unknown call raises
    404 there, which undoes the case."""

    def link(case: Case) -> None:
        link_call(actor, get_call(call_id), case)

    return link


def intake_from_call(actor: Actor, data: Intake, *, call_id: str, idempotency_key: str | None = None) -> Case:
    """受理 from a call: ``accept_case`` and the link to the call in one transaction (a
    refusal of either leaves nothing written)."""
    call = get_call(call_id)
    with transaction.atomic():
        case = accept_case(actor, data, idempotency_key=idempotency_key)
        link_call(actor, call, case)
    return case


# --- the callback queue (漏接回拨) ----------------------------------------------------------


def _open_task(actor: Actor, task_id: int) -> CallbackTask:
    if actor.role not in rules.CALLBACK_ROLES:
        raise Forbidden(_("Only the centre's operators and dispatchers work the callback queue."))
    task = CallbackTask.objects.select_for_update().filter(pk=task_id).first()
    if task is None:
        raise NotFound(_("No such callback."))
    if not task.is_open:
        raise Conflict(
            _("This callback is already closed: %(state)s.") % {"state": task.get_state_display()},
            state=task.state,
            version=task.attempts,
        )
    return task


def _note(value: str) -> str:
    """A note under the one rule for control characters (``core.text``)."""
    try:
        return clean_text(value or "").strip()
    except NulCharacter as exc:
        raise Invalid("note", _("Remove the NUL character from the text.")) from exc


def _close(task: CallbackTask, actor: Actor, state: str, note: str, at: dt.datetime) -> None:
    task.state = state
    task.closed_at = at
    task.closed_by = actor.user
    task.next_attempt_at = None
    if note:
        task.note = note


def complete_callback(actor: Actor, task_id: int, *, note: str = "") -> CallbackTask:
    """已回拨: the caller was reached."""
    note = _note(note)
    with transaction.atomic():
        task = _open_task(actor, task_id)
        at = clock.now()
        task.attempts += 1
        task.last_attempt_at = at
        _close(task, actor, CallbackState.DONE, note, at)
        task.save()
        return task


def callback_unreachable(actor: Actor, task_id: int, *, note: str = "") -> CallbackTask:
    """An attempt that did not reach the caller. The next may be made after the set
    interval; the last of the set number closes the callback as unreachable."""
    note = _note(note)
    with transaction.atomic():
        task = _open_task(actor, task_id)
        at = clock.now()
        if task.next_attempt_at is not None and at < task.next_attempt_at:
            local = timezone.localtime(task.next_attempt_at)
            raise Conflict(
                _("Try again from %(at)s: attempts are made at set intervals.") % {"at": f"{local:%H:%M}"},
                state=task.state,
                version=task.attempts,
            )
        task.attempts += 1
        task.last_attempt_at = at
        if note:
            task.note = note
        if task.attempts >= rules.callback_attempts():
            _close(task, actor, CallbackState.UNREACHABLE, "", at)
        else:
            task.next_attempt_at = at + rules.callback_retry()
        task.save()
        return task


# --- the worker's part ---------------------------------------------------------------------


def _centre() -> Unit | None:
    return Unit.objects.filter(kind=UnitKind.CENTRE, active=True).order_by("pk").first()


def miss_stale_rings(now: dt.datetime, limit: int = 500) -> int:
    """A call still ringing past the ring timeout (its hang-up never came) is missed."""
    cutoff = now - rules.ring_timeout()
    done = 0
    with transaction.atomic():
        stale = Call.objects.select_for_update(skip_locked=True).filter(
            state=CallState.RINGING, rang_at__lte=cutoff
        )[:limit]
        for call in stale:
            call.state = CallState.MISSED
            call.ended_at = (call.rang_at or now) + rules.ring_timeout()
            call.updated_at = now
            _owe_callback(call, call.ended_at, now)
            call.save()
            done += 1
    return done


def warn_overdue_callbacks(now: dt.datetime, limit: int = 500) -> int:
    """Tell the centre (``callback_overdue``) of every open callback whose clock passed,
    once each. Claimed with ``SKIP LOCKED`` so that several workers share the work."""
    centre = _centre()
    warned = 0
    with transaction.atomic():
        due = CallbackTask.objects.select_for_update(skip_locked=True).filter(
            state=CallbackState.OPEN, warned_at__isnull=True, due_at__lte=now
        )[:limit]
        for task in due:
            task.warned_at = now
            task.save(update_fields=["warned_at"])
            if centre is None:
                log.warning("callback %s is overdue and there is no centre unit to tell", task.pk)
                continue
            enqueue(
                "callback_overdue",
                unit=centre,
                context={
                    "phone": mask_phone(task.phone),
                    "missed_count": task.missed_count,
                    "missed_at": task.missed_at.isoformat(),
                    "due_at": task.due_at.isoformat(),
                },
            )
            warned += 1
    return warned


def callbacks_pass(now: dt.datetime, limit: int = 500) -> int:
    """The worker's pass over calls: stale rings become missed calls, overdue callbacks
    are warned of, and numbers kept past the city's retention period are erased. Answers
    how many callbacks were warned of."""
    miss_stale_rings(now, limit)
    warned = warn_overdue_callbacks(now, limit)
    retention.erase_due(now, limit)
    return warned
