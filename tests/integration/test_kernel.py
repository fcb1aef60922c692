"""The case kernel: the one writer of the case's log, and what the parts plug into it."""

import pytest
from django.utils import translation

from minsheng.accounts.actors import Actor
from minsheng.cases import kernel, registry
from minsheng.cases.errors import Conflict, Forbidden
from minsheng.cases.models import Case, CaseEvent
from tests.common.factories import intake

pytestmark = pytest.mark.django_db


def test_a_kind_nobody_registered_is_refused_and_nothing_is_written(city, now):
    case = intake(city)
    before = CaseEvent.objects.filter(case=case).count()
    with pytest.raises(LookupError):
        kernel.record(case, "no_such_kind", now(), actor=Actor.system("test"))
    with pytest.raises(LookupError), kernel.change(Actor.system("test"), case.pk, "no_such_kind") as ch:
        ch.event()
    assert CaseEvent.objects.filter(case=case).count() == before


def test_the_parts_kinds_are_in_the_one_list_with_their_words(db):
    kinds = registry.event_kinds()
    for kind in ("accept", "clock_breach", "group_formed", "arrive", "photo", "alarm_raised"):
        assert kind in kinds
    assert "registered" not in kinds  # a device's log only, never a case's
    with translation.override("en"):
        assert registry.event_label("arrive") == "Arrived on site"
        assert registry.event_label("group_dissolved") == "Joint group dissolved"
    with pytest.raises(ValueError):
        registry.register_event_kinds({"arrive": "Something else"})


def test_a_guard_refuses_after_the_state_and_before_the_version(city, now):
    case = intake(city)  # assigned to the roads department
    roads = city.actor("roads")
    refusing = registry.Guard(
        frozenset({"sign", "dispatch"}), lambda c: dict.fromkeys(("sign", "dispatch"), "No.")
    )
    registry._guards.append(refusing)
    try:
        stale = case.version - 1
        with (
            pytest.raises(Conflict) as refused,
            kernel.change(roads, case.pk, "sign", expected_version=stale),
        ):
            pass
        assert refused.value.message == "No."  # the guard, before the stale version
        with pytest.raises(Conflict) as wrong_state, kernel.change(roads, case.pk, "dispatch"):
            pass
        assert wrong_state.value.message != "No."  # the state, before the guard
        assert wrong_state.value.state == "assigned"
        with pytest.raises(Forbidden), kernel.change(city.actor("sub_east"), case.pk, "sign"):
            pass  # the right (it sees the case, in its town), before the guard
    finally:
        registry._guards.remove(refusing)
    assert Case.objects.get(pk=case.pk).version == case.version
