"""One rule for control characters in what people submit, whatever the door (the API, the
seat's page, the telephone system, a note on a case): a NUL is refused naming the field,
any other control character never reaches the database. And the API's bodies take JSON's
own types: ``"requester": 88`` or ``"urgent": "yes"`` is refused, not guessed at."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from minsheng.calls.api import CallEventBody
from minsheng.cases import actions
from minsheng.cases.errors import Invalid
from minsheng.cases.models import Case, CaseEvent
from minsheng.core.text import clean_text, has_control_characters
from tests.functional.test_api import MANHOLE, Api
from tests.functional.test_pages import client_for

pytestmark = pytest.mark.django_db

BELL, ESCAPE, RLO = "\x07", "\x1b", "\u202e"  # a bell, a terminal escape, a right-to-left override


def test_the_rule_removes_controls_but_keeps_lines_and_tabs():
    given = f"井盖{BELL}坏了{ESCAPE}[31m\n第二行\t{RLO}8765 4321 831"
    assert clean_text(given) == "井盖坏了[31m\n第二行\t8765 4321 831"
    assert clean_text("\x85\x9f\x7f") == ""
    assert clean_text("表情👍\u200d正常") == "表情👍\u200d正常"  # a joiner inside an emoji stays
    with pytest.raises(ValueError, match="NUL"):
        clean_text("井盖\x00坏了")
    assert has_control_characters(BELL) and not has_control_characters("平常的话\n")


def test_the_api_stores_no_control_character_and_refuses_a_nul(city, now):
    api = Api(city)
    body = {
        **MANHOLE,
        "text": f"井盖{BELL}坏了{ESCAPE}",
        "address": f"人民路{RLO}12号",
        "requester": {"name": f"沈{ESCAPE}师傅", "phone": "13812345678"},
    }
    created = api.create(**{k: v for k, v in body.items() if k != "channel"}, channel="rider")
    case = Case.objects.get(pk=created["id"])
    assert (case.text, case.address, case.requester_name) == ("井盖坏了", "人民路12号", "沈师傅")
    response = api.post(f"/cases/{case.pk}/actions/supervise", {"note": f"请尽快{BELL}处理"}, "dispatcher")
    assert response.status_code == 200, response.content
    assert CaseEvent.objects.filter(case=case, action="supervise").get().note == "请尽快处理"
    refused = api.post("/cases", {**MANHOLE, "text": "井盖\x00坏了"})
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "text"]


def test_a_page_stores_no_control_character(city, now):
    c = client_for(city, "operator")
    response = c.post(
        reverse("web:intake"),
        {"text": f"人行道井盖破了{BELL}", "channel": "hotline", "address": f"人民路{ESCAPE}12号"},
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert (case.text, case.address) == ("人行道井盖破了", "人民路12号")


def test_a_note_from_any_part_is_cleaned_and_a_nul_is_refused_by_name(city, now):
    case = actions.accept_case(city.actor("operator"), actions.Intake(channel="hotline", text="路灯不亮"))
    with pytest.raises(Invalid) as refused:
        actions.supervise_case(city.actor("dispatcher"), case.pk, note="快\x00点")
    assert refused.value.field == "note"
    actions.supervise_case(city.actor("dispatcher"), case.pk, note=f"快{ESCAPE}点")
    assert CaseEvent.objects.get(case=case, action="supervise").note == "快点"


def test_the_telephone_systems_events_follow_the_same_rule():
    event = CallEventBody.model_validate(
        {
            "event_id": "e-1",
            "event": "ring",
            "call_id": f"c{BELL}-1",
            "at": dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC).isoformat(),
            "caller": f"138{ESCAPE}12345678",
        }
    )
    assert (event.call_id, event.caller) == ("c-1", "13812345678")
    with pytest.raises(ValueError, match="NUL"):
        CallEventBody.model_validate(
            {"event_id": "e\x00", "event": "ring", "call_id": "c", "at": "2026-11-23T09:00:00+08:00"}
        )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"requester": 88}, ["body", "requester"]),
        ({"requester": "沈师傅"}, ["body", "requester"]),
        ({"urgent": "yes"}, ["body", "urgent"]),
        ({"lat": "30.725"}, ["body", "lat"]),
        ({"text": "   "}, ["body", "text"]),
    ],
)
def test_a_body_of_the_wrong_json_type_is_refused_naming_the_field(city, now, change, field):
    api = Api(city)
    response = api.post("/cases", {**MANHOLE, **change})
    assert response.status_code == 422, response.content
    assert [e["loc"] for e in response.json()["detail"]] == [field]
    assert Case.objects.count() == 0


def test_a_body_that_is_not_json_is_refused_with_422(city, now):
    api = Api(city)
    response = api.post("/cases", '{"channel": "hotline", "text": ')
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body"]


def test_an_unknown_action_is_refused_by_the_documented_enum(city, now):
    api = Api(city)
    case = api.create()
    response = api.post(f"/cases/{case['id']}/actions/delete", {}, "dispatcher")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "action"]


def test_a_knowledge_article_follows_the_same_rule_on_its_page_and_in_its_actions(city, now):
    from minsheng.knowledge.actions import ArticleIn, create_article
    from minsheng.knowledge.models import Article

    until = (now() + dt.timedelta(days=200)).date()
    response = client_for(city, "roads").post(
        reverse("knowledge:new"),
        {
            "title": f"井盖{BELL}丢失怎么报修",
            "answer": f"请拨打12345{ESCAPE}上报，住建局{RLO}2小时内到场。",
            "keywords": f"井盖{BELL}, 窨井",
            "valid_until": until.isoformat(),
        },
    )
    assert response.status_code == 302, response.content.decode()
    version = Article.objects.get().versions.get()
    assert (version.title, version.answer) == ("井盖丢失怎么报修", "请拨打12345上报，住建局2小时内到场。")
    assert version.keywords == ["井盖", "窨井"]
    # A NUL reaching the action by any other door is refused naming the field.
    for field, given in (("answer", {"answer": "答\x00复"}), ("keywords", {"keywords": ["井\x00盖"]})):
        data = {"title": "标题", "answer": "答复", "valid_until": until, **given}
        with pytest.raises(Invalid) as refused:
            create_article(city.actor("roads"), ArticleIn(**data))
        assert refused.value.field == field and "NUL" in refused.value.message
    assert Article.objects.count() == 1


def test_the_joint_groups_thread_follows_the_same_rule(city, now):
    from minsheng.groups import actions as groups
    from minsheng.groups.models import GroupMessage
    from tests.common.factories import intake

    case = intake(city)
    groups.form_joint_group(
        city.actor("dispatcher"),
        case.pk,
        lead_unit_id=city.units["roads"].pk,
        lead_task=f"牵头{ESCAPE}处置",
        assists=[{"unit_id": city.units["water"].pk, "task": "协助"}],
    )
    assert case.joint_groups.get().members.get(role="lead").task == "牵头处置"
    response = client_for(city, "roads").post(
        reverse("groups:action", args=[case.pk, "message"]), {"text": f"请先关阀{BELL}{RLO}排水"}
    )
    assert response.status_code in (200, 302), response.content.decode()
    assert GroupMessage.objects.get().text == "请先关阀排水"
    assert CaseEvent.objects.get(case=case, action="group_message").note == "请先关阀排水"
    response = client_for(city, "roads").post(
        reverse("groups:action", args=[case.pk, "message"]), {"text": "关\x00阀"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422 and "NUL" in response.content.decode()
    assert GroupMessage.objects.count() == 1
