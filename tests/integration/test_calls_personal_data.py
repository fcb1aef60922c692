"""Callers' numbers as personal data (PIPL, 等保 2.0 level 3), as a requester's phone is kept:
encrypted at rest, found through a keyed hash (one open callback per number included),
re-encrypted by ``rotatekeys``, erased by the worker once the call or the callback is older
than the city's period, and encrypted in place by the migration that brought this in."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from minsheng.calls import actions, queries
from minsheng.calls.actions import CallEventIn
from minsheng.calls.models import Call, CallbackState, CallbackTask
from minsheng.core import clock, crypto
from minsheng.worker.loop import run_pass
from tests.common.factories import intake

pytestmark = pytest.mark.django_db

CALLER = "13812345678"
OTHER = "13900001111"


def raw(table: str, column: str, pk: int) -> str:
    """What the database itself holds, read around the ORM."""
    with connection.cursor() as cur:
        cur.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cur.fetchone()[0]


def ring_out(call_id: str, caller: str = CALLER) -> Call:
    """A call rung and hung up unanswered: missed, owed a callback."""
    for kind in ("ring", "hangup"):
        actions.receive_event(
            CallEventIn(
                event_id=f"{call_id}-{kind}", kind=kind, call_id=call_id, at=clock.now(), caller=caller
            )
        )
    return Call.objects.get(call_id=call_id)


def answered(call_id: str, caller: str = CALLER) -> Call:
    for kind in ("ring", "answer", "hangup"):
        actions.receive_event(
            CallEventIn(
                event_id=f"{call_id}-{kind}",
                kind=kind,
                call_id=call_id,
                at=clock.now(),
                caller=caller,
                seat="8001",
            )
        )
    return Call.objects.get(call_id=call_id)


# --- at rest ---------------------------------------------------------------------------------


def test_the_callers_number_is_encrypted_at_rest_and_read_back_plain(city, now):
    call = ring_out("c1", "138 1234 5678")
    task = CallbackTask.objects.get()
    stored = raw("calls_call", "caller", call.pk) + raw("calls_callbacktask", "phone", task.pk)
    assert CALLER not in stored and "5678" not in stored
    assert Call.objects.get(pk=call.pk).caller == CALLER
    assert CallbackTask.objects.get(pk=task.pk).phone == CALLER


def test_every_look_up_by_number_still_finds_it(city, now):
    intake(city, phone=CALLER)
    ring_out("c1")
    ring_out("c2")  # joins the open callback, found by the number's hash
    ring_out("c3", OTHER)
    task = CallbackTask.objects.get(phone=CALLER)
    assert task.missed_count == 2 and CallbackTask.objects.count() == 2
    assert set(Call.objects.filter(caller=CALLER).values_list("call_id", flat=True)) == {"c1", "c2"}
    # The seat: the caller's open callback and earlier cases, by number.
    answered_call = answered("c4")
    assert CallbackTask.objects.get(pk=task.pk).state == CallbackState.DONE  # the caller reached
    history, total = queries.caller_history(city.actor("operator"), answered_call.caller)
    assert total == 1 and history[0].requester_phone == CALLER


def test_one_open_callback_per_number_is_held_by_the_database_on_the_hash(city, now):
    ring_out("c1")
    with pytest.raises(IntegrityError), transaction.atomic():
        CallbackTask.objects.create(phone=CALLER, missed_at=now(), due_at=now())
    # A closed one does not count.
    CallbackTask.objects.filter(phone=CALLER).update(state=CallbackState.DONE, closed_at=now())
    CallbackTask.objects.create(phone=CALLER, missed_at=now(), due_at=now())
    assert CallbackTask.objects.filter(phone=CALLER).count() == 2


def test_rotatekeys_re_encrypts_the_callers_numbers(city, now, settings):
    old, new = crypto.generate_key(), crypto.generate_key()
    settings.MINSHENG_DATA_KEYS, settings.MINSHENG_INDEX_KEYS = old, "index-old"
    call = ring_out("c1")
    task = CallbackTask.objects.get()
    before = raw("calls_call", "caller", call.pk), raw("calls_callbacktask", "phone_hash", task.pk)

    settings.MINSHENG_DATA_KEYS, settings.MINSHENG_INDEX_KEYS = f"{new},{old}", "index-new,index-old"
    out = io.StringIO()
    call_command("rotatekeys", stdout=out)
    assert "calls.Call:" in out.getvalue() and "calls.CallbackTask:" in out.getvalue()

    settings.MINSHENG_DATA_KEYS, settings.MINSHENG_INDEX_KEYS = new, "index-new"
    after = raw("calls_call", "caller", call.pk), raw("calls_callbacktask", "phone_hash", task.pk)
    assert after[0] != before[0] and after[1] != before[1]
    assert Call.objects.get(caller=CALLER) == call
    assert CallbackTask.objects.get(phone=CALLER, state=CallbackState.OPEN) == task


# --- retention ---------------------------------------------------------------------------------


def test_numbers_are_erased_once_the_call_or_callback_is_older_than_the_citys_period(city, now, settings):
    settings.MINSHENG_PERSONAL_DATA_DAYS = 30
    missed = ring_out("c1")
    task = CallbackTask.objects.get()
    actions.complete_callback(city.actor("operator"), task.pk, note="已回拨，市民已说明")
    talked = answered("c2", OTHER)

    now.advance(days=20)
    late = ring_out("c3", OTHER)  # a later call, and its callback still open
    now.advance(days=10, seconds=1)  # c1, c2 and the closed callback are now past 30 days
    run_pass(now(), deliver=False)

    for call in (missed, talked):
        call = Call.objects.get(pk=call.pk)
        assert call.caller == "" and raw("calls_call", "caller_hash", call.pk) == ""
        assert call.number_erased_at == now()
        assert call.state in ("missed", "ended")  # what the call was stays on record
    task = CallbackTask.objects.get(pk=task.pk)
    assert task.phone == "" and task.number_erased_at == now() and task.state == CallbackState.DONE
    assert not Call.objects.filter(caller=CALLER).exists()
    assert not CallbackTask.objects.filter(phone=CALLER).exists()
    # The later call and the open callback keep their number.
    assert Call.objects.get(pk=late.pk).caller == OTHER
    assert CallbackTask.objects.get(state=CallbackState.OPEN).phone == OTHER

    # Once the open callback is closed and its period has passed, it goes too.
    open_task = CallbackTask.objects.get(state=CallbackState.OPEN)
    actions.complete_callback(city.actor("operator"), open_task.pk)
    now.advance(days=31)
    run_pass(now(), deliver=False)
    assert CallbackTask.objects.get(pk=open_task.pk).phone == ""
    assert Call.objects.get(pk=late.pk).caller == ""


def test_a_call_whose_end_never_came_loses_its_number_after_the_period(city, now, settings):
    settings.MINSHENG_PERSONAL_DATA_DAYS = 30
    actions.receive_event(
        CallEventIn(event_id="c1-answer", kind="answer", call_id="c1", at=now(), caller=CALLER, seat="8001")
    )
    now.advance(days=29)
    run_pass(now(), deliver=False)
    assert Call.objects.get().caller == CALLER
    now.advance(days=2)
    run_pass(now(), deliver=False)
    assert Call.objects.get().caller == ""


def test_a_city_that_sets_no_period_keeps_the_numbers(city, now, settings):
    settings.MINSHENG_PERSONAL_DATA_DAYS = 0
    ring_out("c1")
    task = CallbackTask.objects.get()
    actions.complete_callback(city.actor("operator"), task.pk)
    now.advance(days=3650)
    run_pass(now(), deliver=False)
    assert Call.objects.get().caller == CALLER and CallbackTask.objects.get().phone == CALLER


# --- the migration -----------------------------------------------------------------------------

BEFORE = [("calls", "0002_seed_callback_template")]
AFTER = [("calls", "0003_caller_numbers_encrypted")]


def migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return executor.loader.project_state(target).apps


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_existing_numbers_and_its_undoing_decrypts_them(city):
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes("calls")
    apps = migrate(BEFORE)
    try:
        OldCall = apps.get_model("calls", "Call")
        OldTask = apps.get_model("calls", "CallbackTask")
        at = dt.datetime(2026, 11, 20, 8, tzinfo=dt.UTC)
        task = OldTask.objects.create(phone=CALLER, missed_at=at, due_at=at, created_at=at)
        old = OldCall.objects.create(
            call_id="c1", caller=CALLER, state="missed", callback=task, created_at=at, updated_at=at
        )
        withheld = OldCall.objects.create(
            call_id="c2", caller="", state="missed", created_at=at, updated_at=at
        )

        migrate(AFTER)
        assert CALLER not in raw("calls_call", "caller", old.pk)
        assert CALLER not in raw("calls_callbacktask", "phone", task.pk)
        assert Call.objects.get(caller=CALLER).pk == old.pk
        assert CallbackTask.objects.get(phone=CALLER, state="open").pk == task.pk
        assert Call.objects.get(pk=withheld.pk).caller == ""

        migrate(BEFORE)
        assert raw("calls_call", "caller", old.pk) == CALLER
        assert raw("calls_callbacktask", "phone", task.pk) == CALLER
    finally:
        migrate(latest)
