"""The case search reads the index of bigrams (cases.search, migration 0012) on SQLite and
PostgreSQL, and lists exactly the cases a plain substring match lists."""

from __future__ import annotations

import random

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from minsheng.cases.actions import Intake, accept_cases
from minsheng.cases.filters import CaseFilter
from minsheng.cases.models import Case
from minsheng.cases.search import grams
from minsheng.classify.model import load_corpus
from tests.common.factories import intake

pytestmark = pytest.mark.django_db

INDEX_SQL = {"sqlite": "MATCH", "postgresql": "@@"}


def searched(q: str, indexed: bool | None = True) -> set[int]:
    filters = CaseFilter({"q": q}, queryset=Case.objects.all())
    assert filters.is_valid()
    with CaptureQueriesContext(connection) as ctx:
        found = set(filters.qs.values_list("pk", flat=True))
    sql = ctx.captured_queries[-1]["sql"]
    if indexed is not None:
        assert (INDEX_SQL[connection.vendor] in sql) == indexed, (q, sql)
    return found


def plainly(q: str) -> set[int]:
    q = q.strip()
    match = Q(number__icontains=q) | Q(text__icontains=q) | Q(address__icontains=q)
    return set(Case.objects.filter(match).values_list("pk", flat=True))


@pytest.fixture
def corpus_cases(city, now):
    rng = random.Random(12345)
    texts = [row["text"] for row in load_corpus("train")]
    picked = rng.sample(texts, 40)
    one_by_one = [intake(city, text=t, category=None) for t in picked[:10]]
    now.advance(minutes=1)
    items = [Intake("hotline", t, None, None, address=f"东城大道{i}号A座") for i, t in enumerate(picked[10:])]
    batch = accept_cases(city.actor("operator"), items)
    assert all(isinstance(c, Case) for c in batch)
    extra = intake(city, text="Wi-Fi 信号很差，窨井盖也松了", address="西湖路3号", category=None)
    return one_by_one, batch, extra, picked


def test_every_case_carries_its_terms_one_by_one_and_in_a_batch(corpus_cases):
    for case in Case.objects.all():
        assert case.search_grams == grams(case.number, case.text, case.address)


def test_the_search_lists_what_a_substring_match_lists(corpus_cases):
    _one_by_one, _batch, extra, picked = corpus_cases
    queries = [
        "窨井",  # two characters
        "窨井盖",  # three
        "路灯",
        extra.number,
        extra.number.lower()[2:10],  # part of a number, any case
        "wi-fi",
        "WIFI",  # no such substring: nothing, though the terms are there
        "东城大道",  # only addresses say so
        "a座",
        "3号",
        "  窨井 ",
    ]
    for q in queries:
        assert searched(q) == plainly(q), q
    assert searched("号", indexed=False) == plainly("号")  # one character: the scan as before
    rng = random.Random(7)
    for text in picked:
        start = rng.randrange(len(text))
        q = text[start : start + rng.randint(2, 6)]
        assert searched(q, indexed=None) == plainly(q), q
    assert searched("窨井") >= {extra.pk} and searched("WIFI") == set()


def test_the_index_follows_a_changed_case(city, now):
    case = intake(city, text="路灯不亮", category=None)
    assert searched("路灯") == {case.pk}
    case.text = "窨井冒水"
    case.save()
    assert searched("路灯") == set() and searched("窨井") == {case.pk}
