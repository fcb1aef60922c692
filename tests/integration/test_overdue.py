"""Late and overdue are defined once: the database's ``late_q`` and ``overdue`` agree
with ``CaseClock.is_late`` clock by clock, and a case is overdue when one of its
running clocks is."""

from __future__ import annotations

import datetime as dt

import pytest

from minsheng.cases.models import Case, CaseClock, case_overdue, late_q
from minsheng.cases.states import ClockName
from tests.common.factories import intake

pytestmark = pytest.mark.django_db
H = dt.timedelta(hours=1)


def test_late_in_the_database_is_is_late_clock_by_clock(city, now):
    case = intake(city)
    t = now()
    CaseClock.objects.filter(case=case).update(stopped_at=t - 3 * H)  # out of the way
    specs = {
        "running, not yet due": {"due_at": t + H},
        "running, past due": {"due_at": t - H},
        "met in time": {"due_at": t - H, "met_at": t - 2 * H},
        "met late": {"due_at": t - 2 * H, "met_at": t - H},
        "stopped late": {"due_at": t - 2 * H, "stopped_at": t - H},
        "stopped in time": {"due_at": t - H, "stopped_at": t - 2 * H},
    }
    made = {
        label: CaseClock.objects.create(case=case, name=ClockName.RESOLVE, started_at=t - 3 * H, **spec)
        for label, spec in specs.items()
    }
    ours = CaseClock.objects.filter(pk__in=[c.pk for c in made.values()])
    late = set(ours.filter(late_q(t)).values_list("pk", flat=True))
    assert late == {c.pk for c in made.values() if c.is_late(t)}
    assert {c.pk for label, c in made.items() if label.endswith("late") or label.endswith("past due")} == late
    overdue = set(ours.overdue(t).values_list("pk", flat=True))
    assert overdue == {made["running, past due"].pk}
    assert Case.objects.filter(pk=case.pk).filter(case_overdue(t)).exists()
    made["running, past due"].delete()
    assert not Case.objects.filter(pk=case.pk).filter(case_overdue(t)).exists()
