"""The operator's seat (话务坐席) in a real browser (headless Chromium), in the demo city:
calls ring through the signed CTI webhook, the seat shows the caller's earlier cases and
takes the call into the form; a question in the caller's words is answered on the spot
from the knowledge base; a complaint becomes a routed case with a map pin, and after the
unit's feedback the follow-up queue offers it and an unsatisfied answer reopens it.
Asserts what the operator sees."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from minsheng.accounts.actors import Actor
from minsheng.accounts.models import Role
from minsheng.calls.models import Call
from minsheng.calls.signing import signed_headers
from minsheng.cases import actions as case_actions
from minsheng.cases.models import Case
from minsheng.cases.states import State
from minsheng.core import clock
from minsheng.demo.actions import DEMO_PASSWORD
from minsheng.knowledge import queries as knowledge_queries
from minsheng.notify.models import OutboxMessage
from minsheng.routing import classifier
from tests.common.factories import make_user
from tests.functional.browser import BROWSER_MARKS, DESKTOP, playwright

pytestmark = BROWSER_MARKS

SECRET = "cti-test-secret"
CALLER = "13957301234"
COMPLAINT = "env.noise"


@pytest.fixture
def seat_city(now, transactional_db, demo_city, settings):
    settings.MINSHENG_CTI_SECRET = SECRET
    settings.MINSHENG_FOLLOWUP_COMPLAINT_MATTERS = COMPLAINT
    knowledge_queries.forget()
    # The model is trained on first use when none is published (a clean checkout): do it
    # here, so the page's typing assist is checked for what it shows, not for how long the
    # first training takes on a loaded machine.
    classifier.store().current()
    yield
    knowledge_queries.forget()


def ring(telephone, base: str, call_id: str, kind: str = "ring", *, caller: str = CALLER) -> dict:
    """One event of the city's telephone system (a browser context of its own, without
    anyone's session), signed as it signs them."""
    body = json.dumps(
        {
            "event_id": f"{call_id}-{kind}",
            "event": kind,
            "call_id": call_id,
            "at": clock.now().isoformat(),
            "caller": caller,
            "seat": "8001",
            "agent": "operator",
        }
    ).encode()
    response = telephone.request.post(
        f"{base}/api/v1/calls/events", data=body, headers=signed_headers(SECRET, body)
    )
    assert response.status == 200, response.text()
    return response.json()


