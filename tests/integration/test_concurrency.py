"""Two people at once, each on their own database connection, on PostgreSQL.

SQLite serialises every writer anyway, so these tests only mean something on a server
with row locks: they run when DATABASE_URL points at PostgreSQL and are skipped otherwise.
"""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager

import pytest
from django.db import connection

from minsheng.accounts.models import Role
from minsheng.cases import actions, kernel
from minsheng.cases.actions import Intake
from minsheng.cases.errors import Conflict
from minsheng.cases.models import Case, CaseEvent, IntakeKey
from tests.common.factories import intake, make_user

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not ON_POSTGRES, reason="needs DATABASE_URL pointing at PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def run_in_threads(*targets):
    """Run each callable in its own thread (so on its own connection); collect results."""
    results: list = [None] * len(targets)

    def wrap(i, fn):
        try:
            results[i] = fn()
        except Exception as exc:  # handed back to the test to inspect
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=wrap, args=(i, fn)) for i, fn in enumerate(targets)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
        assert not t.is_alive(), "a thread hung: a lock was never released"
    return results


def test_two_handlers_signing_at_once_one_succeeds_the_other_gets_conflict(city, monkeypatch):
    city.users["roads_b"] = make_user("roads_b", Role.HANDLER, city.units["roads"])
    case = intake(city)
    version = case.version
    first_holds_the_lock = threading.Event()
    real_change = kernel.change

    @contextmanager
    def slow_change(actor, case_id, action, **options):
        with real_change(actor, case_id, action, **options) as change:
            if actor.label == "roads":
                # The first signer holds the row lock for a while before it commits.
                first_holds_the_lock.set()
                time.sleep(0.5)
            yield change

    monkeypatch.setattr(kernel, "change", slow_change)
    timings = {}

    def first():
        return actions.sign_case(city.actor("roads"), case.pk, note="我签")

    def second():
        assert first_holds_the_lock.wait(10)
        started = time.monotonic()
        try:
            return actions.sign_case(city.actor("roads_b"), case.pk, note="我也签")
        finally:
            timings["second"] = time.monotonic() - started

    signed, refused = run_in_threads(first, second)

    assert isinstance(signed, Case) and signed.state == "signed"
    assert isinstance(refused, Conflict), refused
    assert refused.state == "signed" and refused.version == version + 1
    # The second waited for the first's lock instead of reading the old state.
    assert timings["second"] >= 0.3
    case.refresh_from_db()
    assert case.version == version + 1
    signs = CaseEvent.objects.filter(case=case, action="sign")
    assert list(signs.values_list("actor__username", flat=True)) == ["roads"]


def test_the_same_idempotency_key_sent_twice_at_once_makes_one_case(city):
    barrier = threading.Barrier(4)

    def send():
        actor = city.actor("operator")
        barrier.wait(10)
        return actions.accept_case(
            actor,
            Intake(channel="app", text="路灯不亮，晚上很黑", requester_phone="13812345678"),
            idempotency_key="retry-42",
        ).pk

    ids = run_in_threads(send, send, send, send)

    assert all(isinstance(i, int) for i in ids), ids
    assert len(set(ids)) == 1
    assert Case.objects.count() == 1
    assert IntakeKey.objects.count() == 1
    assert CaseEvent.objects.filter(action="accept").count() == 1


def test_intakes_at_once_get_distinct_numbers(city):
    barrier = threading.Barrier(6)

    def send():
        actor = city.actor("operator")
        barrier.wait(10)
        return actions.accept_case(actor, Intake(channel="hotline", text="噪音扰民")).number

    numbers = run_in_threads(*([send] * 6))

    assert all(isinstance(n, str) for n in numbers), numbers
    assert len(set(numbers)) == 6
