"""The operator's seat (话务坐席) through Django's test client, in the demo city: the panels
it loads while the operator types (matters, knowledge, duplicates, addresses), the caller
panel and taking a call into the form (the full number only then, and recorded), the case
registered during a call linked to it, and refusals that write nothing."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from minsheng.accounts.actors import Actor
from minsheng.calls.actions import CallEventIn, receive_event
from minsheng.calls.models import Call, CallerNumberAccess
from minsheng.cases import actions
from minsheng.cases.models import Case
from minsheng.core import clock
from minsheng.demo.actions import DEMO_PASSWORD
from minsheng.knowledge import queries as knowledge_queries
from minsheng.notify.models import OutboxMessage

pytestmark = pytest.mark.django_db

CALLER = "13957301234"


@pytest.fixture
def seat(now, demo_city):
    knowledge_queries.forget()
    yield
    knowledge_queries.forget()


def signed_in(username: str = "operator") -> Client:
    c = Client()
    assert c.login(username=username, password=DEMO_PASSWORD)
    return c


def actor(username: str = "operator") -> Actor:
    return Actor.of(get_user_model().objects.get(username=username))


def ring(call_id: str, *, agent: str = "operator", caller: str = CALLER) -> Call:
    return receive_event(
        CallEventIn(
            event_id=f"{call_id}-ring",
            kind="ring",
            call_id=call_id,
            at=clock.now(),
            caller=caller,
            agent=agent,
            seat="8001",
        )
    ).call


def body(response) -> str:
    return response.content.decode()


def test_the_seat_reads_in_chinese_and_shows_its_keys(seat):
    page = body(signed_in().get(reverse("web:seat")))
    for words in ("话务坐席", "登记诉求", "来电", "知识库", "快捷键", "选用建议事项", "短信发送答复并办结"):
        assert words in page
    for key in ("Alt+1…3", "Alt+Q/W/E", "Alt+S", "Alt+A", "Enter"):
        assert f"<kbd>{key}</kbd>" in page
    # /intake/ is the same page.
    assert "话务坐席" in body(signed_in().get(reverse("web:intake")))


def test_matters_and_knowledge_are_suggested_from_the_callers_words(seat):
    c = signed_in()
    page = body(c.get(reverse("web:seat_assist"), {"text": "隔壁工地半夜还在施工，噪音吵得睡不着"}))
    first = re.search(r'data-key="1"[^>]*>.*?</button>', page, re.S)
    assert first and "噪声扰民" in first.group(0)
    assert re.search(r'class="conf">\d{1,3}%<', first.group(0))

    page = body(c.get(reverse("web:seat_assist"), {"text": "公积金怎么提取出来租房用"}))
    assert "住房公积金提取" in page and "可直接答复" in page
    assert 'data-key="Q"' in page

    page = body(c.get(reverse("web:seat_assist"), {"text": ""}))
    assert "输入诉求内容时显示" in page and 'data-key="Q"' not in page


def test_an_open_case_nearby_is_offered_as_a_duplicate(seat):
    text = "新华路上的窨井盖破了一角，晚上很危险"
    open_case = actions.accept_case(
        actor(),
        actions.Intake(channel="hotline", text=text, category="road.manhole", lat=30.7005, lng=121.0125),
    )
    c = signed_in()
    near = {"text": text, "category": "road.manhole", "lat": "30.70052", "lng": "121.01252"}
    page = body(c.get(reverse("web:seat_assist"), near))
    assert "可能重复" in page and open_case.number in page
    far = {**near, "lat": "30.80", "lng": "121.20"}
    assert open_case.number not in body(c.get(reverse("web:seat_assist"), far))
    other_matter = {**near, "category": "road.streetlight"}
    assert open_case.number not in body(c.get(reverse("web:seat_assist"), other_matter))
    assert Case.objects.count() == 1  # reading only


def test_the_address_list_comes_from_the_gazetteer_with_a_point(seat):
    page = body(signed_in().get(reverse("web:seat_places"), {"address": "新华路"}))
    option = re.search(r'<li role="option"[^>]*data-name="新华路"[^>]*>', page)
    assert option and re.search(r'data-lat="30\.\d{6}" data-lng="121\.\d{6}"', option.group(0))
    assert "社区" in page
    assert 'role="option"' not in body(signed_in().get(reverse("web:seat_places"), {"address": "zzzz"}))


def test_the_caller_panel_masks_the_number_and_shows_earlier_cases(seat):
    earlier = actions.accept_case(
        actor(),
        actions.Intake(
            channel="hotline", text="小区路灯不亮", category="road.streetlight", requester_phone=CALLER
        ),
    )
    c = signed_in()
    assert "本坐席暂无来电" in body(c.get(reverse("web:seat_caller")))
    ring("c-1")
    page = body(c.get(reverse("web:seat_caller")))
    assert "139****1234" in page and CALLER not in page
    assert earlier.number in page and "路灯不亮、损坏" in page
    # A call ringing for another operator, at another seat, is not shown here.
    ring("c-other", agent="someone_else", caller="13600000000")
    assert "136****0000" not in body(c.get(reverse("web:seat_caller")))
    # Only the centre's seats take calls.
    assert "来电只接入中心的话务坐席" in body(signed_in("danghu").get(reverse("web:seat_caller")))
    assert not CallerNumberAccess.objects.exists()


def test_taking_a_call_fills_the_phone_once_recorded_and_links_the_case(seat):
    call = ring("c-1")
    c = signed_in()
    page = body(c.post(reverse("web:seat_take", args=["c-1"])))
    assert f'value="{CALLER}"' in page and 'id="id_requester_phone"' in page
    assert 'value="c-1"' in page and 'hx-swap-oob="true"' in page
    assert CallerNumberAccess.objects.filter(call=call, via="intake").count() == 1

    # Another operator's call is not theirs to take.
    ring("c-2", agent="someone_else")
    assert c.post(reverse("web:seat_take", args=["c-2"])).status_code == 404
    assert CallerNumberAccess.objects.count() == 1

    response = c.post(
        reverse("web:seat"),
        {
            "text": "新华路窨井盖破了",
            "channel": "hotline",
            "category": "road.manhole",
            "requester_phone": CALLER,
            "call_id": "c-1",
            "idempotency_key": "k-1",
        },
    )
    assert response.status_code == 302 and response.url.startswith(reverse("web:seat"))
    call.refresh_from_db()
    assert call.case is not None and call.case.requester_phone == CALLER
    page = body(c.get(response.url))
    assert f'id="created-number">{call.case.number}<' in page


def test_a_case_for_a_call_that_does_not_exist_is_refused_and_nothing_written(seat):
    response = signed_in().post(
        reverse("web:seat"),
        {"text": "井盖坏了", "channel": "hotline", "call_id": "nope", "requester_name": "王五"},
    )
    assert response.status_code == 422
    page = body(response)
    assert "未保存" in page and "没有这通来电" in page and 'value="王五"' in page
    assert Case.objects.count() == 0


def test_the_answer_panel_shows_the_article_to_read_out(seat):
    page = body(signed_in().get(reverse("web:seat_article", args=["K010"])))
    assert "住房公积金提取" in page and 'id="answer-text"' in page
    assert 'id="answer-sms"' in page and "短信发送并办结" in page
    assert signed_in().get(reverse("web:seat_article", args=["NOPE"])).status_code == 404


def test_answering_on_the_spot_refuses_sms_without_a_phone_and_writes_nothing(seat):
    c = signed_in()
    form = {"text": "公积金怎么提取", "article_code": "K010", "channel": "hotline", "sms": "1"}
    response = c.post(reverse("web:seat_answer"), form, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert 'id="answer-error"' in body(response) and "住房公积金提取" in body(response)
    assert Case.objects.count() == 0

    ring("c-1")
    response = c.post(
        reverse("web:seat_answer"),
        {**form, "requester_phone": CALLER, "call_id": "c-1"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 204 and response["HX-Redirect"].startswith(reverse("web:seat"))
    case = Case.objects.get()
    assert case.state == "closed" and Call.objects.get(call_id="c-1").case == case


def test_answered_on_the_spot_without_sms_closes_a_request_with_the_article(seat):
    c = signed_in()
    response = c.post(
        reverse("web:seat_answer"),
        {"text": "居住证怎么办理，带什么材料", "article_code": "K006", "channel": "hotline", "sms": "0"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 204
    case = Case.objects.get()
    assert case.state == "closed" and case.requester_phone == ""
    page = body(c.get(response["HX-Redirect"]))
    assert f'id="created-number">{case.number}<' in page and "已办结" in page
    assert "居住证办理" in body(c.get(reverse("web:case", args=[case.pk])))


def test_an_answer_on_the_spot_for_a_call_that_does_not_exist_writes_nothing(seat):
    response = signed_in().post(
        reverse("web:seat_answer"),
        {
            "text": "公积金怎么提取",
            "article_code": "K010",
            "channel": "hotline",
            "sms": "1",
            "requester_phone": CALLER,
            "call_id": "nope",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 404
    assert 'id="answer-error"' in body(response) and "没有这通来电" in body(response)
    # Neither the case nor the SMS with the answer: the link failed inside the answer's transaction.
    assert Case.objects.count() == 0
    assert not OutboxMessage.objects.exists()


def test_the_caller_panel_names_the_calls_state_in_the_calls_own_words(seat):
    c = signed_in()
    ring("c-1")
    assert "振铃中" in body(c.get(reverse("web:seat_caller")))
    receive_event(
        CallEventIn(event_id="c-1-answer", kind="answer", call_id="c-1", at=clock.now(), agent="operator")
    )
    page = body(c.get(reverse("web:seat_caller")))
    assert "通话中" in page and "振铃中" not in page
