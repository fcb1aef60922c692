"""The case types' own measures (issue #17): enterprise requests resolved within the
enterprise matter's limit, proposals contacted and replied in time and their proposers'
satisfaction, each counted over its own cases only, per unit and for the city, live and
rolled up, with the cases behind each figure; and each enterprise's requests on /enterprise/."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from minsheng.accounts.actors import Actor
from minsheng.cases import actions as case_actions
from minsheng.cases.actions import Intake
from minsheng.enterprise import actions as enterprise_actions
from minsheng.proposals import actions as proposal_actions
from minsheng.stats.measures import Filters, audit_items, local_date
from minsheng.stats.registry import register_measure
from minsheng.stats.report import build_report
from minsheng.stats.rollup import refresh_rollups
from tests.common.factories import PASSWORD, intake

pytestmark = pytest.mark.django_db

CODE = "91350100M000100Y43"


def fig(row, key):
    f = row.figure(key)
    return (f.numerator, f.denominator)


def row_of(report, unit):
    (row,) = [r for r in report.rows if r.unit_id == unit.pk]
    return row


def plain_case_in_time(city, now, *, rating=None):
    """A hotline case, signed, dispatched, fed back, rated and closed at once: it must not
    count in any type's measure."""
    case = intake(city)
    roads = city.actor("roads")
    case_actions.sign_case(roads, case.pk)
    case_actions.dispatch_case(roads, case.pk, people=["抢修一班"])
    case_actions.feedback_case(roads, case.pk, note="已处理")
    if rating:
        case_actions.rate_case(city.actor("operator"), case.pk, rating=rating)
    case_actions.close_case(city.actor("operator"), case.pk)
    return case


# --- enterprise requests ------------------------------------------------------------------


@pytest.fixture
def enterprise(city, now):
    enterprise_actions.load_enterprise_matters()
    return enterprise_actions.register_enterprise(
        city.actor("dispatcher"),
        credit_code=CODE,
        name="平湖精密机械有限公司",
        officer_id=city.users["roads"].pk,
    )


def ask(city):
    case = enterprise_actions.accept_enterprise_request(
        city.actor("operator"),
        CODE,
        Intake(
            channel="hotline",
            text="新厂房水电报装一个月没人来，影响投产",
            category="enterprise.utilities",
            requester_name="李经理",
            requester_phone="13900001111",
        ),
    )
    if case.owner_unit_id != city.units["roads"].pk:
        case = case_actions.assign_case(city.actor("dispatcher"), case.pk, unit_id=city.units["roads"].pk)
    return case


def finish(city, case_id):
    roads = city.actor("roads")
    case_actions.sign_case(roads, case_id)
    case_actions.dispatch_case(roads, case_id, people=["客户经理"])
    case_actions.feedback_case(roads, case_id, note="已上门报装")
    case_actions.close_case(city.actor("operator"), case_id)


def test_enterprise_requests_resolved_within_their_matters_limit(city, now, enterprise):
    day = local_date(now())
    in_time, late, running = ask(city), ask(city), ask(city)
    plain_case_in_time(city, now)  # a resolve clock met in time, but no enterprise's
    now.advance(hours=20)
    finish(city, in_time.pk)  # within 3 working days
    now.advance(days=10)
    finish(city, late.pk)  # past the limit; `running` is still open past it
    leader = Actor.of(city.users["leader"])
    filters = Filters(start=day, end=day)
    report = build_report(leader, filters, now())
    assert fig(report.total, "enterprise_resolve") == (1, 3)
    assert fig(row_of(report, city.units["roads"]), "enterprise_resolve") == (1, 3)
    assert fig(report.total, "resolve") == (2, 4)  # the city's own measure is unchanged
    missed = audit_items(leader, filters, "enterprise_resolve", "missed", now())
    assert sorted(c.case_id for c in missed) == sorted([late.pk, running.pk])
    (met,) = audit_items(leader, filters, "enterprise_resolve", "num", now())
    assert met.case_id == in_time.pk

    refresh_rollups(now() + dt.timedelta(days=1))
    now.advance(days=1)
    again = build_report(leader, filters, now())
    assert fig(again.total, "enterprise_resolve") == (1, 3)

    # On the page, in Chinese, with its audit list.
    client = Client()
    assert client.login(username="leader", password=PASSWORD)
    params = {"period": "custom", "start": day.isoformat(), "end": day.isoformat()}
    page = client.get(reverse("stats:index"), params).content.decode()
    assert "涉企诉求按时办结率" in page and "33.3%" in page
    audit = client.get(reverse("stats:audit"), {**params, "measure": "enterprise_resolve", "part": "missed"})
    text = audit.content.decode()
    assert audit.status_code == 200 and late.number in text and in_time.number not in text


