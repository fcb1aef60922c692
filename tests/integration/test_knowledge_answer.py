"""Answered on the spot (直接答复 / 即时办结): a caller's question answered from a knowledge
article becomes a case closed at once, with the article and its version on its timeline, in
one transaction through the case kernel; the answer goes by SMS on request; the requester
can still rate it; the expiry reminders and an expired article's absence from suggestions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from minsheng.accounts.actors import Actor
from minsheng.cases.errors import Conflict, Forbidden, Invalid
from minsheng.cases.models import Case, CaseClock, CaseEvent
from minsheng.cases.states import ClockName, Rating, State
from minsheng.knowledge import actions, queries
from minsheng.knowledge.actions import ArticleIn, answer_on_the_spot, rate_answer
from minsheng.knowledge.models import Article, ArticleState
from minsheng.notify import delivery
from minsheng.notify.models import OutboxMessage
from minsheng.worker.loop import run_pass

pytestmark = pytest.mark.django_db

QUESTION = "我的身份证丢了要怎么补"
PHONE = "13857301234"


@pytest.fixture(autouse=True)
def _fresh_engine():
    queries.forget()
    yield
    queries.forget()


def actor(username: str) -> Actor:
    return Actor.of(get_user_model().objects.get(username=username))


def timeline(case: Case) -> list[str]:
    return list(CaseEvent.objects.filter(case=case).order_by("pk").values_list("action", flat=True))


def test_an_answer_on_the_spot_is_a_case_closed_at_once_with_the_article_and_its_version(demo_city, now):
    k008 = Article.objects.get(code="K008")
    case = answer_on_the_spot(
        actor("operator"), text=QUESTION, article_code="K008", phone=PHONE, name="陈女士"
    )
    case = Case.objects.get(pk=case.pk)
    assert case.state == State.CLOSED and case.closed_at == now()
    assert case.requester_phone == PHONE and case.requester_name == "陈女士"
    assert case.owner_unit == actor("operator").unit and case.matter == k008.matter
    assert timeline(case) == ["accept", "answered_on_the_spot", "close"]
    answered = CaseEvent.objects.get(case=case, action="answered_on_the_spot")
    assert answered.data == {"article": "K008", "version": k008.live.number, "title": k008.live.title}
    assert answered.actor_label == actor("operator").label
    # the clocks are decided at once (met in time), none left running
    clocks = CaseClock.objects.filter(case=case)
    assert {c.name for c in clocks} == {ClockName.FEEDBACK, ClockName.RESOLVE}
    assert all(c.met_at == now() and c.stopped_at is None for c in clocks)
    # no SMS asked for: the requester gets the number and the follow link, not the answer
    [message] = OutboxMessage.objects.filter(case=case)
    assert message.kind == "case_answered" and message.phone == PHONE


def test_the_answer_goes_by_sms_and_the_timeline_says_so(demo_city, now, settings):
    settings.MINSHENG_PUBLIC_URL = "https://12345.example.gov.cn/"
    k008 = Article.objects.get(code="K008")
    case = answer_on_the_spot(
        actor("operator"), text=QUESTION, article_code="K008", phone=PHONE, send_sms=True
    )
    assert timeline(case) == ["accept", "answered_on_the_spot", "close", "answer_sms"]
    sms = CaseEvent.objects.get(case=case, action="answer_sms")
    assert sms.data["article"] == "K008" and sms.data["phone"] == "138****1234"
    [message] = OutboxMessage.objects.filter(case=case)
    assert message.kind == "knowledge_answer" and message.phone == PHONE
    text = delivery.render(message).body
    assert k008.live.answer in text and case.number in text and case.public_token in text

    # sent again on request, recorded again
    actions.send_answer_by_sms(actor("operator"), case.pk)
    assert timeline(case)[-1] == "answer_sms" and OutboxMessage.objects.filter(case=case).count() == 2


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"text": "  "}, "text"),
        ({"article_code": "K999"}, "article_code"),
        ({"phone": "12"}, "phone"),
        ({"send_sms": True, "phone": ""}, "phone"),
        ({"channel": "carrier-pigeon"}, "channel"),
        ({"name": "名" * 65}, "name"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(demo_city, now, over, field):
    body = {"text": QUESTION, "article_code": "K008", "phone": PHONE, **over}
    with pytest.raises(Invalid) as err:
        answer_on_the_spot(actor("operator"), **body)
    assert err.value.field == field
    assert not Case.objects.exists() and not CaseEvent.objects.exists() and not OutboxMessage.objects.exists()


def test_an_expired_or_unpublished_article_cannot_answer_and_a_leader_may_not(demo_city, now):
    k008 = Article.objects.get(code="K008")
    actions.expire_article(actor("dispatcher"), k008.pk)
    with pytest.raises(Invalid) as err:
        answer_on_the_spot(actor("operator"), text=QUESTION, article_code="K008")
    assert err.value.field == "article_code"
    with pytest.raises(Forbidden):
        answer_on_the_spot(actor("leader"), text=QUESTION, article_code="K001")
    assert not Case.objects.exists()


def test_the_case_records_the_version_that_was_served(demo_city, now):
    k001 = Article.objects.get(code="K001")
    first = answer_on_the_spot(actor("operator"), text="孩子刚出生医保怎么办", article_code="K001")
    actions.update_article(
        actor("dispatcher"),
        k001.pk,
        ArticleIn(title=k001.title, answer=k001.answer + "（新）", valid_until=k001.valid_until),
    )
    # a draft of v2 does not answer callers: the served version is still the one published
    second = answer_on_the_spot(actor("operator"), text="孩子刚出生医保怎么办", article_code="K001")
    actions.submit_article(actor("dispatcher"), k001.pk)
    actions.publish_article(actor("dispatcher"), k001.pk)
    third = answer_on_the_spot(actor("operator"), text="孩子刚出生医保怎么办", article_code="K001")
    versions = [
        CaseEvent.objects.get(case=c, action="answered_on_the_spot").data["version"]
        for c in (first, second, third)
    ]
    assert versions == [1, 1, 2]


def test_the_requester_rates_an_answer_on_the_follow_page(demo_city, now):
    case = answer_on_the_spot(actor("operator"), text=QUESTION, article_code="K008", phone=PHONE)
    page = Client().get(reverse("web:track_token", args=[case.public_token]))
    assert page.status_code == 200 and 'class="form rating-form"' in page.content.decode()
    assert "当场答复" in page.content.decode()  # the timeline in plain Chinese
    done = Client().post(
        reverse("web:track_token", args=[case.public_token]), {"rating": "satisfied", "version": case.version}
    )
    assert done.status_code == 302
    case.refresh_from_db()
    assert case.rating == Rating.SATISFIED and case.state == State.CLOSED
    assert CaseEvent.objects.get(case=case, action="rate").data == {"rating": "satisfied"}
    with pytest.raises(Conflict):  # once only
        rate_answer(case.pk, rating="unsatisfied", note="不对")
    again = Client().get(reverse("web:track_token", args=[case.public_token]))
    assert 'class="form rating-form"' not in again.content.decode()


def test_unsatisfied_with_an_answer_needs_a_reason_and_reopens_it_to_the_answering_unit(demo_city, now):
    case = answer_on_the_spot(actor("operator"), text=QUESTION, article_code="K008", phone=PHONE)
    with pytest.raises(Invalid) as err:
        rate_answer(case.pk, rating="unsatisfied")
    assert err.value.field == "note"
    assert Case.objects.get(pk=case.pk).rating == ""  # nothing written
    rate_answer(case.pk, rating="unsatisfied", note="派出所说要先挂失，答复里没说")
    case.refresh_from_db()
    assert case.rating == "" and case.state == State.ASSIGNED and case.reopen_count == 1
    assert case.owner_unit == actor("operator").unit
    assert timeline(case)[-2:] == ["rate", "reopen"]


def test_a_case_that_was_not_answered_on_the_spot_is_not_rated_as_one(city, now):
    from tests.common.factories import intake

    case = intake(city, phone=PHONE, text="井盖破了")
    with pytest.raises(Conflict):
        rate_answer(case.pk, rating="satisfied")
    with pytest.raises(Conflict):
        actions.send_answer_by_sms(city.actor("operator"), case.pk)


# --- expiry (item 5) ---------------------------------------------------------------------------


def test_the_owner_unit_is_reminded_n_days_before_and_an_expired_article_is_never_suggested(
    demo_city, now, settings
):
    settings.MINSHENG_KNOWLEDGE_REMIND_DAYS = 14
    day = timezone.localtime(now()).date()
    k008 = Article.objects.get(code="K008")
    Article.objects.exclude(pk=k008.pk).update(valid_until=day + dt.timedelta(days=400), reminded_for=None)
    Article.objects.filter(pk=k008.pk).update(valid_until=day + dt.timedelta(days=20), reminded_for=None)
    run_pass(deliver=False)
    assert not OutboxMessage.objects.filter(kind="article_expiring").exists()  # 20 days: not yet

    now.advance(days=6)  # 14 days before: the reminder, to the owner unit, once
    run_pass(deliver=False)
    run_pass(deliver=False)
    [reminder] = OutboxMessage.objects.filter(kind="article_expiring")
    assert reminder.unit == k008.owner_unit and reminder.context["days"] == 14
    assert reminder.context["code"] == "K008"
    assert queries.suggest_answers(QUESTION)["articles"][0]["code"] == "K008"

    now.advance(days=15)  # the day after valid_until: expired by the worker, never suggested
    run_pass(deliver=False)
    assert Article.objects.get(pk=k008.pk).state == ArticleState.EXPIRED
    suggested = queries.suggest_answers(QUESTION)
    assert "K008" not in [a["code"] for a in suggested["articles"]]
    with pytest.raises(Invalid):
        answer_on_the_spot(actor("operator"), text=QUESTION, article_code="K008")