def operator_at_the_seat(browser, base: str):
    ctx = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = ctx.new_page()
    page.goto(f"{base}/login/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("form button.btn-primary")
    page.wait_for_load_state()
    page.goto(f"{base}/seat/?seat=8001")
    return ctx, page


def earlier_case() -> Case:
    """What the caller asked a month ago."""
    from django.contrib.auth import get_user_model

    operator = Actor.of(get_user_model().objects.get(username="operator"))
    return case_actions.accept_case(
        operator,
        case_actions.Intake(
            channel="hotline",
            text="小区门口的路灯坏了好几天，晚上很黑",
            category="road.streetlight",
            requester_name="陈女士",
            requester_phone=CALLER,
        ),
    )


def take_the_call(telephone, page, base: str, call_id: str) -> None:
    expect = playwright.expect
    assert ring(telephone, base, call_id)["state"] == "ringing"
    caller = page.locator("#caller")
    expect(caller).to_contain_text("139****1234", timeout=10_000)  # masked in the panel
    expect(caller).to_contain_text("振铃")
    # Taken into the form by itself: the full number (the operator calls back), the call.
    expect(page.locator("#call-taken-msg")).to_contain_text("已接入", timeout=10_000)
    expect(page.locator("#id_requester_phone")).to_have_value(CALLER)
    expect(page.locator("#id_call_id")).to_have_value(call_id)
    ring(telephone, base, call_id, "answer")


def test_the_seat_shows_the_caller_and_routes_a_complaint_to_follow_up(seat_city, live_server, browser):
    base = live_server.url
    expect = playwright.expect
    earlier = earlier_case()
    ctx, page = operator_at_the_seat(browser, base)
    telephone = browser.new_context()
    expect(page.locator("h1")).to_contain_text("登记诉求")
    expect(page.locator("#caller")).to_contain_text("本坐席暂无来电")
    # Keyboard first: the text has the focus, and Tab walks the form in the order of a call.
    expect(page.locator("#id_text")).to_be_focused()
    for field in ("id_category", "id_address", "id_lat", "id_lng", "id_channel", "id_requester_name"):
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == field
    page.click("#id_text")

    # --- a call rings: the caller's earlier case, masked, and the phone pre-filled ------
    take_the_call(telephone, page, base, "call-2")
    history = page.locator("#caller-history")
    expect(history).to_contain_text(earlier.number)
    expect(history).to_contain_text("路灯不亮、损坏")
    expect(page.locator("#caller")).not_to_contain_text(CALLER)  # the panel never shows it whole

    # --- a complaint: the matter suggested while typing, picked with Alt+1 ---------------
    page.click("#id_text")
    page.keyboard.type("隔壁工地半夜还在施工，噪音吵得睡不着，投诉好几次了")
    first = page.locator(".pick-matter[data-key='1']")
    expect(first).to_contain_text("噪声扰民", timeout=15_000)
    expect(first.locator(".conf")).to_have_text(re.compile(r"^\d{1,3}%$"))
    page.keyboard.press("Alt+1")
    expect(page.locator("#id_category")).to_have_value(COMPLAINT)

    # --- the place: typed, picked from the gazetteer's list, the pin follows --------------
    page.keyboard.press("Alt+P")
    page.keyboard.type("新华路")
    option = page.locator("#place-list [role=option]").first
    expect(option).to_contain_text("新华路", timeout=10_000)
    expect(option).to_contain_text("社区")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("#seat-map")).to_have_attribute("data-pinned", re.compile(r"^30\.\d+,121\.\d+$"))
    assert page.locator(".leaflet-marker-icon").count() == 1
    lat = float(page.input_value("#id_lat"))
    assert 30.6 < lat < 30.8

    # The form, the suggestions and the caller's history fit a 1366×768 screen.
    assert page.evaluate("document.documentElement.scrollHeight <= window.innerHeight")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # --- Enter registers; the case is routed to the matter's unit, linked to the call ----
    page.fill("#id_requester_name", "陈女士")
    page.click("#id_text")
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    expect(page.locator(".seat-created")).to_contain_text("已派单，待签收")
    number = page.locator("#created-number").inner_text().strip()
    case = Case.objects.select_related("matter", "owner_unit", "place").get(number=number)
    assert case.matter.code == COMPLAINT and case.state == State.ASSIGNED
    assert case.lat == pytest.approx(lat, abs=1e-6) and case.place is not None
    assert case.requester_phone == CALLER
    assert Call.objects.get(call_id="call-2").case == case
    expect(page.locator(".seat-created")).to_contain_text(case.owner_unit.name)
    expect(page.locator("#caller")).to_contain_text(number)  # the call says what came of it
    ring(telephone, base, "call-2", "hangup")
    expect(page.locator("#caller")).to_contain_text("本坐席暂无来电", timeout=10_000)

    # --- the unit signs, handles and feeds back ------------------------------------------
    handler = Actor.of(make_user("env_handler", Role.HANDLER, case.owner_unit))
    case_actions.sign_case(handler, case.pk)
    case_actions.dispatch_case(handler, case.pk, people=["执法一队"])
    case_actions.feedback_case(handler, case.pk, note="已责令工地夜间停工，22时后不得施工")

    # --- the follow-up queue offers it; unsatisfied reopens it to the unit ---------------
    clock.advance(dt.timedelta(hours=25))
    page.goto(f"{base}/followup/")
    item = page.locator(f"article.followup[data-case='{number}']")
    expect(item).to_contain_text("已责令工地夜间停工")
    item.locator("textarea[name=note]").fill("昨晚十一点还在施工，问题没有解决")
    item.locator("button[value=unsatisfied]").click()
    expect(page.locator(".messages")).to_contain_text(number)
    case.refresh_from_db()
    assert case.state == State.ASSIGNED and case.reopen_count == 1
    ctx.close()


def test_a_question_is_answered_on_the_spot_and_sent_by_sms(seat_city, live_server, browser):
    base = live_server.url
    expect = playwright.expect
    earlier = earlier_case()
    ctx, page = operator_at_the_seat(browser, base)
    telephone = browser.new_context()
    take_the_call(telephone, page, base, "call-1")
    expect(page.locator("#caller-history")).to_contain_text(earlier.number)

    # The caller's own words, not the article's.
    page.click("#id_text")
    page.keyboard.type("孩子刚出生，看病能报销的那个怎么给他弄上")
    first = page.locator(".kb-pick[data-key='Q']")
    expect(first).to_contain_text("新生儿参加城乡居民医保", timeout=15_000)
    expect(page.locator("#answerable")).to_contain_text("可直接答复")
    page.keyboard.press("Alt+Q")
    expect(page.locator("#answer-text")).to_contain_text("医保")
    assert page.evaluate("document.documentElement.scrollHeight <= window.innerHeight")

    page.keyboard.press("Alt+S")  # send by SMS and close on the spot
    expect(page.locator(".seat-created")).to_contain_text("已办结", timeout=10_000)
    number = page.locator("#created-number").inner_text().strip()
    case = Case.objects.get(number=number)
    assert case.state == State.CLOSED and case.requester_phone == CALLER
    assert Call.objects.get(call_id="call-1").case == case
    # The answer went by SMS to the caller, and the article is on the case's timeline.
    to_caller = [m for m in OutboxMessage.objects.filter(case=case) if m.phone == CALLER]
    assert any("医保" in json.dumps(m.context, ensure_ascii=False) for m in to_caller)
    page.click("#created-number")
    expect(page.locator("ol.timeline")).to_contain_text("新生儿参加城乡居民医保")
    ctx.close()
