"""``Idempotency-Key`` on intake: a retry answers the case as the caller may see it now
(never what has since left the caller's scope), and the same key with another body is
refused with 422 instead of being silently taken for the first request."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from minsheng.accounts.actions import create_token
from minsheng.cases.models import Case, CaseEvent, IntakeKey
from tests.common.factories import City

pytestmark = pytest.mark.django_db

EAST_A = dict(zip(("lat", "lng"), City.POINTS["east.a"], strict=True))
MANHOLE = {
    "channel": "hotline",
    "text": "人行道上井盖破了一角",
    **EAST_A,
    "category": "road.manhole",
    "requester": {"name": "沈师傅", "phone": "13812345678"},
}


class Api:
    def __init__(self, city):
        self.tokens = {name: create_token(user) for name, user in city.users.items()}
        self.http = Client()

    def post(self, path: str, body, user: str, **headers: str):
        auth = {"Authorization": f"Bearer {self.tokens[user]}"}
        return self.http.post(
            f"/api/v1{path}", json.dumps(body), content_type="application/json", headers={**auth, **headers}
        )

    def get(self, path: str, user: str):
        return self.http.get(f"/api/v1{path}", headers={"Authorization": f"Bearer {self.tokens[user]}"})

    def act(self, case_id: int, action: str, user: str, **body):
        response = self.post(f"/cases/{case_id}/actions/{action}", body, user)
        assert response.status_code == 200, (action, response.content)
        return response.json()


@pytest.fixture
def api(city, now):
    return Api(city)


def counts() -> tuple[int, int, int]:
    return Case.objects.count(), CaseEvent.objects.count(), IntakeKey.objects.count()


def test_a_replay_after_the_case_left_the_callers_scope_shows_nothing_of_it(api, city):
    first = api.post("/cases", MANHOLE, "roads", **{"Idempotency-Key": "roads-1"})
    assert first.status_code == 201
    case = first.json()
    assert case["owner_unit"]["code"] == "roads"
    # The case goes to the water company, which works it and writes its feedback.
    api.act(case["id"], "return", "roads", note="属于水务管网井盖")
    api.act(case["id"], "assign", "dispatcher", unit=city.units["water"].pk)
    api.act(case["id"], "sign", "water")
    api.act(case["id"], "dispatch", "water", people=["field_roads", "管网班"])
    api.act(case["id"], "feedback", "water", note="已更换井盖，现场负责人 13900002222，住3幢201")
    assert api.get(f"/cases/{case['id']}", "roads").status_code == 404
    before = counts()

    retry = api.post("/cases", MANHOLE, "roads", **{"Idempotency-Key": "roads-1"})
    assert retry.status_code == 409, retry.content
    body = retry.content.decode()
    assert retry.json()["detail"]
    for secret in ("13900002222", "3幢201", "管网班", case["number"], "水务", "13812345678"):
        assert secret not in body
    assert counts() == before


def test_a_replay_within_scope_is_the_case_as_get_shows_it_now(api, city):
    first = api.post("/cases", MANHOLE, "operator", **{"Idempotency-Key": "op-1"})
    case = first.json()
    api.act(case["id"], "sign", "roads")
    before = counts()
    retry = api.post("/cases", MANHOLE, "operator", **{"Idempotency-Key": "op-1"})
    assert retry.status_code == 201
    assert retry.json() == api.get(f"/cases/{case['id']}", "operator").json()
    assert retry.json()["state"] == "signed"
    assert counts() == before


@pytest.mark.parametrize(
    "change",
    [
        {"text": "人行道上井盖全碎了"},
        {"requester": {"name": "沈师傅", "phone": "13900001111"}},
        {"urgent": True},
        {"category": "water.sewage"},
    ],
    ids=["text", "phone", "urgent", "category"],
)
def test_the_same_key_with_another_body_is_422_and_writes_nothing(api, change):
    first = api.post("/cases", MANHOLE, "operator", **{"Idempotency-Key": "op-2"})
    assert first.status_code == 201
    before = counts()
    other = api.post("/cases", {**MANHOLE, **change}, "operator", **{"Idempotency-Key": "op-2"})
    assert other.status_code == 422, other.content
    errors = other.json()["detail"]
    assert errors[0]["loc"] == ["header", "Idempotency-Key"]
    assert "different" in errors[0]["msg"]
    assert counts() == before
    assert Case.objects.get().text == MANHOLE["text"]


def test_the_same_request_written_differently_is_the_same_request(api):
    """Key order and defaults spelled out do not make another request."""
    first = api.post("/cases", MANHOLE, "operator", **{"Idempotency-Key": "op-3"})
    spelled_out = {"urgent": False, "crs": "wgs84", "address": "", **dict(reversed(list(MANHOLE.items())))}
    retry = api.post("/cases", spelled_out, "operator", **{"Idempotency-Key": "op-3"})
    assert retry.status_code == 201 and retry.json()["id"] == first.json()["id"]
    assert Case.objects.count() == 1
