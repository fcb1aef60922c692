"""Follow-up (回访): the city's rules choose which fed-back cases are called back; the
operator's answer becomes the rating (unsatisfied reopens the case to the unit that handled
it, through the case kernel); unanswered calls at set intervals end as unreachable (the
worker's pass); the requester's answer through the SMS link ends the follow-up too."""

from __future__ import annotations

import datetime as dt

import pytest

from minsheng.cases import actions
from minsheng.cases.errors import Conflict, Forbidden, Invalid
from minsheng.cases.models import Case, CaseEvent
from minsheng.cases.states import State
from minsheng.followup import actions as fu
from minsheng.followup import queries
from minsheng.followup.models import FollowUp, FollowUpState, MatterRule, Reason, RuleSet
from minsheng.followup.rules import in_share, sample_bucket
from minsheng.public.actions import rate_by_requester
from minsheng.worker.loop import run_pass
from tests.common.factories import intake

pytestmark = pytest.mark.django_db


def fed_back(city, *, category="road.manhole", unit="roads", text="人行道上井盖破了，很危险", **kw) -> Case:
    case = intake(city, category=category, text=text, **kw)
    handler = city.actor(unit)
    actions.sign_case(handler, case.pk)
    actions.dispatch_case(handler, case.pk, people=["抢修一班"])
    return actions.feedback_case(handler, case.pk, note="井盖已更换，恢复通行")


def complaints(city, matter="road.manhole", share=100, **rules) -> RuleSet:
    ruleset = RuleSet.current()
    for name, value in rules.items():
        setattr(ruleset, name, value)
    ruleset.save()
    MatterRule.objects.create(rules=ruleset, matter=city.matters[matter], share=share)
    return ruleset


def kinds(case) -> list[str]:
    return list(CaseEvent.objects.filter(case=case).order_by("at", "id").values_list("action", flat=True))


# --- the rules ----------------------------------------------------------------------------


def test_nothing_is_followed_up_until_the_city_says_what(city, now):
    case = fed_back(city)
    assert not FollowUp.objects.filter(case=case).exists()
    assert "followup_scheduled" not in kinds(case)


def test_every_case_of_a_complaint_matter_is_followed_up_after_its_feedback(city, now):
    complaints(city, delay_hours=24)
    case = fed_back(city)
    f = FollowUp.objects.get(case=case)
    assert f.state == FollowUpState.PENDING and f.reason == Reason.MATTER
    assert f.unit == city.units["roads"]
    assert f.due_at == now() + dt.timedelta(hours=24)
    assert kinds(case)[-1] == "followup_scheduled"


def test_a_share_of_a_matter_takes_the_same_cases_whenever_asked(city, now):
    complaints(city, share=30)
    cases = [fed_back(city, phone=f"1381234{i:04d}") for i in range(12)]
    chosen = {c.pk for c in cases if FollowUp.objects.filter(case=c).exists()}
    assert chosen == {c.pk for c in cases if sample_bucket(c.pk) < 30}
    assert in_share(cases[0].pk, 100) and not in_share(cases[0].pk, 0)


def test_every_case_of_a_unit_under_supervision_is_followed_up(city, now):
    ruleset = RuleSet.current()
    ruleset.supervised_units.add(city.units["water"])
    road = fed_back(city)
    water = fed_back(city, category="water.sewage", unit="water", text="污水冒了")
    assert not FollowUp.objects.filter(case=road).exists()
    assert FollowUp.objects.get(case=water).reason == Reason.UNIT


def test_a_supervised_case_is_followed_up_when_the_rules_say_so(city, now):
    ruleset = RuleSet.current()
    ruleset.supervised_cases = True
    ruleset.save()
    case = intake(city)
    actions.supervise_case(city.actor("dispatcher"), case.pk, note="今天内处理")
    roads = city.actor("roads")
    actions.sign_case(roads, case.pk)
    actions.dispatch_case(roads, case.pk, people=["抢修一班"])
    actions.feedback_case(roads, case.pk, note="已处理")
    assert FollowUp.objects.get(case=case).reason == Reason.SUPERVISED


def test_the_settings_give_the_first_rules(city, now, settings):
    settings.MINSHENG_FOLLOWUP_COMPLAINT_MATTERS = "road.manhole"
    settings.MINSHENG_FOLLOWUP_ATTEMPTS = 2
    ruleset = RuleSet.current()
    assert ruleset.attempts == 2
    assert ruleset.matter_rules.get().matter == city.matters["road.manhole"]
    assert FollowUp.objects.filter(case=fed_back(city)).exists()


# --- the queue ----------------------------------------------------------------------------


