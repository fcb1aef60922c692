"""The pages through Django's test client: each workbench for its role, in Chinese,
scoped; the intake form; actions on the case page (stale versions, HTMX); the public
follow page."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from minsheng.cases import actions
from minsheng.cases.models import Case, CaseEvent, PersonalDataAccess
from minsheng.cases.states import State
from tests.common.factories import PASSWORD, intake

pytestmark = pytest.mark.django_db


def client_for(city, name: str) -> Client:
    c = Client()
    assert c.login(username=city.users[name].username, password=PASSWORD)
    return c


def text_of(response) -> str:
    return response.content.decode()


# --- workbenches ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "page", "heading"),
    [
        ("operator", "web:seat", "登记诉求"),
        ("dispatcher", "web:queue", "派单队列"),
        ("sub_east", "web:queue", "派单队列"),
        ("admin", "web:queue", "派单队列"),
        ("roads", "web:inbox", "单位待办"),
        ("village_ea", "web:inbox", "单位待办"),
        ("field_roads", "web:field", "我的现场工单"),
        ("leader", "web:overview", "按状态统计"),
    ],
)
def test_home_leads_each_role_to_its_workbench_in_chinese(city, now, user, page, heading):
    c = client_for(city, user)
    response = c.get("/")
    assert response.status_code == 302 and response.url == reverse(page)
    response = c.get(reverse(page))
    assert response.status_code == 200
    body = text_of(response)
    assert heading in body
    assert 'lang="zh-Hans"' in body
    assert "退出登录" in body  # sign-out, a POST form on every page
    assert f'action="{reverse("web:logout")}" method="post"' in body
    assert "web/vendor/htmx.min.js" in body


def test_header_shows_user_role_and_unit(city, now):
    body = text_of(client_for(city, "roads").get(reverse("web:inbox")))
    assert "承办人员" in body and "住建局" in body and "roads" in body


def test_pages_need_sign_in_except_the_public_one(city):
    c = Client()
    for name in ("web:home", "web:intake", "web:queue", "web:inbox", "web:cases"):
        response = c.get(reverse(name))
        assert response.status_code == 302 and response.url.startswith(reverse("web:login"))
    assert c.get(reverse("web:track")).status_code == 200
    assert "登录" in text_of(c.get(reverse("web:login")))


def test_a_role_without_the_page_goes_back_to_its_own(city, now):
    c = client_for(city, "leader")
    response = c.get(reverse("web:intake"))
    assert response.status_code == 302 and response.url == reverse("web:home")


def test_dispatcher_queue_lists_unassigned_and_returned_with_counts(city, now):
    waiting = intake(city, category="neighbor.dispute", point=None, text="有人反映噪音扰民")
    returned = intake(city)
    actions.return_case(city.actor("roads"), returned.pk, note="不属于本单位")
    c = client_for(city, "dispatcher")
    body = text_of(c.get(reverse("web:queue")))
    assert waiting.number in body
    assert re.search(r"待派单 <span class=\"count[^\"]*\">1</span>", body)
    assert re.search(r"被退回 <span class=\"count[^\"]*\">1</span>", body)
    body = text_of(c.get(reverse("web:queue") + "?tab=returned"))
    assert returned.number in body
    # The unit select offers only units the dispatcher may assign to.
    assert f'value="{city.units["roads"].pk}"' in body
    assert f'<option value="{city.units["centre"].pk}"' not in body


def test_subcentre_queue_is_limited_to_its_town(city, now):
    east = intake(city, category="neighbor.dispute", point=None, text="东城邻里纠纷")
    east.town = city.places["east"]
    east.save(update_fields=["town"])
    west = intake(city, category="neighbor.dispute", point=None, text="西乡邻里纠纷")
    west.town = city.places["west"]
    west.save(update_fields=["town"])
    body = text_of(client_for(city, "sub_east").get(reverse("web:queue")))
    assert east.number in body and west.number not in body
    assert f'value="{city.units["gr-east.a"].pk}"' in body
    assert f'value="{city.units["gr-west.a"].pk}"' not in body


def test_assign_from_the_queue_without_javascript_returns_to_the_queue(city, now):
    case = intake(city, category="neighbor.dispute", point=None)
    c = client_for(city, "dispatcher")
    url = reverse("web:case_action", args=[case.pk, "assign"])
    response = c.post(
        url,
        {
            "version": case.version,
            "unit": city.units["water"].pk,
            "category": "water.sewage",
            "from": "row",
            "next": reverse("web:queue"),
        },
    )
    assert response.status_code == 302 and response.url == reverse("web:queue")
    case.refresh_from_db()
    assert case.state == State.ASSIGNED and case.owner_unit == city.units["water"]
    assert case.matter.code == "water.sewage"


def test_assign_from_the_queue_with_htmx_swaps_the_row(city, now):
    case = intake(city, category="neighbor.dispute", point=None)
    c = client_for(city, "dispatcher")
    response = c.post(
        reverse("web:case_action", args=[case.pk, "assign"]),
        {"version": case.version, "unit": city.units["roads"].pk, "from": "row", "colspan": "8"},
        HTTP_HX_REQUEST="true",
    )
    body = text_of(response)
    assert response.status_code == 200 and body.lstrip().startswith("<tr")
    assert "已派单" in body and "住建局" in body


def test_unit_inbox_has_tabs_with_counts(city, now):
    a = intake(city)
    b = intake(city, text="又一个井盖坏了")
    actions.sign_case(city.actor("roads"), b.pk)
    body = text_of(client_for(city, "roads").get(reverse("web:inbox")))
    for label in ("待签收", "待派遣", "待反馈"):
        assert label in body
    assert a.number in body  # the first non-empty tab: to sign
    assert re.search(r"待签收 <span class=\"count[^\"]*\">1</span>", body)
    body = text_of(client_for(city, "roads").get(reverse("web:inbox") + "?tab=dispatch"))
    assert b.number in body and a.number not in body


def test_inbox_tab_over_htmx_is_a_fragment(city, now):
    intake(city)
    response = client_for(city, "roads").get(reverse("web:inbox") + "?tab=sign", HTTP_HX_REQUEST="true")
    body = text_of(response)
    assert "<html" not in body and 'id="tab-panel"' in body


def test_field_worker_sees_only_cases_dispatched_to_them(city, now):
    mine = intake(city)
    other = intake(city, text="另一个井盖")
    roads = city.actor("roads")
    for case, who in ((mine, "field_roads"), (other, "field_roads2")):
        actions.sign_case(roads, case.pk)
        actions.dispatch_case(roads, case.pk, people=[who])
    c = client_for(city, "field_roads")
    body = text_of(c.get(reverse("web:field")))
    assert mine.number in body and other.number not in body
    assert c.get(reverse("web:case", args=[other.pk])).status_code == 404
    body = text_of(c.get(reverse("web:case", args=[mine.pk])))
    assert "记录办理情况" in body  # the handle form


def test_leader_overview_counts_by_state_and_is_read_only(city, now):
    intake(city)
    intake(city, category="neighbor.dispute", point=None)
    c = client_for(city, "leader")
    body = text_of(c.get(reverse("web:overview")))
    assert "按状态统计" in body and "已派单，待签收" in body and "已受理，待派单" in body
    case = Case.objects.first()
    body = text_of(c.get(reverse("web:case", args=[case.pk])))
    assert "此工单目前没有需要您处理的操作" in body
    assert '<form class="action-form' not in body


# --- scoping ------------------------------------------------------------------------------


def test_a_handler_never_sees_another_departments_case(city, now):
    case = intake(city)  # goes to roads (住建局)
    c = client_for(city, "water")
    for url in (
        reverse("web:inbox"),
        reverse("web:cases"),
        reverse("web:cases") + f"?q={case.number}",
        reverse("web:inbox") + "?tab=feedback",
    ):
        assert f">{case.number}<" not in text_of(c.get(url)), url
    assert c.get(reverse("web:case", args=[case.pk])).status_code == 404
    assert c.get(reverse("web:case_by_number", args=[case.number])).status_code == 404
    response = c.post(reverse("web:case_action", args=[case.pk, "sign"]), {"version": case.version})
    assert response.status_code == 404
    case.refresh_from_db()
    assert case.state == State.ASSIGNED
    # ... while the holding unit does.
    assert case.number in text_of(client_for(city, "roads").get(reverse("web:cases")))


def test_search_filters_and_paginates_within_scope(city, now):
    manhole = [intake(city, text=f"井盖问题 {i}") for i in range(55)][-1]  # roads, assigned
    sewage = intake(city, category="water.sewage", text="污水冒出")  # water, assigned
    signed = intake(city, category="water.sewage", text="污水井满了")
    signed = actions.sign_case(city.actor("water"), signed.pk)  # water, signed
    c = client_for(city, "dispatcher")

    def search(query: str = "") -> str:
        return text_of(c.get(reverse("web:cases") + query))

    def listed(body: str) -> set[str]:
        return {case.number for case in (manhole, sewage, signed) if f">{case.number}<" in body}

    body = search()
    assert "共 57 件" in body and body.count('class="num"') == 50
    assert listed(body) == {manhole.number, sewage.number, signed.number}
    # The next page starts after the last row shown (keyset), and is the last one.
    after = re.search(r'href="\?after=([\w-]+)" rel="next"', body)
    assert after is not None
    rest = search(f"?after={after.group(1)}")
    assert rest.count('class="num"') == 7 and 'rel="next"' not in rest and 'rel="first"' in rest
    assert "这不是本列表给出的翻页标记" in search("?after=nonsense")
    body = search(f"?unit={city.units['water'].pk}")
    assert "共 2 件" in body and listed(body) == {sewage.number, signed.number}
    body = search("?category=water.sewage")
    assert "共 2 件" in body and listed(body) == {sewage.number, signed.number}
    body = search("?state=assigned")
    assert "共 56 件" in body and listed(body) == {manhole.number, sewage.number}
    body = search("?category=water.sewage&state=assigned")
    assert "共 1 件" in body and listed(body) == {sewage.number}
    now.advance(minutes=2)  # every sign clock (1 minute) not yet met is now overdue
    fresh = intake(city, text="井盖又坏了")  # its sign clock has just started
    body = search("?overdue=1")
    assert "共 56 件" in body and listed(body) == {manhole.number, sewage.number}
    assert f">{fresh.number}<" not in body
    assert "没有符合条件的工单" in search("?state=closed")


# --- intake ---------------------------------------------------------------------------------


def test_intake_errors_keep_what_was_typed_and_save_nothing(city, now):
    c = client_for(city, "operator")
    before = Case.objects.count()
    response = c.post(
        reverse("web:intake"),
        {
            "text": "路灯不亮好几天了",
            "channel": "hotline",
            "address": "东城大道88号",
            "requester_name": "李四",
            "requester_phone": "12345",
            "category": "road.manhole",
        },
    )
    assert response.status_code == 422
    body = text_of(response)
    assert "电话号码无效" in body
    assert "路灯不亮好几天了" in body and "东城大道88号" in body and 'value="12345"' in body
    assert 'value="李四"' in body
    assert re.search(r'<option value="road.manhole" selected', body)
    assert Case.objects.count() == before

    response = c.post(
        reverse("web:intake"), {"text": "  ", "channel": "hotline", "lat": "30.7", "requester_name": "王五"}
    )
    body = text_of(response)
    assert response.status_code == 422 and "这个字段是必填项" in body
    assert 'value="王五"' in body and 'value="30.7"' in body
    assert Case.objects.count() == before


def test_intake_half_a_point_is_refused_next_to_the_field(city, now):
    c = client_for(city, "operator")
    response = c.post(reverse("web:intake"), {"text": "井盖坏了", "channel": "hotline", "lat": "30.72"})
    assert response.status_code == 422
    assert "请同时填写纬度和经度" in text_of(response)
    assert Case.objects.count() == 0


def test_intake_shows_the_new_case_number_and_links_to_it(city, now):
    c = client_for(city, "operator")
    response = c.post(
        reverse("web:intake"),
        {
            "text": "人行道井盖破了",
            "channel": "rider",
            "category": "road.manhole",
            "lat": "30.725",
            "lng": "121.025",
            "requester_name": "骑手",
            "requester_phone": "13812345678",
            "urgent": "on",
            "idempotency_key": "k-1",
        },
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.urgent and case.owner_unit == city.units["roads"]
    body = text_of(c.get(response.url))
    assert f'id="created-number">{case.number}<' in body
    assert reverse("web:case", args=[case.pk]) in body
    # The same form sent twice (double click, reload) registers one case.
    c.post(reverse("web:intake"), {"text": "人行道井盖破了", "channel": "rider", "idempotency_key": "k-1"})
    assert Case.objects.count() == 1


def test_anonymous_intake_stores_no_name_or_phone(city, now):
    c = client_for(city, "operator")
    c.post(
        reverse("web:intake"),
        {
            "text": "匿名反映噪音",
            "channel": "hotline",
            "category": "neighbor.dispute",
            "requester_name": "赵六",
            "requester_phone": "13812345678",
            "anonymous": "on",
        },
    )
    case = Case.objects.get()
    assert case.requester_name == "" and case.requester_phone == ""


# --- the case page ---------------------------------------------------------------------------


def test_leader_sees_the_phone_masked_and_nothing_is_logged(city, now):
    case = intake(city, phone="13812345678")
    body = text_of(client_for(city, "leader").get(reverse("web:case", args=[case.pk])))
    assert "138****5678" in body and "13812345678" not in body
    assert not PersonalDataAccess.objects.exists()


def test_operator_sees_the_full_phone_and_the_view_is_logged(city, now):
    case = intake(city, phone="13812345678")
    body = text_of(client_for(city, "operator").get(reverse("web:case", args=[case.pk])))
    assert "13812345678" in body
    log = PersonalDataAccess.objects.get()
    assert log.user == city.users["operator"] and log.case == case and log.via == "web"


def test_case_page_shows_clocks_timeline_and_only_allowed_forms(city, now):
    case = intake(city)
    body = text_of(client_for(city, "roads").get(reverse("web:case", args=[case.pk])))
    assert case.number in body and "已派单，待签收" in body and "窨井盖" in body
    assert "时限" in body and "签收" in body and "办理过程" in body
    assert "自动派单" in body or "Automatic dispatch" in body
    assert "action-sign" in body and "action-return" in body
    assert "action-feedback" not in body and "action-close" not in body
    assert f'name="version" value="{case.version}"' in body


def test_stale_form_gets_the_409_message_and_nothing_is_overwritten(city, now):
    case = intake(city)
    old_version = case.version
    actions.sign_case(city.actor("roads"), case.pk)  # someone else signs first
    c = client_for(city, "roads")
    response = c.post(reverse("web:case_action", args=[case.pk, "sign"]), {"version": old_version})
    assert response.status_code == 409
    body = text_of(response)
    assert "已被他人处理" in body
    assert "已签收，待派遣" in body  # the page now shows the case as it is
    assert CaseEvent.objects.filter(case=case, action="sign").count() == 1

    # A note typed into a stale form is kept for the person to send again.
    actions.dispatch_case(city.actor("roads"), case.pk, people=["field_roads"])
    case.refresh_from_db()
    stale = case.version
    actions.handle_case(city.actor("field_roads"), case.pk, note="已到场")
    response = c.post(
        reverse("web:case_action", args=[case.pk, "feedback"]),
        {"version": stale, "note": "井盖已更换"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 409
    body = text_of(response)
    assert "已被他人处理" in body and "井盖已更换" in body and "<html" not in body
    case.refresh_from_db()
    assert case.state == State.HANDLING and case.feedback_text == ""


def test_a_form_without_a_version_is_treated_as_stale(city, now):
    case = intake(city)
    response = client_for(city, "roads").post(reverse("web:case_action", args=[case.pk, "sign"]))
    assert response.status_code == 409
    case.refresh_from_db()
    assert case.state == State.ASSIGNED


def test_invalid_input_is_shown_next_to_the_form_with_422(city, now):
    case = intake(city)
    c = client_for(city, "roads")
    response = c.post(
        reverse("web:case_action", args=[case.pk, "return"]), {"version": case.version, "note": " "}
    )
    assert response.status_code == 422
    assert "请说明退单理由" in text_of(response)


def test_actions_without_javascript_redirect_to_the_case(city, now):
    case = intake(city)
    c = client_for(city, "roads")
    response = c.post(reverse("web:case_action", args=[case.pk, "sign"]), {"version": case.version})
    assert response.status_code == 302 and response.url == reverse("web:case", args=[case.pk])
    body = text_of(c.get(response.url))
    assert "已签收。" in body and "已签收，待派遣" in body


def test_actions_over_htmx_swap_the_case_panel(city, now):
    case = intake(city)
    c = client_for(city, "roads")
    response = c.post(
        reverse("web:case_action", args=[case.pk, "sign"]), {"version": case.version}, HTTP_HX_REQUEST="true"
    )
    body = text_of(response)
    assert response.status_code == 200 and body.lstrip().startswith('<div id="case-panel"')
    assert "已签收。" in body and f'name="version" value="{case.version + 1}"' in body
    response = c.post(
        reverse("web:case_action", args=[case.pk, "dispatch"]),
        {"version": case.version + 1, "people": "抢修二班", "worker": "field_roads"},
        HTTP_HX_REQUEST="true",
    )
    case.refresh_from_db()
    assert case.state == State.DISPATCHED
    assert case.dispatched_people == ["抢修二班", "field_roads"]
    assert list(case.assignees.all()) == [city.users["field_roads"]]


def test_returning_a_case_leads_back_to_the_workbench(city, now):
    case = intake(city)
    c = client_for(city, "roads")
    response = c.post(
        reverse("web:case_action", args=[case.pk, "return"]),
        {"version": case.version, "note": "属于水务"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 204 and response["HX-Redirect"] == reverse("web:home")
    response = c.get(reverse("web:home"), follow=True)
    assert "已退回调度员" in text_of(response)


def test_merge_takes_the_original_by_number(city, now):
    original = intake(city)
    dup = intake(city, category="neighbor.dispute", point=None, text="井盖坏了（重复）")
    c = client_for(city, "dispatcher")
    response = c.post(
        reverse("web:case_action", args=[dup.pk, "merge"]),
        {"version": dup.version, "into": original.number.lower()},
    )
    assert response.status_code == 302
    dup.refresh_from_db()
    assert dup.merged_into == original and dup.state == State.CLOSED
    response = c.post(
        reverse("web:case_action", args=[original.pk, "merge"]),
        {"version": original.version + 1, "into": "MS000"},
    )
    assert response.status_code == 422 and "要合并到的工单不存在" in text_of(response)


def test_language_switch_to_english(city, now):
    c = client_for(city, "roads")
    response = c.post(reverse("set_language"), {"language": "en", "next": reverse("web:inbox")})
    assert response.status_code == 302
    body = text_of(c.get(reverse("web:inbox")))
    assert "Unit inbox" in body and "To sign" in body and 'lang="en"' in body


# --- the public follow page ------------------------------------------------------------------


def test_follow_page_wrong_digits_and_unknown_number_read_the_same(city, now):
    case = intake(city, phone="13812345678")
    c = Client()
    wrong = c.post(reverse("web:track"), {"number": case.number, "digits": "0000"})
    unknown = c.post(reverse("web:track"), {"number": "MS20991231999999", "digits": "0000"})
    for response in (wrong, unknown):
        assert response.status_code == 200
        body = text_of(response)
        assert "未找到对应的工单" in body
        assert case.public_token not in body and "13812345678" not in body
    strip = re.compile(r'name="(number|csrfmiddlewaretoken)" value="[^"]*"|value="MS[0-9]+"')
    assert strip.sub("", text_of(wrong)).replace(case.number, "") == strip.sub("", text_of(unknown)).replace(
        "MS20991231999999", ""
    )


def test_follow_page_is_slowed_after_many_failures(city, now):
    from django.core.cache import cache

    cache.clear()
    c = Client()
    for _ in range(20):
        c.post(reverse("web:track"), {"number": "MS1", "digits": "0000"})
    body = text_of(c.post(reverse("web:track"), {"number": "MS1", "digits": "0000"}))
    assert "尝试次数过多" in body
    cache.clear()


def test_follow_page_shows_progress_and_takes_the_rating(city, now):
    case = intake(city, phone="13812345678")
    c = Client()
    response = c.post(reverse("web:track"), {"number": case.number.lower(), "digits": "5678"})
    assert response.status_code == 302
    assert response.url == reverse("web:track_token", args=[case.public_token])
    body = text_of(c.get(response.url))
    assert "您的诉求已转交承办单位" in body and "住建局" in body
    assert "13812345678" not in body and "张三" not in body
    assert 'name="rating"' not in body

    roads = city.actor("roads")
    actions.sign_case(roads, case.pk)
    actions.dispatch_case(roads, case.pk, people=["field_roads"])
    actions.feedback_case(roads, case.pk, note="井盖已更换，恢复通行")
    body = text_of(c.get(response.url))
    assert "井盖已更换，恢复通行" in body and "请您评价是否满意" in body
    assert 'name="rating"' in body
    case.refresh_from_db()
    posted = c.post(response.url, {"rating": "satisfied", "note": "很快", "version": case.version})
    assert posted.status_code == 302
    case.refresh_from_db()
    assert case.state == State.RATED and case.rating == "satisfied"
    body = text_of(c.get(posted.url))
    assert "您的评价已记录" in body and 'name="rating"' not in body
    # A second rating from an old tab is refused, not applied.
    again = c.post(response.url, {"rating": "unsatisfied", "version": case.version - 1})
    assert again.status_code == 409
    case.refresh_from_db()
    assert case.rating == "satisfied"


def test_unknown_secret_link_is_not_found(city):
    assert Client().get(reverse("web:track_token", args=["nope"])).status_code == 404


def test_lists_do_not_query_once_per_row(city, now):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(c, url):
        c.get(url)
        with CaptureQueriesContext(connection) as ctx:
            assert c.get(url).status_code == 200
        return len(ctx)

    for i in range(3):
        intake(city, category="neighbor.dispute", point=None, text=f"待分类 {i}")
    d, r = client_for(city, "dispatcher"), client_for(city, "roads")
    few = {
        u: queries(c, u)
        for c, u in ((d, reverse("web:queue")), (d, reverse("web:cases")), (r, reverse("web:inbox")))
    }
    for i in range(20):
        intake(city, category="neighbor.dispute", point=None, text=f"更多待分类 {i}")
        intake(city, text=f"井盖 {i}")
    many = {
        u: queries(c, u)
        for c, u in ((d, reverse("web:queue")), (d, reverse("web:cases")), (r, reverse("web:inbox")))
    }
    assert many == few


def test_an_expired_session_over_htmx_goes_to_the_sign_in_page(city, now):
    case = intake(city)
    response = Client().post(
        reverse("web:case_action", args=[case.pk, "sign"]),
        {"version": case.version},
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL=f"http://testserver/cases/{case.pk}/",
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == f"/login/?next=%2Fcases%2F{case.pk}%2F"


def test_subcentre_passes_a_territorial_case_on_to_a_village_from_its_queue(city, now):
    case = intake(city, category="neighbor.dispute", point="east.a")
    assert case.owner_unit == city.units["sub-east"]
    c = client_for(city, "sub_east")
    body = text_of(c.get(reverse("web:queue") + "?tab=held"))
    assert case.number in body and 'name="unit"' in body
    response = c.post(
        reverse("web:case_action", args=[case.pk, "assign"]),
        {
            "version": case.version,
            "unit": city.units["gr-east.a"].pk,
            "from": "row",
            "next": reverse("web:queue"),
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.owner_unit == city.units["gr-east.a"]
    assert case.number in text_of(client_for(city, "village_ea").get(reverse("web:inbox")))


def test_the_bell_shows_in_the_header_when_notifications_are_mounted(city, now, settings):
    from django.urls import NoReverseMatch, clear_url_caches
    from django.urls import reverse as url_for

    try:
        url_for("notify:list")
        mounted_by_project = True
    except NoReverseMatch:
        mounted_by_project = False
    if not mounted_by_project:
        assert 'id="notify-bell"' not in text_of(client_for(city, "roads").get(reverse("web:inbox")))
        settings.ROOT_URLCONF = "tests.functional.urls_with_notify"
        clear_url_caches()
    body = text_of(client_for(city, "roads").get(reverse("web:inbox")))
    assert 'id="notify-bell"' in body
    clear_url_caches()
