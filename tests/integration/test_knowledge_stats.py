"""What the knowledge base adds to the statistics: the direct-answer rate (直接办结率 =
requests answered on the spot / all requests accepted), live and rolled up, with its
audit rows; and each article's use, rating and last review on its page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from minsheng.accounts.actors import Actor
from minsheng.knowledge import queries
from minsheng.knowledge.actions import answer_on_the_spot, rate_answer
from minsheng.knowledge.models import Article

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_engine():
    queries.forget()
    yield
    queries.forget()


def actor(username: str) -> Actor:
    return Actor.of(get_user_model().objects.get(username=username))


def test_the_direct_answer_rate_counts_answers_on_the_spot_over_all_intake(demo_city, now):
    from minsheng.stats.measures import Filters, audit_items, local_date
    from minsheng.stats.report import build_report
    from minsheng.stats.rollup import refresh_rollups

    op = actor("operator")
    answer_on_the_spot(op, text="身份证丢了怎么补", article_code="K008")
    answer_on_the_spot(op, text="孩子刚出生医保怎么办", article_code="K001")
    from minsheng.cases.actions import Intake, accept_case

    for text in ("新华路井盖丢了", "小区门口路灯不亮"):
        accept_case(op, Intake(channel="hotline", text=text))
    day = local_date(now())
    filters = Filters(start=day, end=day)
    report = build_report(actor("leader"), filters, now())
    figure = report.total.figure("direct_answer")
    assert (figure.numerator, figure.denominator) == (2, 4) and figure.value == 0.5
    # the city's figure: no unit's row carries it
    assert all(r.figure("direct_answer").denominator == 0 for r in report.rows)
    missed = audit_items(actor("leader"), filters, "direct_answer", "missed", now())
    assert sorted(e.case.text for e in missed) == ["小区门口路灯不亮", "新华路井盖丢了"]
    # the rollup agrees with the live count
    refresh_rollups(now() + dt.timedelta(days=1))
    now.advance(days=1)
    again = build_report(actor("leader"), filters, now()).total.figure("direct_answer")
    assert (again.numerator, again.denominator) == (2, 4)


def test_an_articles_page_shows_how_often_it_answered_its_rating_and_last_review(demo_city, now):
    op = actor("operator")
    first = answer_on_the_spot(op, text="身份证丢了怎么补", article_code="K008", phone="13857301234")
    answer_on_the_spot(op, text="身份证掉了", article_code="K008", phone="13857305678")
    answer_on_the_spot(op, text="孩子刚出生医保怎么办", article_code="K001")
    rate_answer(first.pk, rating="satisfied")
    k008 = Article.objects.get(code="K008")
    use = queries.usage(k008)
    assert use.answered == 2 and use.rated == 1 and use.satisfied == 1
    assert use.satisfaction == 1.0 and use.last_reviewed == k008.live.at

    c = Client()
    c.force_login(get_user_model().objects.get(username="operator"))
    page = c.get(reverse("knowledge:article", args=[k008.pk])).content.decode()
    assert 'id="article-usage"' in page
    assert 'data-answered="2"' in page and 'data-rated="1"' in page and 'data-satisfaction="100"' in page