def test_the_queue_offers_a_follow_up_when_due_with_the_script_and_the_feedback(city, now):
    complaints(city, delay_hours=24)
    case = fed_back(city)
    assert queries.due_queue() == []
    now.advance(hours=24)
    [item] = queries.due_queue()
    assert item.followup.case == case
    assert case.number in item.script and "井盖已更换，恢复通行" in item.script
    assert "住建局" in item.script


def test_a_broken_script_falls_back_to_the_shipped_one(city, now):
    ruleset = complaints(city, delay_hours=0)
    ruleset.default_script = "{% if %}"
    ruleset.save()
    case = fed_back(city)
    [item] = queries.due_queue()
    assert case.number in item.script


# --- each outcome -------------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["satisfied", "basically_satisfied"])
def test_a_good_answer_is_the_rating_and_the_case_may_close(city, now, answer):
    complaints(city, delay_hours=0)
    case = fed_back(city)
    f = FollowUp.objects.get(case=case)
    fu.record_answer(city.actor("operator"), f.pk, outcome=answer)
    f.refresh_from_db()
    case.refresh_from_db()
    assert (f.state, f.outcome, f.via) == ("done", answer, "phone")
    assert case.state == State.RATED and case.rating == answer
    assert kinds(case)[-2:] == ["rate", "followup"]
    assert queries.due_queue() == []
    actions.close_case(city.actor("operator"), case.pk)


def test_unsatisfied_with_a_reason_reopens_the_case_to_the_unit_that_handled_it(city, now):
    complaints(city, delay_hours=0)
    case = fed_back(city)
    f = FollowUp.objects.get(case=case)
    fu.record_answer(city.actor("operator"), f.pk, outcome="unsatisfied", note="井盖还是松的")
    case.refresh_from_db()
    assert case.state == State.ASSIGNED and case.owner_unit == city.units["roads"]
    assert case.reopen_count == 1
    reopen = CaseEvent.objects.filter(case=case, action="reopen").get()
    assert "井盖还是松的" in reopen.note
    assert kinds(case)[-3:] == ["rate", "followup", "reopen"]
    # The unit's second feedback brings a new follow-up.
    roads = city.actor("roads")
    actions.sign_case(roads, case.pk)
    actions.dispatch_case(roads, case.pk, people=["抢修一班"])
    actions.feedback_case(roads, case.pk, note="已重新固定")
    assert FollowUp.objects.filter(case=case, state="pending").count() == 1


def test_unsatisfied_without_a_reason_is_refused_and_nothing_is_written(city, now):
    complaints(city, delay_hours=0)
    case = fed_back(city)
    f = FollowUp.objects.get(case=case)
    before = kinds(case)
    with pytest.raises(Invalid) as refused:
        fu.record_answer(city.actor("operator"), f.pk, outcome="unsatisfied", note="  ")
    assert refused.value.field == "note"
    f.refresh_from_db()
    case.refresh_from_db()
    assert f.state == "pending" and case.state == State.FEEDBACK and kinds(case) == before


def test_a_refused_rating_leaves_the_follow_up_pending(city, now):
    complaints(city, delay_hours=0)
    case = fed_back(city)
    f = FollowUp.objects.get(case=case)
    FollowUp.objects.filter(pk=f.pk).update(state="pending")
    Case.objects.filter(pk=case.pk).update(state=State.HANDLING)  # the case moved under us
    with pytest.raises(Conflict):
        fu.record_answer(city.actor("operator"), f.pk, outcome="satisfied")
    f.refresh_from_db()
    assert f.state == "pending"


def test_only_the_centre_makes_follow_up_calls(city, now):
    complaints(city, delay_hours=0)
    f = FollowUp.objects.get(case=fed_back(city))
    with pytest.raises(Forbidden):
        fu.record_answer(city.actor("roads"), f.pk, outcome="satisfied")
    with pytest.raises(Forbidden):
        fu.record_no_answer(city.actor("leader"), f.pk)


def test_unanswered_calls_at_set_intervals_end_as_unreachable_by_the_worker(city, now):
    complaints(city, delay_hours=0, attempts=3, interval_minutes=120)
    case = fed_back(city)
    f = FollowUp.objects.get(case=case)
    op = city.actor("operator")
    fu.record_no_answer(op, f.pk)
    with pytest.raises(Conflict):  # the next call only after the interval
        fu.record_no_answer(op, f.pk)
    assert queries.due_queue() == []
    now.advance(minutes=120)
    assert [i.followup.pk for i in queries.due_queue()] == [f.pk]
    fu.record_no_answer(op, f.pk)
    now.advance(minutes=120)
    fu.record_no_answer(op, f.pk)
    f.refresh_from_db()
    assert f.attempts == 3 and f.state == "pending"
    assert queries.due_queue() == []  # every call made: the link stays open one more interval
    run_pass(now(), deliver=False)
    f.refresh_from_db()
    assert f.state == "pending"
    now.advance(minutes=120)
    run_pass(now(), deliver=False)
    f.refresh_from_db()
    case.refresh_from_db()
    assert (f.state, f.outcome) == ("unreachable", "unreachable")
    assert kinds(case).count("followup_attempt") == 3 and kinds(case)[-1] == "followup_unreachable"
    assert case.state == State.FEEDBACK and case.rating == ""


