"""Deputies' proposals and members' suggestions (议案提案): handed over to a lead unit and
co-units (a joint group), the contact and written-reply limits from the kind's data through
the clock rule, no reply before contact, the proposer's verdict, the public tracking page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from minsheng.cases import actions as case_actions
from minsheng.cases.errors import Conflict, Forbidden, Invalid, NotFound
from minsheng.cases.models import Case
from minsheng.cases.states import State
from minsheng.groups import actions as group_actions
from minsheng.groups.models import JointGroup
from minsheng.proposals import actions
from minsheng.proposals.models import Proposal


@pytest.fixture
def kinds(city, now):
    actions.load_kinds()


def hand_over(city, number="建议第0012号", public=True, co=("water",)):
    return actions.hand_over(
        city.actor("dispatcher"),
        kind="npc",
        number=number,
        title="关于加快老旧小区雨污分流改造的建议",
        text="东城街道多个老旧小区雨天污水倒灌，建议年内完成雨污分流改造。",
        proposer="陈建国",
        lead_unit_id=city.units["roads"].pk,
        co_units=[city.units[c].pk for c in co],
        public=public,
    )


def due(case: Case, name: str) -> dt.datetime:
    return case.clocks.filter(name=name).latest("started_at", "id").due_at


def test_hand_over_makes_a_case_with_a_joint_group_and_the_kinds_limits(city, now, kinds):
    start = now()
    proposal = hand_over(city)
    case = Case.objects.get(pk=proposal.case_id)
    assert case.owner_unit == city.units["roads"] and case.state == State.ASSIGNED
    group = JointGroup.objects.get(case=case)
    assert group.lead_unit == city.units["roads"]
    assert [m.unit.code for m in group.members.filter(role="assist")] == ["water"]
    # The written reply (the case's feedback clock) within 3 months, in calendar months.
    assert due(case, "feedback") == start.replace(year=2027, month=2)
    assert case.events.filter(action="proposal_handed_over").exists()
    # The lead signs: contact with the proposer within 30 days of it (the dispatch clock).
    now.advance(hours=2)
    signed_at = now()
    case_actions.sign_case(city.actor("roads"), case.pk)
    assert due(case, "dispatch") == signed_at + dt.timedelta(days=30)


def test_no_written_reply_before_the_proposer_is_contacted(city, now, kinds):
    proposal = hand_over(city, co=())
    roads = city.actor("roads")
    case_actions.sign_case(roads, proposal.case_id)
    case_actions.dispatch_case(roads, proposal.case_id, people=["办公室"])
    with pytest.raises(Conflict, match=r"提出人沟通|Contact the proposer"):
        actions.reply_in_writing(roads, proposal.case_id, text="已答复")
    assert Case.objects.get(pk=proposal.case_id).state == State.DISPATCHED
    with pytest.raises(NotFound):  # another unit does not even see it
        actions.record_contact(city.actor("water"), proposal.case_id, how="visit", note="上门")
    with pytest.raises(Forbidden):  # the desk sees it but is not the lead unit
        actions.record_contact(city.actor("dispatcher"), proposal.case_id, how="visit", note="上门")
    with pytest.raises(Invalid) as bad:
        actions.record_contact(roads, proposal.case_id, how="letter", note="来函")
    assert bad.value.field == "how"


def test_from_hand_over_to_a_satisfied_verdict(city, now, kinds):
    proposal = hand_over(city)
    case_id = proposal.case_id
    roads, water, desk = city.actor("roads"), city.actor("water"), city.actor("dispatcher")
    case_actions.sign_case(roads, case_id)
    group_actions.sign_part(water, case_id)
    now.advance(days=10)
    actions.record_contact(roads, case_id, how="visit", note="上门听取陈代表意见，约定分两期实施")
    case = Case.objects.get(pk=case_id)
    assert case.state == State.DISPATCHED  # the contact was the lead's dispatch
    dispatch = case.clocks.get(name="dispatch")
    assert dispatch.met_at == now() and not dispatch.is_late()
    group_actions.mark_part_done(water, case_id, note="管网改造方案已报牵头单位")
    now.advance(days=40)
    actions.reply_in_writing(roads, case_id, text="经研究，年内完成东城街道5个小区雨污分流改造。")
    proposal.refresh_from_db()
    assert proposal.replied_at == now() and proposal.reply_text.startswith("经研究")
    feedback = Case.objects.get(pk=case_id).clocks.get(name="feedback")
    assert feedback.met_at == now() and not feedback.is_late()
    with pytest.raises(Forbidden):
        actions.record_verdict(roads, case_id, verdict="satisfied")
    proposal = actions.record_verdict(desk, case_id, verdict="basically_satisfied", note="希望加快进度")
    case = Case.objects.get(pk=case_id)
    assert case.state == State.CLOSED and case.rating == "basically_satisfied"
    assert proposal.verdict == "basically_satisfied"
    assert JointGroup.objects.get(case_id=case_id).state == "closed"


def test_an_unsatisfied_verdict_reopens_it_for_a_new_round(city, now, kinds):
    proposal = hand_over(city, co=())
    case_id = proposal.case_id
    roads = city.actor("roads")
    case_actions.sign_case(roads, case_id)
    actions.record_contact(roads, case_id, how="phone", note="电话沟通")
    actions.reply_in_writing(roads, case_id, text="暂无改造计划。")
    proposal = actions.record_verdict(
        city.actor("dispatcher"), case_id, verdict="unsatisfied", note="答复敷衍"
    )
    case = Case.objects.get(pk=case_id)
    assert case.state == State.ASSIGNED and case.owner_unit == city.units["roads"]
    assert proposal.rounds == 2 and proposal.contacted_at is None and proposal.verdict == ""
    # A new round: contact again before the next reply.
    case_actions.sign_case(roads, case_id)
    case_actions.dispatch_case(roads, case_id, people=["办公室"])
    with pytest.raises(Conflict):
        actions.reply_in_writing(roads, case_id, text="再次答复")


def test_a_refused_hand_over_writes_nothing(city, now, kinds):
    hand_over(city)
    before = Case.objects.count()
    with pytest.raises(Invalid) as dup:
        hand_over(city)  # the same number again
    assert dup.value.field == "number"
    with pytest.raises(Forbidden):
        actions.hand_over(
            city.actor("roads"), kind="npc", number="x", title="t", text="", proposer="p", lead_unit_id=1
        )
    assert Case.objects.count() == before and Proposal.objects.count() == 1


def test_the_public_tracking_page_shows_public_proposals_and_their_progress(city, now, kinds):
    shown = hand_over(city)
    hidden = hand_over(city, number="建议第0099号", public=False, co=())
    roads = city.actor("roads")
    case_actions.sign_case(roads, shown.case_id)
    actions.record_contact(roads, shown.case_id, how="meeting", note="座谈")
    page = Client().get("/proposals/track/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    body = page.content.decode()
    assert shown.number in body and hidden.number not in body
    row = body[body.index(f'data-number="{shown.number}"') :]
    row = row[: row.index("</tr>")]
    assert "陈建国" in row and "住建局" in row and "水务集团" in row
    assert now().strftime("%Y-%m-%d") in row  # contacted today
    assert "13" not in row.split("陈建国")[0][-20:]  # nothing like a phone number beside the name


def test_the_clock_rule_asks_for_the_kind_once_per_case_and_again_when_its_matter_changes(
    city, now, kinds, django_assert_num_queries
):
    """Intake starts two or three clocks of a new case at once; the kind is read once."""
    from minsheng.catalog.models import Matter
    from minsheng.proposals import rules

    kind_matter = Matter.objects.get(proposal_kind__code="npc")
    case = Case(matter=kind_matter, created_at=now())
    with django_assert_num_queries(1):
        assert rules.kind_of(case).code == "npc"
        assert rules.kind_of(case).code == "npc"
    case.matter = Matter.objects.exclude(pk=kind_matter.pk).filter(proposal_kind__isnull=True).first()
    with django_assert_num_queries(1):
        assert rules.kind_of(case) is None
