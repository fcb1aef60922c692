"""Calls from the telephone system (来电) and the callbacks owed (漏接回拨), through the named
actions: the states a call moves through, replay-safety by event id, missed and dropped
calls owing a callback with its clock, the recording reaching the case the call produced,
the caller's history as far as each person may see it, and the worker's pass."""

from __future__ import annotations

import datetime as dt

import pytest

from minsheng.calls import actions, queries
from minsheng.calls.actions import CallEventIn
from minsheng.calls.models import Call, CallbackState, CallbackTask, CallerNumberAccess, CallEvent, CallState
from minsheng.calls.privacy import reveal_caller
from minsheng.cases.actions import Intake
from minsheng.cases.errors import Conflict, Forbidden, Invalid
from minsheng.cases.models import CaseEvent
from minsheng.notify.models import OutboxMessage
from minsheng.worker.loop import run_pass
from tests.common.factories import intake

pytestmark = pytest.mark.django_db

CALLER = "13812345678"


def ev(kind: str, call_id: str = "c1", *, event_id: str | None = None, at=None, **kw) -> CallEventIn:
    from minsheng.core import clock

    return CallEventIn(
        event_id=event_id or f"{call_id}-{kind}",
        kind=kind,
        call_id=call_id,
        at=at or clock.now(),
        caller=kw.pop("caller", CALLER),
        seat=kw.pop("seat", "8001"),
        **kw,
    )


def test_ring_answer_hangup_moves_the_call_and_keeps_the_recording(city, now):
    r = actions.receive_event(ev("ring"))
    assert r.call.state == CallState.RINGING and not r.duplicate
    assert [c.call_id for c in queries.ringing_for(seat="8001")] == ["c1"]
    now.advance(seconds=5)
    r = actions.receive_event(ev("answer", agent="operator"))
    assert r.call.state == CallState.ANSWERED and r.call.agent == "operator"
    now.advance(minutes=3)
    r = actions.receive_event(ev("hangup", recording_url="https://cti.example.org/r/c1.wav"))
    call = Call.objects.get(call_id="c1")
    assert call.state == CallState.ENDED
    assert call.recording_url == "https://cti.example.org/r/c1.wav"
    assert call.talk_seconds == 180
    assert queries.ringing_for(seat="8001") == []
    assert not CallbackTask.objects.exists()


def test_a_replayed_event_changes_nothing(city, now):
    actions.receive_event(ev("ring"))
    actions.receive_event(ev("hangup"))  # missed: one callback
    call = Call.objects.get(call_id="c1")
    again = actions.receive_event(ev("hangup"))
    assert again.duplicate
    ring_again = actions.receive_event(ev("ring"))
    assert ring_again.duplicate
    call2 = Call.objects.get(call_id="c1")
    assert call2.state == CallState.MISSED and call2.updated_at == call.updated_at
    assert CallEvent.objects.count() == 2
    task = CallbackTask.objects.get()
    assert task.missed_count == 1


def test_events_out_of_order_move_a_call_only_forward(city, now):
    actions.receive_event(ev("ring"))
    actions.receive_event(ev("hangup"))
    late = actions.receive_event(ev("answer"))
    assert late.ignored == "answer after the hang-up"
    assert Call.objects.get(call_id="c1").state == CallState.MISSED


def test_a_ring_nobody_answers_is_a_missed_call_owed_a_callback_with_its_clock(city, now, settings):
    settings.MINSHENG_CALLBACK_MINUTES = 30
    actions.receive_event(ev("ring"))
    now.advance(seconds=40)
    actions.receive_event(ev("hangup"))
    call = Call.objects.get(call_id="c1")
    assert call.state == CallState.MISSED
    task = CallbackTask.objects.get()
    assert task.state == CallbackState.OPEN and task.phone == CALLER
    assert task.due_at == now() + dt.timedelta(minutes=30)
    assert call.callback == task
    # A second missed call from the number joins the open task; the clock stays.
    actions.receive_event(ev("ring", "c2"))
    actions.receive_event(ev("hangup", "c2"))
    task.refresh_from_db()
    assert task.missed_count == 2 and CallbackTask.objects.count() == 1
    assert list(queries.open_callbacks()) == [task]


def test_a_dropped_call_is_owed_a_callback(city, now):
    actions.receive_event(ev("ring"))
    actions.receive_event(ev("answer"))
    actions.receive_event(ev("hangup", cause="dropped"))
    assert Call.objects.get(call_id="c1").state == CallState.DROPPED
    assert CallbackTask.objects.get().state == CallbackState.OPEN


def test_a_withheld_number_is_missed_but_cannot_be_called_back(city, now):
    actions.receive_event(ev("ring", caller=""))
    actions.receive_event(ev("hangup", caller=""))
    assert Call.objects.get().state == CallState.MISSED
    assert not CallbackTask.objects.exists()


def test_a_malformed_event_is_refused_naming_the_field_and_nothing_is_written(city, now):
    with pytest.raises(Invalid) as refused:
        actions.receive_event(ev("hangup", recording_url="ftp://x/y.wav"))
    assert refused.value.field == "recording_url"
    with pytest.raises(Invalid) as refused:
        actions.receive_event(ev("ring", caller="12"))
    assert refused.value.field == "caller"
    assert not Call.objects.exists() and not CallEvent.objects.exists()


