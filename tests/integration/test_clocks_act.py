"""Clocks that act: warnings, breaches, escalation, and a worker that can be killed."""

import signal
import subprocess
import sys
import time

import pytest

from minsheng.cases import actions
from minsheng.cases.models import CaseClock, CaseEvent
from minsheng.notify.models import OutboxMessage
from minsheng.worker.loop import run_pass
from tests.common.factories import intake
from tests.common.processes import child_env

pytestmark = pytest.mark.django_db


def _village_case(city):
    """A territorial case handed by the sub-centre to a village: its sign clock is the
    village's."""
    case = intake(city, category="neighbor.dispute", point="east.a")
    return actions.assign_case(city.actor("sub_east"), case.pk, unit_id=city.units["gr-east.a"].pk)


def test_sign_breach_escalates_to_subcentre_with_event_and_one_notification(city, now):
    case = _village_case(city)
    now.advance(seconds=61)
    run_pass(deliver=False)
    run_pass(deliver=False)  # a second pass acts on nothing twice

    breach = CaseEvent.objects.filter(case=case, action="clock_breach")
    assert breach.count() == 1
    assert breach.get().data["escalated_to"] == "sub-east"
    supervision = CaseEvent.objects.get(case=case, action="supervise")
    assert supervision.data["automatic"] and supervision.data["unit"] == "sub-east"
    to_sub = OutboxMessage.objects.filter(case=case, kind="clock_breach", unit=city.units["sub-east"])
    assert to_sub.count() == 1
    case.refresh_from_db()
    assert case.supervision_count == 1


def test_every_breach_in_one_pass_counts_as_a_supervision(city, now):
    case = _village_case(city)  # sign, feedback and resolve clocks running
    now.advance(days=30)  # all three overdue, acted on in one batch
    assert run_pass(deliver=False).breached == 3

    breaches = CaseEvent.objects.filter(case=case, action="clock_breach")
    assert sorted(breaches.values_list("data__clock", flat=True)) == ["feedback", "resolve", "sign"]
    case.refresh_from_db()
    assert case.supervision_count == breaches.count() == 3

    # A supervision by hand counts on top of the automatic ones.
    actions.supervise_case(city.actor("sub_east"), case.pk, note="今天内处理")
    case.refresh_from_db()
    assert case.supervision_count == 4


def test_warning_comes_at_eighty_percent_and_only_once(city, now):
    case = intake(city)  # road.manhole → roads department, sign limit 1 minute
    now.advance(seconds=47)
    assert run_pass(deliver=False).warned == 0
    now.advance(seconds=2)  # 49 s > 48 s = 80% of 60 s
    assert run_pass(deliver=False).warned == 1
    assert run_pass(deliver=False).warned == 0
    warning = CaseEvent.objects.get(case=case, action="clock_warning")
    assert warning.data["clock"] == "sign"
    assert (
        OutboxMessage.objects.filter(case=case, kind="clock_warning", unit=city.units["roads"]).count() == 1
    )


def test_breach_stays_on_record_when_met_late(city, now):
    case = intake(city)
    now.advance(minutes=2)
    run_pass(deliver=False)
    case = actions.sign_case(city.actor("roads"), case.pk)
    sign = CaseClock.objects.get(case=case, name="sign")
    assert sign.breached_at is not None and sign.met_at is not None and sign.is_late()


def test_department_breach_escalates_to_city_centre(city, now):
    case = intake(city)
    now.advance(minutes=2)
    run_pass(deliver=False)
    assert CaseEvent.objects.get(case=case, action="clock_breach").data["escalated_to"] == "centre"


def test_clock_met_in_time_never_breaches(city, now):
    case = intake(city)
    now.advance(seconds=20)
    actions.sign_case(city.actor("roads"), case.pk)
    now.advance(minutes=3)  # dispatch clock (5 min) still running, sign met
    result = run_pass(deliver=False)
    assert result.breached == 0
    assert not CaseEvent.objects.filter(case=case, action="clock_breach").exists()


@pytest.mark.django_db(transaction=True)
def test_killing_the_worker_mid_batch_loses_and_duplicates_nothing(city, now, tmp_path):
    cases = [intake(city, phone="") for _ in range(120)]
    # The worker runs on this test's clock (core.clock.child_env), two minutes on: every
    # sign limit (1 minute) is past, the dispatch (5 minutes) and longer ones are not.
    now.advance(minutes=2)
    env = child_env()
    cmd = [sys.executable, "-m", "minsheng", "worker", "--batch", "10", "--max-sleep", "0.05"]
    proc = subprocess.Popen(  # noqa: S603  (our own entry point)
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 60
    seen = 0
    while time.monotonic() < deadline:
        seen = CaseClock.objects.filter(name="sign", breached_at__isnull=False).count()
        if seen >= 10:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 0 < seen < len(cases), "the kill should land mid-run"

    subprocess.run(  # noqa: S603  (our own entry point)
        [*cmd[:4], "--once", "--batch", "10"], env=env, check=True, stdout=subprocess.DEVNULL
    )
    for case in cases:
        assert CaseEvent.objects.filter(case=case, action="clock_breach").count() == 1
        assert OutboxMessage.objects.filter(case=case, kind="clock_breach").count() == 2
