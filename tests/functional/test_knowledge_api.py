"""``POST /api/v1/knowledge/answer`` (answered on the spot) and ``/suggest`` over HTTP, with an
API token: 201 with the case, 422 naming the field with nothing written, 403 for a role
that does not answer callers."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from minsheng.cases.models import Case, CaseEvent
from minsheng.cases.states import State
from minsheng.knowledge import queries
from minsheng.notify.models import OutboxMessage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_engine():
    queries.forget()
    yield
    queries.forget()


def post(path: str, body: dict, user: str = "operator"):
    out = StringIO()
    call_command("createtoken", user, stdout=out)
    token = out.getvalue().strip().splitlines()[-1]
    return Client().post(
        f"/api/v1/knowledge{path}",
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )


def test_answer_records_a_closed_case_and_sends_the_sms(demo_city, now):
    suggested = post("/suggest", {"text": "我的身份证丢了要怎么补"}).json()
    assert suggested["answerable"] is True and suggested["articles"][0]["code"] == "K008"
    response = post(
        "/answer",
        {
            "text": "我的身份证丢了要怎么补",
            "article_code": suggested["articles"][0]["code"],
            "phone": "13857301234",
            "name": "陈女士",
            "channel": "hotline",
            "send_sms": True,
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    case = Case.objects.get(pk=body["id"])
    assert body == {
        "id": case.pk,
        "number": case.number,
        "state": "closed",
        "article": "K008",
        "version": 1,
        "sms": True,
    }
    assert case.state == State.CLOSED
    assert CaseEvent.objects.filter(case=case, action="answer_sms").exists()
    assert OutboxMessage.objects.get(case=case).kind == "knowledge_answer"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": "身份证丢了", "article_code": "NOPE"}, "article_code"),
        ({"text": "身份证丢了", "article_code": "K008", "send_sms": True}, "phone"),
        ({"text": "", "article_code": "K008"}, "text"),
        ({"article_code": "K008"}, "text"),
    ],
)
def test_bad_input_is_422_naming_the_field_and_nothing_is_written(demo_city, now, body, field):
    response = post("/answer", body)
    assert response.status_code == 422
    assert field in [e["loc"][-1] for e in response.json()["detail"]]
    assert not Case.objects.exists()


def test_a_leader_may_not_answer(demo_city, now):
    response = post("/answer", {"text": "身份证丢了", "article_code": "K008"}, user="leader")
    assert response.status_code == 403 and not Case.objects.exists()
