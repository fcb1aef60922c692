"""API v1 through HTTP, as a client integrating with it would use it: a real token from
``minsheng createtoken``, JSON in and out, and the status codes of the contract."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from minsheng.accounts.models import ApiToken, hash_token
from minsheng.cases.models import Case, CaseClock, CaseEvent, IntakeKey, PersonalDataAccess
from minsheng.notify.models import OutboxMessage
from tests.common.factories import City

pytestmark = pytest.mark.django_db

EAST_A = dict(zip(("lat", "lng"), City.POINTS["east.a"], strict=True))
MANHOLE = {
    "channel": "rider",
    "text": "晚上送餐经过，人行道上一个窨井盖破了一角，很危险",
    **EAST_A,
    "category": "road.manhole",
    "urgent": False,
    "requester": {"name": "沈师傅", "phone": "138 1234 5678"},
}


def create_token(username: str) -> str:
    out = StringIO()
    call_command("createtoken", username, stdout=out)
    return out.getvalue().strip().splitlines()[-1]


class Api:
    """A client per person, each with its own token from the management command."""

    def __init__(self, city):
        self.city = city
        self.tokens: dict[str, str] = {}
        self.http = Client()

    def token(self, user: str) -> str:
        if user not in self.tokens:
            self.tokens[user] = create_token(user)
        return self.tokens[user]

    def headers(self, user: str | None, **extra: str) -> dict[str, str]:
        auth = {"Authorization": f"Bearer {self.token(user)}"} if user else {}
        return {**auth, **extra}

    def get(self, path: str, user: str | None = "operator"):
        return self.http.get(f"/api/v1{path}", headers=self.headers(user))

    def post(self, path: str, body, user: str | None = "operator", **headers: str):
        data = body if isinstance(body, str) else json.dumps(body)
        return self.http.post(
            f"/api/v1{path}", data, content_type="application/json", headers=self.headers(user, **headers)
        )

    def create(self, user: str = "operator", **changes):
        body = {**MANHOLE, **changes}
        response = self.post("/cases", body, user)
        assert response.status_code == 201, response.content
        return response.json()

    def act(self, case_id: int, action: str, user: str, **body):
        return self.post(f"/cases/{case_id}/actions/{action}", body, user)


@pytest.fixture
def api(city, now):
    return Api(city)


def rows() -> dict[str, int]:
    return {
        "cases": Case.objects.count(),
        "events": CaseEvent.objects.count(),
        "outbox": OutboxMessage.objects.count(),
        "clocks": CaseClock.objects.count(),
        "keys": IntakeKey.objects.count(),
    }


# --- tokens and authentication -----------------------------------------------------------


def test_createtoken_prints_the_token_last_and_stores_only_its_hash(city):
    token = create_token("roads")
    assert token.startswith("ms_") and len(token) > 30
    row = ApiToken.objects.get(user=city.users["roads"])
    assert row.key_hash == hash_token(token)
    stored = [str(v) for v in ApiToken.objects.filter(pk=row.pk).values().get().values()]
    assert not any(token in value for value in stored), "the token itself is not stored"
    # A second token is a different token; both work until revoked.
    assert create_token("roads") != token
    with pytest.raises(CommandError):
        call_command("createtoken", "nobody", stdout=StringIO())


def test_the_token_authenticates_its_user_and_records_its_use(api):
    page = api.get("/cases", user="roads")
    assert page.status_code == 200
    row = ApiToken.objects.get(key_hash=hash_token(api.token("roads")))
    assert row.last_used_at is not None


def test_no_bad_or_revoked_token_is_401_and_writes_nothing(api, city):
    case = api.create()
    before = rows()
    revoked = api.token("roads")
    ApiToken.objects.filter(key_hash=hash_token(revoked)).update(revoked=True)
    inactive = api.token("water")
    city.users["water"].is_active = False
    city.users["water"].save()
    for auth in (
        None,
        "Bearer ms_not-a-real-token",
        f"Bearer {revoked}",
        f"Bearer {inactive}",
        f"Token {api.token('dispatcher')}",
    ):
        headers = {"Authorization": auth} if auth else {}
        client = Client()
        for method, path, body in (
            ("get", "/api/v1/cases", None),
            ("get", f"/api/v1/cases/{case['id']}", None),
            ("get", f"/api/v1/cases/{case['id']}/events", None),
            ("post", "/api/v1/cases", MANHOLE),
            ("post", f"/api/v1/cases/{case['id']}/actions/sign", {}),
        ):
            if method == "get":
                response = client.get(path, headers=headers)
            else:
                response = client.post(
                    path, json.dumps(body), content_type="application/json", headers=headers
                )
            assert response.status_code == 401, (auth, path)
    assert rows() == before


def test_a_session_works_for_reading_and_needs_csrf_for_writing(api, city):
    case = api.create()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(city.users["roads"])
    assert browser.get(f"/api/v1/cases/{case['id']}").status_code == 200
    path = f"/api/v1/cases/{case['id']}/actions/sign"
    refused = browser.post(path, "{}", content_type="application/json")
    assert refused.status_code == 403
    assert Case.objects.get(pk=case["id"]).state == "assigned"
    browser.cookies["csrftoken"] = "a" * 32
    signed = browser.post(path, "{}", content_type="application/json", headers={"X-CSRFToken": "a" * 32})
    assert signed.status_code == 200 and signed.json()["state"] == "signed"


# --- intake ------------------------------------------------------------------------------


def test_create_answers_201_with_the_case_its_clocks_owner_and_place(api, now):
    response = api.post("/cases", {**MANHOLE, "address": "东城街道人民路12号"})
    assert response.status_code == 201
    body = response.json()
    assert body["address"] == "东城街道人民路12号"
    assert body["number"].startswith("MS20261123")
    assert body["state"] == "assigned"
    assert body["category"] == "road.manhole"
    assert body["owner_unit"]["code"] == "roads"
    assert body["place"]["code"] == "east.a" and body["place"]["town"] == "东城街道"
    assert body["requester"] == {"name": "沈师傅", "phone": "13812345678", "phone_masked": False}
    clocks = {c["name"]: c for c in body["clocks"]}
    assert set(clocks) == {"sign", "feedback", "resolve"}  # dispatch starts at signing
    for c in clocks.values():
        assert set(c) >= {"name", "due_at", "met_at", "late"}
        assert c["met_at"] is None and c["late"] is False
    assert clocks["sign"]["due_at"].startswith("2026-11-23T09:01:00")
    assert clocks["feedback"]["due_at"].startswith("2026-11-24T09:00:00")
    # Two working days (the manhole matter's limit) after Monday 09:00 local... in UTC.
    assert clocks["resolve"]["due_at"].startswith("2026-11-25T09:00:00")
    # GET answers the same case.
    again = api.get(f"/cases/{body['id']}").json()
    assert again == body


def test_a_case_nobody_can_route_waits_in_the_dispatchers_queue(api):
    # A territorial matter (it goes to the town) with no point: which town is unknown.
    body = api.create(
        category="neighbor.dispute", lat=None, lng=None, text="楼上卫生间漏水到楼下，协商多次未果"
    )
    assert body["state"] == "accepted"
    assert body["owner_unit"] is None and body["place"] is None
    assert {c["name"] for c in body["clocks"]} == {"feedback", "resolve"}
    queue = api.get("/cases?state=accepted", "dispatcher").json()
    assert [i["id"] for i in queue["items"]] == [body["id"]]


def test_a_retry_with_the_same_idempotency_key_returns_the_same_case(api):
    first = api.post("/cases", MANHOLE, **{"Idempotency-Key": "k-1"})
    before = rows()
    retry = api.post("/cases", MANHOLE, **{"Idempotency-Key": "k-1"})
    assert first.status_code == 201 and retry.status_code in (200, 201)
    assert retry.json()["id"] == first.json()["id"]
    assert retry.json()["number"] == first.json()["number"]
    assert rows() == before, "a retry writes nothing"
    # Another person with the same key makes another case; so does another key.
    other_user = api.post("/cases", MANHOLE, user="dispatcher", **{"Idempotency-Key": "k-1"})
    other_key = api.post("/cases", MANHOLE, **{"Idempotency-Key": "k-2"})
    ids = {first.json()["id"], other_user.json()["id"], other_key.json()["id"]}
    assert len(ids) == 3
    assert Case.objects.count() == 3
    # Without a key every call is a new case.
    api.post("/cases", MANHOLE)
    assert Case.objects.count() == 4


def test_a_leader_may_not_register_requests(api):
    before = rows()
    response = api.post("/cases", MANHOLE, user="leader")
    assert response.status_code == 403
    assert rows() == before


# --- 422: the field is named and nothing is written --------------------------------------

BAD_INTAKE = [
    ("empty text", {"text": ""}, "text"),
    ("whitespace text", {"text": " \n\t\u3000 "}, "text"),
    ("text of 20,001 characters", {"text": "井" * 20_001}, "text"),
    ("unknown channel", {"channel": "fax"}, "channel"),
    ("latitude 200", {"lat": 200, "lng": 121.0}, "lat"),
    ("latitude without longitude", {"lat": 30.7, "lng": None}, "lat"),
    ("unknown category", {"category": "road.unicorn"}, "category"),
    ("invalid phone", {"requester": {"name": "张三", "phone": "12345"}}, "requester.phone"),
    ("text missing", {"text": None}, "text"),
    # PostgreSQL cannot store NUL characters: refused with a 422, not a 500.
    ("NUL in the text", {"text": "井盖\x00坏了"}, "text"),
    ("NUL in the address", {"address": "人民路\x0012号"}, "address"),
    ("NUL in the requester's name", {"requester": {"name": "张\x00三", "phone": ""}}, "requester.name"),
    ("address of 201 characters", {"address": "路" * 201}, "address"),
    ("requester name of 65 characters", {"requester": {"name": "张" * 65}}, "requester.name"),
]


@pytest.mark.parametrize(("what", "change", "field"), BAD_INTAKE, ids=[b[0] for b in BAD_INTAKE])
def test_bad_intake_is_422_naming_the_field_and_writes_nothing(api, what, change, field):
    body = {**MANHOLE, **change}
    body = {k: v for k, v in body.items() if v is not None or k in ("lat", "lng", "category")}
    before = rows()
    response = api.post("/cases", body, **{"Idempotency-Key": f"bad-{what}"})
    assert response.status_code == 422, response.content
    errors = response.json()["detail"]
    assert ["body", *field.split(".")] in [e["loc"] for e in errors], errors
    assert all(e["msg"] for e in errors)
    assert rows() == before


def test_a_text_of_exactly_20000_characters_is_taken(api):
    assert api.post("/cases", {**MANHOLE, "text": "井" * 20_000}).status_code == 201


def prepared(api, state: str) -> dict:
    case = api.create()
    if state in ("signed", "dispatched", "feedback"):
        api.act(case["id"], "sign", "roads")
    if state in ("dispatched", "feedback"):
        api.act(case["id"], "dispatch", "roads", people=["field_roads"])
    if state == "feedback":
        api.act(case["id"], "feedback", "roads", note="已更换井盖")
    got = api.get(f"/cases/{case['id']}").json()
    assert got["state"] == state
    return got


BAD_ACTIONS = [
    # (what, state the case is in, person, action, body, field)
    ("rating missing", "feedback", "operator", "rate", {}, ["body", "rating"]),
    ("rating invalid", "feedback", "operator", "rate", {"rating": "great"}, ["body", "rating"]),
    ("dispatch without people", "signed", "roads", "dispatch", {}, ["body", "people"]),
    ("dispatch with blank names", "signed", "roads", "dispatch", {"people": [" "]}, ["body", "people"]),
    ("return without note", "assigned", "roads", "return", {}, ["body", "note"]),
    ("return with a blank note", "assigned", "roads", "return", {"note": "  "}, ["body", "note"]),
    ("handle without note", "dispatched", "roads", "handle", {}, ["body", "note"]),
    ("feedback without note", "dispatched", "roads", "feedback", {}, ["body", "note"]),
    ("extend without days", "signed", "roads", "extend", {"note": "等材料"}, ["body", "days"]),
    ("extend by 31 days", "signed", "roads", "extend", {"days": 31, "note": "等"}, ["body", "days"]),
    ("assign to an unknown unit", "assigned", "dispatcher", "assign", {"unit": 999999}, ["body", "unit"]),
    ("merge without into", "assigned", "dispatcher", "merge", {}, ["body", "into"]),
    ("merge into itself", "assigned", "dispatcher", "merge", {"into": "self"}, ["body", "into"]),
    ("people not a list", "signed", "roads", "dispatch", {"people": 5}, ["body", "people"]),
    ("version not a number", "assigned", "roads", "sign", {"version": "v1"}, ["body", "version"]),
    ("unknown action", "assigned", "roads", "approve_everything", {}, ["path", "action"]),
    ("NUL in a note", "assigned", "roads", "return", {"note": "不是\x00我们的"}, ["body", "note"]),
    ("NUL in a name sent", "signed", "roads", "dispatch", {"people": ["班\x00组"]}, ["body", "people"]),
]


@pytest.mark.parametrize(
    ("what", "state", "person", "action", "body", "loc"), BAD_ACTIONS, ids=[b[0] for b in BAD_ACTIONS]
)
def test_bad_action_input_is_422_naming_the_field_and_writes_nothing(
    api, what, state, person, action, body, loc
):
    case = prepared(api, state)
    if body.get("into") == "self":
        body = {**body, "into": case["id"]}
    before = rows()
    response = api.act(case["id"], action, person, **body)
    assert response.status_code == 422, response.content
    errors = response.json()["detail"]
    assert loc in [e["loc"] for e in errors], errors
    assert rows() == before
    after = api.get(f"/cases/{case['id']}").json()
    assert (after["state"], after["version"]) == (case["state"], case["version"])


def test_an_idempotency_key_too_long_to_store_is_422_and_writes_nothing(api):
    before = rows()
    response = api.post("/cases", MANHOLE, **{"Idempotency-Key": "k" * 129})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    assert rows() == before
    assert api.post("/cases", MANHOLE, **{"Idempotency-Key": "k" * 128}).status_code == 201


def test_a_nul_in_a_list_filter_is_422_not_a_server_error(api):
    for query in ("q=a%00b", "category=road%00manhole"):
        response = api.get(f"/cases?{query}")
        assert response.status_code == 422, query
        assert response.json()["detail"][0]["loc"] == ["query", query.split("=")[0]]


def test_malformed_json_is_refused_and_writes_nothing(api):
    before = rows()
    response = api.post("/cases", '{"channel": "hotline", "text": ')
    assert response.status_code in (400, 422)
    assert rows() == before


# --- reading: list, filters, pagination, detail, events ----------------------------------


def test_list_filters_by_state_unit_category_and_overdue(api, city, now):
    road_1 = api.create()
    road_2 = api.create()
    sewage = api.create(category="water.sewage", text="小区门口污水外溢")
    dispute = api.create(category="neighbor.dispute", text="楼上漏水到楼下，协商未果")
    api.act(road_2["id"], "sign", "roads")
    now.advance(minutes=2)  # the one-minute sign limit passes for the unsigned cases

    def ids(query: str, user: str = "dispatcher") -> set[int]:
        response = api.get(f"/cases{query}", user)
        assert response.status_code == 200, response.content
        return {item["id"] for item in response.json()["items"]}

    everything = {road_1["id"], road_2["id"], sewage["id"], dispute["id"]}
    assert ids("") == everything
    assert ids("?state=signed") == {road_2["id"]}
    assert ids("?state=assigned") == everything - {road_2["id"]}
    assert ids("?state=closed") == set()
    assert ids(f"?unit={city.units['roads'].pk}") == {road_1["id"], road_2["id"]}
    assert ids(f"?unit={city.units['sub-east'].pk}") == {dispute["id"]}
    assert ids("?category=water.sewage") == {sewage["id"]}
    assert ids("?overdue=true") == everything - {road_2["id"]}
    assert ids("?overdue=false") == {road_2["id"]}
    assert ids(f"?state=assigned&unit={city.units['roads'].pk}&overdue=true") == {road_1["id"]}
    assert api.get("/cases?state=lost", "dispatcher").status_code == 422
    item = next(i for i in api.get("/cases", "dispatcher").json()["items"] if i["id"] == road_1["id"])
    assert item["overdue"] is True and item["owner_unit"] == "住建局"
    assert item["town"] == "东城街道" and item["category"] == "road.manhole"


def test_list_is_paginated_newest_first_with_the_total_count(api, now):
    made = []
    for i in range(5):
        made.append(api.create(text=f"第{i}个井盖坏了")["id"])
        now.advance(seconds=10)
    first = api.get("/cases?page_size=2").json()
    second = api.get("/cases?page_size=2&page=2").json()
    third = api.get("/cases?page_size=2&page=3").json()
    assert first["count"] == second["count"] == third["count"] == 5
    pages = [[i["id"] for i in p["items"]] for p in (first, second, third)]
    assert pages == [made[4:2:-1], made[2:0:-1], made[0:1]]
    assert api.get("/cases?page=0").status_code == 422


def test_list_reads_one_page_from_the_database_not_every_case(api):
    for _ in range(3):
        api.create()
    with CaptureQueriesContext(connection) as queries:
        page = api.get("/cases?page_size=1&page=2").json()
    assert len(page["items"]) == 1 and page["count"] == 3
    listing = [q["sql"] for q in queries if 'FROM "cases_case"' in q["sql"] and "COUNT(" not in q["sql"]]
    assert listing, "the page is read from the cases table"
    # One page and one row more (whether a next page exists), never every case.
    assert all(sql.rstrip().endswith("LIMIT 2 OFFSET 1") for sql in listing), listing


def test_a_department_never_sees_another_departments_cases(api, city):
    road = api.create()
    sewage = api.create(category="water.sewage", text="污水井冒水")
    water_list = api.get("/cases", "water").json()
    assert [i["id"] for i in water_list["items"]] == [sewage["id"]]
    assert water_list["count"] == 1
    assert api.get(f"/cases?unit={city.units['roads'].pk}", "water").json()["count"] == 0
    assert api.get("/cases?category=road.manhole", "water").json()["count"] == 0
    # Out of scope looks exactly like no case at all.
    missing = api.get("/cases/999999", "water")
    for response in (
        api.get(f"/cases/{road['id']}", "water"),
        api.get(f"/cases/{road['id']}/events", "water"),
    ):
        assert response.status_code == 404
        assert response.json() == missing.json()
    before = rows()
    acted = api.act(road["id"], "sign", "water")
    assert acted.status_code == 404 and acted.json() == missing.json()
    assert rows() == before
    # Searching by its number finds it only for those who may see it.
    assert api.get(f"/cases?q={road['number']}", "water").json()["count"] == 0
    assert api.get(f"/cases?q={road['number']}", "dispatcher").json()["count"] == 1
    assert api.get(f"/cases?q={road['number']}", "roads").json()["count"] == 1
    # ... and the other town's sub-centre does not see it either.
    assert api.get(f"/cases/{road['id']}", "sub_west").status_code == 404
    assert api.get("/cases", "sub_west").json()["count"] == 0


def test_events_list_the_log_in_order(api):
    case = api.create()
    api.act(case["id"], "sign", "roads", note="收到")
    events = api.get(f"/cases/{case['id']}/events", "roads").json()
    assert [e["action"] for e in events] == ["accept", "assign", "sign"]
    sign = events[-1]
    assert sign["from_state"] == "assigned" and sign["to_state"] == "signed"
    assert sign["note"] == "收到" and sign["unit"] == "住建局" and sign["actor"] == "roads"
    assert events[1]["data"]["unit"] == "roads"


# --- actions -----------------------------------------------------------------------------


def test_every_action_through_the_api(api, city, now):
    case = api.create()
    cid = case["id"]
    version = case["version"]

    def step(action: str, user: str, state: str, **body) -> dict:
        nonlocal version
        response = api.act(cid, action, user, version=version, **body)
        assert response.status_code == 200, (action, response.content)
        got = response.json()
        assert got["state"] == state, action
        assert got["version"] == version + 1, action
        version = got["version"]
        # The answer is the case as GET returns it to the same person (after a return
        # the case has left the department, which no longer sees it).
        shown = api.get(f"/cases/{cid}", user)
        if action == "return":
            assert shown.status_code == 404
        else:
            assert got == shown.json(), action
        return got

    step("sign", "roads", "signed", note="已签收")
    got = step("extend", "roads", "signed", days=2, note="需采购井盖")
    assert got["extension_requested_days"] == 2
    before = {c["name"]: c for c in got["clocks"]}["resolve"]["due_at"]
    got = step("approve_extension", "dispatcher", "signed", note="同意")
    after = {c["name"]: c for c in got["clocks"]}["resolve"]["due_at"]
    assert got["extension_requested_days"] is None and after > before
    got = step("supervise", "dispatcher", "signed", note="请今日内到场")
    assert got["supervision_count"] == 1
    got = step("dispatch", "roads", "dispatched", people=["field_roads", "抢修二班"])
    assert "dispatch" in {c["name"] for c in got["clocks"]}
    step("handle", "field_roads", "handling", note="已到场设置围挡")
    step("feedback", "roads", "feedback", note="井盖已更换")
    got = step("rate", "operator", "rated", rating="unsatisfied", note="新井盖不平")
    assert got["rating"] == "unsatisfied"
    got = step("reopen", "operator", "assigned", note="群众反映仍不平整")
    assert got["reopen_count"] == 1 and got["owner_unit"]["code"] == "roads"
    step("return", "roads", "returned", note="属于水务管网井盖")
    got = step("assign", "dispatcher", "assigned", unit=city.units["water"].pk, note="改派水务")
    assert got["owner_unit"]["code"] == "water"
    step("sign", "water", "signed")
    step("dispatch", "water", "dispatched", people=["管网班"])
    step("feedback", "water", "feedback", note="已调平")
    step("rate", "operator", "rated", rating="satisfied")
    got = step("close", "operator", "closed")
    assert got["closed_at"] is not None
    actions_logged = [e["action"] for e in api.get(f"/cases/{cid}/events").json()]
    assert actions_logged == [
        "accept",
        "assign",
        "sign",
        "extend",
        "approve_extension",
        "supervise",
        "dispatch",
        "handle",
        "feedback",
        "followup_scheduled",  # a supervised case is always followed up (回访) ...
        "rate",
        "followup",  # ... and the operator's call that records the rating ends it
        "reopen",
        "return",
        "assign",
        "sign",
        "dispatch",
        "feedback",
        "followup_scheduled",
        "rate",
        "followup",
        "close",
    ]

    # merge: a duplicate closes into the original.
    dup = api.create(requester={"name": "李四", "phone": "13900001111"})
    original = api.create()
    merged = api.act(dup["id"], "merge", "dispatcher", into=original["id"], note="同一井盖")
    assert merged.status_code == 200
    assert merged.json()["state"] == "closed"
    assert merged.json()["merged_into"] == original["number"]


def test_an_extension_request_stays_with_the_unit_that_asked(api, city):
    """A request for more time is the holding unit's: when the case goes to another unit
    (or the work is reported done) the request lapses instead of passing to someone else."""
    case = api.create()
    api.act(case["id"], "sign", "roads")
    asked = api.act(case["id"], "extend", "roads", days=3, note="需采购井盖").json()
    assert asked["extension_requested_days"] == 3
    moved = api.act(case["id"], "assign", "dispatcher", unit=city.units["water"].pk).json()
    assert moved["owner_unit"]["code"] == "water"
    assert moved["extension_requested_days"] is None
    assert "approve_extension" not in moved["actions"]
    assert api.act(case["id"], "approve_extension", "dispatcher").status_code == 409
    # The new unit can ask for its own.
    api.act(case["id"], "sign", "water")
    own = api.act(case["id"], "extend", "water", days=2, note="管网需排查")
    assert own.status_code == 200 and own.json()["extension_requested_days"] == 2
    # Feedback closes the work: a request still waiting lapses with it.
    api.act(case["id"], "dispatch", "water", people=["管网班"])
    done = api.act(case["id"], "feedback", "water", note="已处理").json()
    assert done["extension_requested_days"] is None
    last = api.get(f"/cases/{case['id']}/events", "dispatcher").json()[-1]
    assert last["action"] == "feedback" and last["data"]["extension_lapsed"] == 2


def test_a_second_sign_is_409_with_the_current_state(api):
    case = api.create()
    assert api.act(case["id"], "sign", "roads").status_code == 200
    before = rows()
    again = api.act(case["id"], "sign", "roads")
    assert again.status_code == 409
    body = again.json()
    assert body["state"] == "signed" and body["version"] == case["version"] + 1
    assert body["detail"]
    assert rows() == before


def test_a_stale_version_is_409_and_changes_nothing(api):
    case = api.create()
    api.act(case["id"], "supervise", "dispatcher", note="抓紧")  # someone else acts first
    before = rows()
    stale = api.act(case["id"], "sign", "roads", version=case["version"])
    assert stale.status_code == 409
    assert stale.json()["state"] == "assigned"
    assert stale.json()["version"] == case["version"] + 1
    assert rows() == before
    fresh = api.act(case["id"], "sign", "roads", version=stale.json()["version"])
    assert fresh.status_code == 200


def test_seeing_a_case_but_not_being_allowed_is_403(api):
    case = api.create()
    before = rows()
    for user, action, body in (
        ("operator", "sign", {}),
        ("leader", "supervise", {"note": "x"}),
        ("roads", "assign", {"unit": 1}),
        ("field_roads", "sign", {}),
    ):
        response = api.act(case["id"], action, user, **body)
        expected = 404 if user == "field_roads" else 403  # not dispatched: not on its phone
        assert response.status_code == expected, (user, action)
        assert response.json()["detail"]
    assert rows() == before


# --- the requester's phone ---------------------------------------------------------------


def test_phone_is_masked_for_leader_and_field_worker_and_full_and_logged_for_callers(api, city):
    case = api.create()
    api.act(case["id"], "sign", "roads")
    api.act(case["id"], "dispatch", "roads", people=["field_roads"])
    # The record is append-only (on PostgreSQL a trigger refuses DELETE): count from here.
    last = PersonalDataAccess.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    seen = PersonalDataAccess.objects.filter(pk__gt=last)

    for user in ("leader", "field_roads"):
        body = api.get(f"/cases/{case['id']}", user).json()
        assert body["requester"]["phone"] == "138****5678"
        assert body["requester"]["phone_masked"] is True
        assert "13812345678" not in json.dumps(body)
    assert seen.count() == 0

    for _ in range(2):
        body = api.get(f"/cases/{case['id']}", "operator").json()
        assert body["requester"]["phone"] == "13812345678"
        assert body["requester"]["phone_masked"] is False
    views = seen.filter(user=city.users["operator"], case_id=case["id"])
    assert views.count() == 2, "every unmasked view is logged"
    assert set(views.values_list("via", flat=True)) == {"api"}

    # The holding department calls back too, and so do the city's desks.
    for user in ("roads", "dispatcher", "admin"):
        assert api.get(f"/cases/{case['id']}", user).json()["requester"]["phone_masked"] is False
    assert seen.count() == 5
    # The town's sub-centre sees the department's case in its town, but does not handle
    # it and has no reason to call: masked. Its own territorial cases it sees in full.
    assert api.get(f"/cases/{case['id']}", "sub_east").json()["requester"]["phone_masked"] is True
    own = api.create(category="neighbor.dispute", text="邻居装修噪音", user="operator")
    assert own["owner_unit"]["code"] == "sub-east"
    assert api.get(f"/cases/{own['id']}", "sub_east").json()["requester"]["phone_masked"] is False
    assert seen.filter(user=city.users["sub_east"]).count() == 1


def test_lists_always_mask_the_phone_and_log_nothing(api):
    api.create()
    before = PersonalDataAccess.objects.count()  # append-only: count what is added
    for user in ("operator", "dispatcher", "admin", "roads", "leader"):
        page = api.get("/cases", user).json()
        assert page["items"], user
        assert {i["requester_phone"] for i in page["items"]} == {"138****5678"}
        assert "13812345678" not in json.dumps(page)
    assert PersonalDataAccess.objects.count() == before


# --- the contract is published -----------------------------------------------------------


def test_openapi_is_served_and_lists_the_contract_paths(api, city):
    staff = Client()  # the documentation is for signed-in staff (test_hardening.py)
    staff.force_login(city.users["operator"])
    docs = staff.get("/api/v1/docs")
    assert docs.status_code == 200 and b"openapi.json" in docs.content
    schema = staff.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"post", "get"} <= set(paths["/api/v1/cases"])
    assert "get" in paths["/api/v1/cases/{case_id}"]
    assert "get" in paths["/api/v1/cases/{case_id}/events"]
    assert "post" in paths["/api/v1/cases/{case_id}/actions/{action}"]
    listed = {p["name"] for p in paths["/api/v1/cases"]["get"]["parameters"]}
    assert {"state", "unit", "category", "overdue", "page"} <= listed
    schemes = schema.json()["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())


def test_an_instant_with_an_offset_postgresql_cannot_hold_is_taken_in_utc(api, city, settings, now):
    """ISO 8601 allows offsets up to ±23:59; PostgreSQL keeps ±15:59. Every instant an API
    takes is held in UTC, and one with no UTC form is a 422, never a server error."""
    from minsheng.calls.signing import signed_headers

    settings.MINSHENG_CTI_SECRET = "s"
    at = now().astimezone(dt.timezone(-dt.timedelta(hours=19, minutes=37))).isoformat()
    body = json.dumps(
        {"event_id": "e-off", "event": "ring", "call_id": "c-off", "at": at, "caller": "13800000000"}
    )
    headers = signed_headers("s", body.encode())
    headers.pop("Content-Type")
    taken = Client().post("/api/v1/calls/events", body, content_type="application/json", headers=headers)
    assert taken.status_code == 200, taken.content
    edge = json.dumps(
        {"event_id": "e-edge", "event": "ring", "call_id": "c-edge", "at": "0001-01-01T00:00:00+10:00"}
    )
    headers = signed_headers("s", edge.encode())
    headers.pop("Content-Type")
    refused = Client().post("/api/v1/calls/events", edge, content_type="application/json", headers=headers)
    assert refused.status_code == 422 and "at" in json.dumps(refused.json())
