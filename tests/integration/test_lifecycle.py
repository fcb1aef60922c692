"""The closed loop through the named actions, on the real database."""

import pytest
from django.db import DatabaseError, transaction

from minsheng.cases import actions
from minsheng.cases.errors import Conflict, Forbidden, Invalid, NotFound
from minsheng.cases.models import CaseEvent
from minsheng.cases.states import State
from minsheng.notify.models import OutboxMessage
from tests.common.factories import intake

pytestmark = pytest.mark.django_db


def events(case):
    return list(CaseEvent.objects.filter(case=case).values_list("action", flat=True))


def test_whole_loop_routes_signs_dispatches_feeds_back_rates_and_closes(city, now):
    case = intake(city)
    assert case.number.startswith("MS20261123")
    assert case.state == State.ASSIGNED
    assert case.owner_unit == city.units["roads"]
    assert case.place == city.places["east.a"] and case.town == city.places["east"]

    roads = city.actor("roads")
    now.advance(seconds=30)
    actions.sign_case(roads, case.pk)
    now.advance(minutes=2)
    actions.dispatch_case(roads, case.pk, people=["field_roads", "抢修二班"])
    actions.handle_case(city.actor("field_roads"), case.pk, note="已到场，设置围挡")
    now.advance(hours=2)
    actions.feedback_case(roads, case.pk, note="井盖已更换，恢复通行")
    actions.rate_case(city.actor("operator"), case.pk, rating="satisfied")
    case = actions.close_case(city.actor("operator"), case.pk)

    assert case.state == State.CLOSED
    assert events(case) == ["accept", "assign", "sign", "dispatch", "handle", "feedback", "rate", "close"]
    clocks = {c.name: c for c in case.current_clocks()}
    assert set(clocks) == {"sign", "dispatch", "feedback", "resolve"}
    assert all(c.met_at is not None and not c.is_late() for c in clocks.values())
    kinds = set(OutboxMessage.objects.filter(case=case).values_list("kind", flat=True))
    assert {"case_accepted", "case_assigned", "case_dispatched", "case_feedback"} <= kinds


def test_late_sign_is_recorded_as_late(city, now):
    case = intake(city)
    now.advance(minutes=3)
    case = actions.sign_case(city.actor("roads"), case.pk)
    sign = next(c for c in case.current_clocks() if c.name == "sign")
    assert sign.is_late()


def test_territorial_matter_goes_to_the_subcentre_of_its_town(city, now):
    case = intake(city, category="neighbor.dispute", point="west.b")
    assert case.owner_unit == city.units["sub-west"]


def test_territorial_matter_without_place_waits_for_a_dispatcher(city, now):
    case = intake(city, category="neighbor.dispute", point=None)
    assert case.state == State.ACCEPTED and case.owner_unit is None
    assert events(case) == ["accept", "triage"]


def test_return_needs_a_reason_and_goes_back_to_the_city(city, now):
    case = intake(city)
    with pytest.raises(Invalid) as err:
        actions.return_case(city.actor("roads"), case.pk, note="  ")
    assert err.value.field == "note"
    case = actions.return_case(city.actor("roads"), case.pk, note="属于水务管网井盖")
    assert case.state == State.RETURNED and case.owner_unit is None
    case = actions.assign_case(city.actor("dispatcher"), case.pk, unit_id=city.units["water"].pk)
    assert case.owner_unit == city.units["water"]
    sign_clocks = case.clocks.filter(name="sign").order_by("started_at", "id")
    assert sign_clocks.count() == 2 and sign_clocks[0].stopped_at is not None


def test_second_signer_gets_409_with_current_state(city, now):
    case = intake(city)
    roads = city.actor("roads")
    actions.sign_case(roads, case.pk)
    with pytest.raises(Conflict) as err:
        actions.sign_case(roads, case.pk)
    assert err.value.state == State.SIGNED


def test_stale_version_is_refused_and_nothing_changes(city, now):
    case = intake(city)
    with pytest.raises(Conflict):
        actions.sign_case(city.actor("roads"), case.pk, expected_version=case.version - 1)
    case.refresh_from_db()
    assert case.state == State.ASSIGNED


def test_other_department_cannot_see_or_act(city, now):
    case = intake(city)
    with pytest.raises(NotFound):
        actions.sign_case(city.actor("water"), case.pk)
    with pytest.raises(Forbidden):
        actions.sign_case(city.actor("operator"), case.pk)


def test_unsatisfied_rating_reopens_to_the_same_unit(city, now):
    case = intake(city)
    roads = city.actor("roads")
    actions.sign_case(roads, case.pk)
    actions.dispatch_case(roads, case.pk, people=["抢修一班"])
    actions.feedback_case(roads, case.pk, note="已处理")
    actions.rate_case(city.actor("operator"), case.pk, rating="unsatisfied", note="没修好")
    with pytest.raises(Invalid):
        actions.close_case(city.actor("operator"), case.pk)
    case = actions.reopen_case(city.actor("operator"), case.pk, note="群众反映仍未修复")
    assert case.state == State.ASSIGNED and case.owner_unit == city.units["roads"]
    assert case.reopen_count == 1


def test_extension_moves_the_resolve_limit_by_working_days(city, now):
    case = intake(city)
    roads = city.actor("roads")
    actions.sign_case(roads, case.pk)
    before = next(c for c in case.current_clocks() if c.name == "resolve").due_at
    actions.request_extension(roads, case.pk, days=3, note="需采购井盖")
    case = actions.approve_extension(city.actor("dispatcher"), case.pk)
    after = next(c for c in case.current_clocks() if c.name == "resolve").due_at
    # 2026-11-25 (Wed) + 3 working days = 2026-11-30 (Mon)
    assert (before.date().isoformat(), after.date().isoformat()) == ("2026-11-25", "2026-11-30")


def test_merge_closes_duplicate_and_links_both(city, now):
    first = intake(city)
    dup = intake(city, phone="13900001111")
    dup = actions.merge_case(city.actor("dispatcher"), dup.pk, into=first.pk)
    assert dup.state == State.CLOSED and dup.merged_into == first
    assert "merged_in" in events(first)
    told = OutboxMessage.objects.get(case=dup, kind="case_merged")
    assert told.phone == "13900001111" and told.context["original"] == first.number


def test_events_cannot_be_edited(city, now):
    case = intake(city)
    event = CaseEvent.objects.filter(case=case).first()
    with pytest.raises(DatabaseError), transaction.atomic():
        CaseEvent.objects.filter(pk=event.pk).update(note="rewritten")


def test_returned_case_is_not_sent_back_to_the_unit_that_returned_it(city, now):
    case = intake(city)
    actions.return_case(city.actor("roads"), case.pk, note="不是我们的井盖")
    with pytest.raises(Invalid) as err:
        actions.assign_case(city.actor("dispatcher"), case.pk)
    assert err.value.field == "unit"
    case = actions.assign_case(city.actor("dispatcher"), case.pk, category="water.sewage")
    assert case.owner_unit == city.units["water"]