def test_the_caller_answered_on_a_later_call_closes_the_callback(city, now):
    actions.receive_event(ev("ring"))
    actions.receive_event(ev("hangup"))
    actions.receive_event(ev("ring", "c2"))
    actions.receive_event(ev("answer", "c2"))
    assert CallbackTask.objects.get().state == CallbackState.DONE


def test_the_recording_is_linked_to_the_case_the_call_produced(city, now):
    actions.receive_event(ev("ring"))
    actions.receive_event(ev("answer", agent="operator"))
    case = actions.intake_from_call(
        city.actor("operator"),
        Intake(
            channel="hotline",
            text="井盖破了",
            category="road.manhole",
            requester_phone=CALLER,
            lat=30.725,
            lng=121.025,
        ),
        call_id="c1",
    )
    actions.receive_event(ev("hangup", recording_url="https://cti.example.org/r/c1.wav"))
    [call] = queries.calls_of_case(case)
    assert call.call_id == "c1" and call.recording_url == "https://cti.example.org/r/c1.wav"
    assert CaseEvent.objects.filter(case=case, action="call_linked").count() == 1
    # A call keeps the first case it produced.
    other = intake(city, text="另一件事")
    assert actions.link_call(city.actor("operator"), call, other) is False
    assert Call.objects.get(call_id="c1").case == case


def test_intake_from_an_unknown_call_writes_nothing(city, now):
    from minsheng.cases.errors import NotFound
    from minsheng.cases.models import Case

    with pytest.raises(NotFound):
        actions.intake_from_call(
            city.actor("operator"), Intake(channel="hotline", text="井盖破了"), call_id="nope"
        )
    assert not Case.objects.exists()


def test_the_callers_history_is_what_each_person_may_see_and_the_number_is_masked_for_a_unit(city, now):
    road = intake(city, phone=CALLER)  # goes to the roads department
    sewage = intake(city, phone=CALLER, category="water.sewage", text="污水冒了")
    intake(city, phone="13900000000", text="别人的事")
    centre, total = queries.caller_history(city.actor("operator"), CALLER)
    assert total == 2 and {c.pk for c in centre} == {road.pk, sewage.pk}
    unit, total = queries.caller_history(city.actor("roads"), CALLER)
    assert total == 1 and [c.pk for c in unit] == [road.pk]
    # The full number: the centre's roles who call back, each time on record; a unit never.
    actions.receive_event(ev("ring"))
    call = Call.objects.get()
    assert reveal_caller(city.actor("roads"), call, via="intake") is False
    assert not CallerNumberAccess.objects.exists()
    assert reveal_caller(city.actor("operator"), call, via="intake") is True
    assert CallerNumberAccess.objects.get().user == city.users["operator"]


def test_the_seat_sees_its_ringing_call_with_the_callers_earlier_cases(city, now):
    intake(city, phone=CALLER)
    actions.receive_event(ev("ring", agent="operator"))
    [seen] = queries.incoming(city.actor("operator"))
    assert seen.call.call_id == "c1" and seen.history_total == 1
    assert queries.incoming(city.actor("dispatcher")) == []  # another person's call
    assert [i.call.call_id for i in queries.incoming(city.actor("dispatcher"), seat="8001")] == ["c1"]


def test_callback_attempts_at_set_intervals_then_unreachable(city, now, settings):
    settings.MINSHENG_CALLBACK_ATTEMPTS = 2
    settings.MINSHENG_CALLBACK_RETRY_MINUTES = 20
    actions.receive_event(ev("ring"))
    actions.receive_event(ev("hangup"))
    task = CallbackTask.objects.get()
    op = city.actor("operator")
    with pytest.raises(Forbidden):
        actions.callback_unreachable(city.actor("roads"), task.pk)
    task = actions.callback_unreachable(op, task.pk, note="关机")
    assert task.state == CallbackState.OPEN and task.attempts == 1
    with pytest.raises(Conflict):
        actions.callback_unreachable(op, task.pk)
    now.advance(minutes=20)
    task = actions.callback_unreachable(op, task.pk)
    assert task.state == CallbackState.UNREACHABLE and task.closed_by == city.users["operator"]
    with pytest.raises(Conflict):
        actions.complete_callback(op, task.pk)


def test_a_callback_done(city, now):
    actions.receive_event(ev("ring"))
    actions.receive_event(ev("hangup"))
    task = actions.complete_callback(city.actor("operator"), CallbackTask.objects.get().pk, note="已回电")
    assert task.state == CallbackState.DONE and task.attempts == 1
    assert list(queries.open_callbacks()) == []


def test_the_worker_misses_a_ring_never_hung_up_and_warns_of_overdue_callbacks_once(city, now, settings):
    settings.MINSHENG_CALL_RING_TIMEOUT_S = 600
    settings.MINSHENG_CALLBACK_MINUTES = 30
    actions.receive_event(ev("ring"))
    run_pass(now(), deliver=False)
    assert Call.objects.get().state == CallState.RINGING
    now.advance(minutes=11)
    run_pass(now(), deliver=False)
    call = Call.objects.get()
    assert call.state == CallState.MISSED
    task = CallbackTask.objects.get()
    assert task.missed_at == call.rang_at + dt.timedelta(minutes=10)
    assert not OutboxMessage.objects.filter(kind="callback_overdue").exists()
    now.advance(minutes=30)
    run_pass(now(), deliver=False)
    run_pass(now(), deliver=False)
    [warning] = OutboxMessage.objects.filter(kind="callback_overdue")
    assert warning.unit == city.units["centre"]
    assert CALLER not in str(warning.context) and "138****5678" in str(warning.context)
