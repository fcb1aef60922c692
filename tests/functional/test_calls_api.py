"""The CTI webhook over HTTP (``POST /api/v1/calls/events``): signed with the shared secret,
fresh, replay-safe; the demo simulator played against a live server over real HTTP; and the
centre's pages for the calls owed: the callback queue (漏接回拨) and the follow-up queue (回访)."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from minsheng.calls.models import Call, CallbackState, CallbackTask, CallerNumberAccess, CallEvent, CallState
from minsheng.calls.signing import signed_headers
from minsheng.cases import actions as case_actions
from minsheng.cases.models import Case
from minsheng.cases.states import State
from minsheng.core import clock
from minsheng.followup.models import FollowUp, MatterRule, RuleSet
from tests.common.factories import intake

SECRET = "cti-test-secret"
URL = "/api/v1/calls/events"


@pytest.fixture
def cti(settings):
    settings.MINSHENG_CTI_SECRET = SECRET


def body(kind="ring", call_id="c1", **kw) -> bytes:
    data = {
        "event_id": kw.pop("event_id", f"{call_id}-{kind}"),
        "event": kind,
        "call_id": call_id,
        "at": clock.now().isoformat(),
        "caller": kw.pop("caller", "13812345678"),
        "seat": "8001",
        **kw,
    }
    return json.dumps(data).encode()


def post(client: Client, raw: bytes, *, secret: str = SECRET, headers: dict | None = None, **ts):
    h = signed_headers(secret, raw, **ts) if headers is None else headers
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in h.items() if k != "Content-Type"}
    return client.post(URL, raw, content_type="application/json", **extra)


@pytest.mark.django_db
def test_a_signed_event_is_taken(client, city, now, cti):
    r = post(client, body())
    assert r.status_code == 200, r.content
    assert r.json() == {"duplicate": False, "call_id": "c1", "state": "ringing", "ignored": ""}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "how",
    ["wrong secret", "body changed", "stale", "from the future", "no signature", "no timestamp"],
)
def test_a_bad_signature_is_refused_with_401_and_nothing_is_written(client, city, now, cti, how):
    raw = body()
    headers = signed_headers(SECRET, raw)
    if how == "wrong secret":
        headers = signed_headers("another-secret", raw)
    elif how == "body changed":
        raw = body(caller="13900000000")
    elif how == "stale":
        headers = signed_headers(SECRET, raw, timestamp=clock.timestamp() - 301)
    elif how == "from the future":
        headers = signed_headers(SECRET, raw, timestamp=clock.timestamp() + 301)
    elif how == "no signature":
        headers.pop("X-Minsheng-Signature")
    else:
        headers.pop("X-Minsheng-Timestamp")
    r = post(client, raw, headers=headers)
    assert r.status_code == 401, (how, r.content)
    assert not Call.objects.exists() and not CallEvent.objects.exists()


@pytest.mark.django_db
def test_without_a_shared_secret_every_event_is_refused(client, city, now, settings):
    settings.MINSHENG_CTI_SECRET = ""
    r = post(client, body(), secret="anything")
    assert r.status_code == 503
    assert not Call.objects.exists()


@pytest.mark.django_db
def test_a_replayed_delivery_is_answered_as_a_duplicate_and_changes_nothing(client, city, now, cti):
    post(client, body("ring"))
    first = post(client, body("hangup"))
    assert first.json()["state"] == "missed"
    now.advance(seconds=30)
    again = post(client, body("hangup"))  # the same event id, signed afresh
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert CallEvent.objects.count() == 2 and CallbackTask.objects.get().missed_count == 1


@pytest.mark.django_db
def test_a_malformed_event_is_422_naming_the_field(client, city, now, cti):
    r = post(client, body(recording_url="ftp://x/y.wav"))
    assert r.status_code == 422
    assert "recording_url" in r.content.decode()
    r = post(client, body(kind="transfer"))
    assert r.status_code == 422 and "event" in r.content.decode()
    assert not Call.objects.exists()


# --- the simulator against a live server ---------------------------------------------------


def test_the_simulator_plays_calls_against_a_live_server(
    transactional_db, city, now, live_server, cti, capsys
):
    intake(city, phone="13805730001")  # the first demo caller rang before
    call_command(
        "simulate-calls",
        url=f"{live_server.url}{URL}",
        answered=2,
        missed=1,
        dropped=1,
        pace=0,
        caller=["13805730001", "13905730002", "13705730003", "13605730004"],
    )
    out = capsys.readouterr().out
    assert "4 calls played" in out
    calls = {c.caller: c for c in Call.objects.all()}
    assert calls["13805730001"].state == CallState.ENDED
    assert calls["13805730001"].recording_url.endswith(f"{calls['13805730001'].call_id}.wav")
    assert calls["13805730001"].agent == "operator" and calls["13805730001"].seat == "8001"
    assert calls["13705730003"].state == CallState.MISSED and not calls["13705730003"].recording_url
    assert calls["13605730004"].state == CallState.DROPPED
    owed = set(CallbackTask.objects.filter(state=CallbackState.OPEN).values_list("phone", flat=True))
    assert owed == {"13705730003", "13605730004"}
    assert CallEvent.objects.count() == 3 + 3 + 2 + 3


def test_an_event_signed_with_another_secret_is_refused_over_http(
    transactional_db, city, now, live_server, cti
):
    from minsheng.calls import simulator

    sent = simulator.send(f"{live_server.url}{URL}", "not-the-shared-secret", json.loads(body()))
    assert sent.status == 401
    assert not Call.objects.exists()


# --- the callback queue page ---------------------------------------------------------------


def signed_in(city, name: str) -> Client:
    c = Client()
    c.force_login(city.users[name])
    return c


def missed_call(client: Client) -> CallbackTask:
    post(client, body("ring"))
    post(client, body("hangup"))
    return CallbackTask.objects.get()


@pytest.mark.django_db
def test_the_callback_queue_shows_the_clock_masked_and_the_call_back_page_the_number(city, now, cti):
    task = missed_call(Client())
    op = signed_in(city, "operator")
    page = op.get(reverse("calls:callbacks")).content.decode()
    assert f'data-callback="{task.pk}"' in page and "138****5678" in page and "13812345678" not in page
    assert reverse("calls:callback", args=[task.pk]) in page
    detail = op.get(reverse("calls:callback", args=[task.pk])).content.decode()
    assert "13812345678" in detail
    assert CallerNumberAccess.objects.filter(user=city.users["operator"], via="callback").count() == 1
    r = op.post(reverse("calls:callback_outcome", args=[task.pk]), {"outcome": "done", "note": "已回电"})
    assert r.status_code == 302
    task.refresh_from_db()
    assert task.state == CallbackState.DONE
    assert f'data-callback="{task.pk}"' not in op.get(reverse("calls:callbacks")).content.decode()


@pytest.mark.django_db
def test_a_callback_not_reached_is_tried_again_later_and_refused_before(city, now, cti, settings):
    settings.MINSHENG_CALLBACK_ATTEMPTS = 3
    task = missed_call(Client())
    op = signed_in(city, "operator")
    url = reverse("calls:callback_outcome", args=[task.pk])
    assert op.post(url, {"outcome": "unreachable"}).status_code == 302
    r = op.post(url, {"outcome": "unreachable", "note": "再试"})
    assert r.status_code == 409 and "再试" in r.content.decode()
    assert op.post(url, {"outcome": "maybe"}).status_code == 422
    task.refresh_from_db()
    assert task.attempts == 1 and task.state == CallbackState.OPEN


@pytest.mark.django_db
def test_only_the_centre_opens_the_callback_queue(city, now):
    assert signed_in(city, "roads").get(reverse("calls:callbacks")).status_code == 403
    nav = signed_in(city, "operator").get(reverse("followup:queue")).content.decode()
    assert reverse("calls:callbacks") in nav and reverse("followup:queue") in nav


# --- the follow-up queue page --------------------------------------------------------------


def fed_back(city) -> Case:
    case = intake(city)
    roads = city.actor("roads")
    case_actions.sign_case(roads, case.pk)
    case_actions.dispatch_case(roads, case.pk, people=["抢修一班"])
    return case_actions.feedback_case(roads, case.pk, note="井盖已更换，恢复通行")


@pytest.mark.django_db
def test_the_follow_up_queue_shows_the_script_and_an_unsatisfied_answer_reopens(city, now):
    ruleset = RuleSet.current()
    ruleset.delay_hours = 0
    ruleset.save()
    MatterRule.objects.create(rules=ruleset, matter=city.matters["road.manhole"], share=100)
    case = fed_back(city)
    f = FollowUp.objects.get(case=case)
    op = signed_in(city, "operator")
    page = op.get(reverse("followup:queue")).content.decode()
    assert case.number in page and "井盖已更换，恢复通行" in page
    assert 'name="outcome" value="unsatisfied"' in page and 'value="no_answer"' in page
    url = reverse("followup:answer", args=[f.pk])
    r = op.post(url, {"outcome": "unsatisfied", "note": ""})
    assert r.status_code == 422
    case.refresh_from_db()
    assert case.state == State.FEEDBACK
    r = op.post(url, {"outcome": "unsatisfied", "note": "井盖还是松的"})
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.state == State.ASSIGNED and case.owner_unit == city.units["roads"]
    after = op.get(reverse("followup:queue")).content.decode()
    assert f'id="followup-{f.pk}"' not in after and "住建局" in after  # the message names the unit
    assert signed_in(city, "roads").get(reverse("followup:queue")).status_code == 403