def test_each_enterprise_shows_how_many_requests_it_made(city, now, enterprise):
    enterprise_actions.register_enterprise(
        city.actor("dispatcher"), credit_code="91110000802100433B", name="东城食品有限公司"
    )
    first = ask(city)
    ask(city)
    case_actions.sign_case(city.actor("roads"), first.pk)
    client = Client()
    assert client.login(username="dispatcher", password=PASSWORD)
    page = client.get(reverse("enterprise:enterprises")).content.decode()

    def requests_of(name):
        row = page.split(name, 1)[1].split("</tr>", 1)[0]
        return row.split('data-requests="', 1)[1].split('"', 1)[0]

    assert requests_of("平湖精密机械有限公司") == "2" and requests_of("东城食品有限公司") == "0"
    assert "诉求数" in page


# --- proposals ------------------------------------------------------------------------------


@pytest.fixture
def kinds(city, now):
    proposal_actions.load_kinds()


def hand_over(city, number):
    return proposal_actions.hand_over(
        city.actor("dispatcher"),
        kind="npc",
        number=number,
        title="关于加快老旧小区雨污分流改造的建议",
        text="东城街道多个老旧小区雨天污水倒灌，建议年内完成雨污分流改造。",
        proposer="陈建国",
        lead_unit_id=city.units["roads"].pk,
        co_units=[],
        public=True,
    )


def test_proposals_contacted_and_replied_in_time_and_their_proposers_satisfaction(city, now, kinds):
    day = local_date(now())
    roads, desk = city.actor("roads"), city.actor("dispatcher")
    good, slow = hand_over(city, "建议第0001号"), hand_over(city, "建议第0002号")
    plain_case_in_time(city, now, rating="satisfied")  # dispatched, fed back, rated: not a proposal
    for p in (good, slow):
        case_actions.sign_case(roads, p.case_id)
    now.advance(days=10)
    proposal_actions.record_contact(roads, good.case_id, how="visit", note="上门听取意见")
    now.advance(days=30)
    proposal_actions.record_contact(roads, slow.case_id, how="phone", note="电话沟通")  # day 40: late
    proposal_actions.reply_in_writing(roads, good.case_id, text="年内完成改造。")  # within 3 months
    proposal_actions.record_verdict(desk, good.case_id, verdict="basically_satisfied")
    now.advance(days=70)
    proposal_actions.reply_in_writing(roads, slow.case_id, text="暂无计划。")  # day 110: late
    proposal_actions.record_verdict(desk, slow.case_id, verdict="unsatisfied", note="答复敷衍")
    last = local_date(now())

    leader = Actor.of(city.users["leader"])
    filters = Filters(start=day, end=last)
    report = build_report(leader, filters, now())
    unit = row_of(report, city.units["roads"])
    for row in (report.total, unit):
        assert fig(row, "proposal_contact") == (1, 2)
        assert fig(row, "proposal_reply") == (1, 2)
        assert fig(row, "proposal_verdict") == (1, 2)
    assert fig(report.total, "satisfaction") == (2, 3)  # the plain case's rating counts there only
    (late_contact,) = audit_items(leader, filters, "proposal_contact", "missed", now())
    assert late_contact.case_id == slow.case_id
    (late_reply,) = audit_items(leader, filters, "proposal_reply", "missed", now())
    assert late_reply.case_id == slow.case_id
    (unsatisfied,) = audit_items(leader, filters, "proposal_verdict", "missed", now())
    assert unsatisfied.case_id == slow.case_id and unsatisfied.data["rating"] == "unsatisfied"
    verdicts = audit_items(leader, filters, "proposal_verdict", "den", now())
    assert sorted(e.case_id for e in verdicts) == sorted([good.case_id, slow.case_id])

    refresh_rollups(now() + dt.timedelta(days=1))
    now.advance(days=1)
    again = build_report(leader, filters, now())
    assert [fig(again.total, k) for k in ("proposal_contact", "proposal_reply", "proposal_verdict")] == [
        (1, 2),
        (1, 2),
        (1, 2),
    ]
    # Another unit sees none of it.
    water = build_report(city.actor("water"), filters, now())
    assert fig(water.total, "proposal_verdict") == (0, 0)

    client = Client()
    assert client.login(username="leader", password=PASSWORD)
    params = {"period": "custom", "start": day.isoformat(), "end": last.isoformat()}
    page = client.get(reverse("stats:index"), params).content.decode()
    for label in ("代表委员按时联系率", "议案提案按时答复率", "代表委员满意率"):
        assert label in page


# --- the registry ---------------------------------------------------------------------------


def test_a_type_measure_names_one_clock_or_action_and_a_free_kind(db):
    common = {"label": "x", "definition": "x", "num_label": "x", "den_label": "x", "cases": {"id__gt": 0}}
    with pytest.raises(ValueError, match="not both"):
        register_measure("t1", kind="t1", clock="resolve", action="rate", **common)
    with pytest.raises(ValueError, match="taken"):
        register_measure("t2", kind="prop_reply", clock="resolve", **common)
    with pytest.raises(ValueError, match="already defined"):
        register_measure("proposal_reply", kind="t3", clock="resolve", **common)
    with pytest.raises(ValueError, match="not an action"):
        register_measure("t4", kind="t4", action="sign", **common)