def test_the_requester_answering_the_sms_link_ends_the_follow_up(city, now):
    complaints(city, delay_hours=24)
    case = fed_back(city)
    rate_by_requester(case.pk, rating="basically_satisfied")
    f = FollowUp.objects.get(case=case)
    assert (f.state, f.outcome, f.via) == ("done", "basically_satisfied", "link")
    now.advance(hours=25)
    assert queries.due_queue() == []


def test_unsatisfied_through_the_link_reopens_and_ends_the_follow_up(city, now):
    complaints(city, delay_hours=24)
    case = fed_back(city)
    rate_by_requester(case.pk, rating="unsatisfied", note="没修好")
    f = FollowUp.objects.get(case=case)
    case.refresh_from_db()
    assert (f.state, f.outcome, f.via) == ("done", "unsatisfied", "link")
    assert case.state == State.ASSIGNED


def test_closing_the_case_before_the_call_cancels_the_follow_up(city, now):
    complaints(city, delay_hours=24)
    case = fed_back(city)
    actions.close_case(city.actor("dispatcher"), case.pk)
    f = FollowUp.objects.get(case=case)
    assert f.state == FollowUpState.CANCELLED
    assert "followup_cancelled" in kinds(case)


# --- the statistics ------------------------------------------------------------------------


def test_the_statistics_count_follow_up_rate_satisfaction_and_unreachable(city, now):
    from minsheng.stats.measures import Filters, audit_items, local_date
    from minsheng.stats.report import build_report
    from minsheng.stats.rollup import refresh_rollups

    complaints(city, delay_hours=0, attempts=1, interval_minutes=60)
    cases = [fed_back(city, phone=f"1381234{i:04d}") for i in range(4)]
    fed_back(city, category="water.sewage", unit="water", text="污水冒了")  # fed back, not followed up
    op = city.actor("operator")
    f = {c.pk: FollowUp.objects.get(case=c) for c in cases}
    fu.record_answer(op, f[cases[0].pk].pk, outcome="satisfied")
    fu.record_answer(op, f[cases[1].pk].pk, outcome="unsatisfied", note="没修好")
    rate_by_requester(cases[2].pk, rating="basically_satisfied")  # the SMS link
    fu.record_no_answer(op, f[cases[3].pk].pk)
    now.advance(minutes=60)
    run_pass(now(), deliver=False)
    day = local_date(now())
    filters = Filters(start=day, end=day)
    report = build_report(city.actor("leader"), filters, now())

    def fig(row, key):
        figure = row.figure(key)
        return figure.numerator, figure.denominator

    assert fig(report.total, "followup_rate") == (4, 5)  # 4 followed up of 5 fed back
    assert fig(report.total, "followup_satisfaction") == (2, 3)  # 3 answered, 2 satisfied
    assert fig(report.total, "followup_unreachable") == (1, 4)
    roads = next(r for r in report.rows if r.unit_id == city.units["roads"].pk)
    assert fig(roads, "followup_rate") == (4, 4)
    missed = audit_items(city.actor("leader"), filters, "followup_rate", "missed", now())
    assert [e.case.matter.code for e in missed] == ["water.sewage"]
    # The rollup agrees with the live count.
    refresh_rollups(now() + dt.timedelta(days=1))
    now.advance(days=1)
    again = build_report(city.actor("leader"), filters, now())
    assert fig(again.total, "followup_satisfaction") == (2, 3)
    assert fig(again.total, "followup_unreachable") == (1, 4)


def test_the_queue_reads_in_a_fixed_number_of_queries(city, now):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    complaints(city, delay_hours=0)
    MatterRule.objects.filter(matter=city.matters["road.manhole"]).update(
        script="{{ number }}：{{ feedback }}"
    )

    def count() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as q:
            items = queries.due_queue()
        return len(items), len(q)

    for i in range(2):
        fed_back(city, phone=f"1391234{i:04d}")
    few = count()
    for i in range(2, 8):
        fed_back(city, phone=f"1391234{i:04d}")
    many = count()
    assert (few[0], many[0]) == (2, 8) and few[1] == many[1]
    assert queries.due_queue()[0].script.endswith("井盖已更换，恢复通行")
