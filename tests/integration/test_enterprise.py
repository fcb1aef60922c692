"""Enterprise requests (涉企诉求): the enterprise by its checked code, its own matters and
limits from catalog data, the service officer told, and its history on the case page."""

from __future__ import annotations

import pytest
from django.test import Client

from minsheng.cases.actions import Intake, assign_case
from minsheng.cases.errors import Forbidden, Invalid
from minsheng.cases.models import Case
from minsheng.cases.states import Channel
from minsheng.core.workdays import add_working_days
from minsheng.enterprise import actions
from minsheng.enterprise.models import EnterpriseCase
from minsheng.notify.models import OutboxMessage
from tests.common.factories import intake

CODE = "91350100M000100Y43"


@pytest.fixture
def enterprise(city, now):
    actions.load_enterprise_matters()
    return actions.register_enterprise(
        city.actor("dispatcher"),
        credit_code=CODE.lower(),
        name="平湖精密机械有限公司",
        officer_id=city.users["roads"].pk,
    )


def ask(city, text="新厂房水电报装一个月没人来，影响投产", category="enterprise.utilities", code=CODE):
    return actions.accept_enterprise_request(
        city.actor("operator"),
        code,
        Intake(
            channel="hotline",
            text=text,
            category=category,
            requester_name="李经理",
            requester_phone="13900001111",
        ),
    )


def test_an_enterprise_request_takes_its_own_matter_and_limits_and_tells_the_officer(city, now, enterprise):
    assert enterprise.credit_code == CODE
    case = ask(city)
    assert case.channel == Channel.ENTERPRISE
    assert case.matter.code == "enterprise.utilities"
    resolve = case.clocks.get(name="resolve")
    assert resolve.due_at == add_working_days(case.created_at, 3)  # the enterprise matter's 3 days, not 5
    feedback = case.clocks.get(name="feedback")
    assert (feedback.due_at - feedback.started_at).total_seconds() == 12 * 3600
    assert EnterpriseCase.objects.get(case=case).enterprise == enterprise
    linked = case.events.get(action="enterprise_linked")
    assert linked.data["credit_code"] == CODE and linked.data["service_officer"] == "roads"
    told = OutboxMessage.objects.get(kind="enterprise_case")
    assert told.user_id == city.users["roads"].pk and told.context["enterprise"] == "平湖精密机械有限公司"


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"code": "91350100M000100Y44"}, "credit_code"),
        ({"code": "91110000802100433B"}, "credit_code"),  # valid, but not registered
        ({"category": "road.manhole"}, "category"),  # not an enterprise matter
        ({"text": " "}, "text"),
    ],
)
def test_a_refused_request_names_the_field_and_writes_nothing(city, now, enterprise, kw, field):
    with pytest.raises(Invalid) as refused:
        ask(city, **kw)
    assert refused.value.field == field
    assert not Case.objects.exists() and not EnterpriseCase.objects.exists()


def test_a_bad_code_is_refused_at_registration_and_only_the_centre_registers(city, now):
    with pytest.raises(Invalid) as refused:
        actions.register_enterprise(city.actor("dispatcher"), credit_code="91350100M000100Y44", name="某公司")
    assert refused.value.field == "credit_code" and "check character" in refused.value.message
    with pytest.raises(Forbidden):
        actions.register_enterprise(city.actor("roads"), credit_code=CODE, name="某公司")
    with pytest.raises(Invalid) as officer:
        actions.register_enterprise(
            city.actor("dispatcher"), credit_code=CODE, name="某公司", officer_id=city.users["leader"].pk
        )
    assert officer.value.field == "service_officer"


def test_the_case_page_shows_the_enterprise_and_its_history_as_far_as_one_may_see(city, now, enterprise):
    first = ask(city, text="惠企补贴申报半年未兑现", category="enterprise.policy")
    now.advance(days=1)
    second = ask(city)
    intake(city)  # someone else's case: never in the enterprise's history
    dispatcher = Client()
    dispatcher.force_login(city.users["dispatcher"])
    page = dispatcher.get(f"/cases/{second.pk}/").content.decode()
    assert 'id="enterprise-panel"' in page and "平湖精密机械有限公司" in page and CODE in page
    history = page[page.index('id="enterprise-history"') :]
    assert first.number in history and second.number not in history
    # The water company, holding the second case, sees it with no history: the first is not its.
    assign_case(city.actor("dispatcher"), second.pk, unit_id=city.units["water"].pk)
    water = Client()
    water.force_login(city.users["water"])
    page = water.get(f"/cases/{second.pk}/").content.decode()
    assert 'id="enterprise-panel"' in page and "平湖精密机械有限公司" in page
    assert first.number not in page and 'id="enterprise-history"' not in page


def test_the_pages_register_an_enterprise_and_its_request(city, now):
    actions.load_enterprise_matters()
    c = Client()
    c.force_login(city.users["dispatcher"])
    bad = c.post("/enterprise/", {"credit_code": "91350100M000100Y44", "name": "某公司"})
    assert bad.status_code == 422 and 'data-field="credit_code"' in bad.content.decode()
    ok = c.post(
        "/enterprise/",
        {"credit_code": CODE, "name": "平湖精密机械", "service_officer": city.users["roads"].pk},
    )
    assert ok.status_code == 302
    made = c.post(
        "/enterprise/requests/new/",
        {"credit_code": CODE, "category": "enterprise.permit", "text": "施工许可审批卡在消防环节"},
    )
    assert made.status_code == 302
    case = Case.objects.get()
    assert made["Location"] == f"/cases/{case.pk}/" and case.channel == Channel.ENTERPRISE
    assert c.get("/enterprise/", HTTP_ACCEPT_LANGUAGE="zh-hans").status_code == 200
