"""Intake per request at a city's scale (issue #15): one commit per create, the answer as
the case reads afterwards though it is built from memory, and a token noted at most once a
minute."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from minsheng.cases.models import PersonalDataAccess
from tests.functional.test_api import MANHOLE, Api

WRITES = ("INSERT", "UPDATE", "DELETE")


@pytest.fixture
def api(city, now):
    return Api(city)


def test_the_answer_to_a_create_is_the_case_as_it_reads_afterwards(api, city):
    for body in (
        MANHOLE,  # routed with no human step
        {**MANHOLE, "category": None, "text": "反映一个情况"},  # waits for a dispatcher
        {**MANHOLE, "text": "人行道上的窨井盖破了一角"},  # same address and matter: merged
    ):
        made = api.post("/cases", body)
        assert made.status_code == 201, made.content
        again = api.get(f"/cases/{made.json()['id']}")
        assert made.json() == again.json()
    # The maker was shown the full number both times, and each time is on record.
    assert PersonalDataAccess.objects.filter(user=city.users["operator"], via="api").count() == 6


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "sqlite", reason="reads SQLite's BEGIN/COMMIT in the query log")
def test_one_create_is_one_transaction(city, now):
    api = Api(city)
    api.create()  # the token's first use is noted
    with CaptureQueriesContext(connection) as ctx:
        api.create()
    sql = [q["sql"].lstrip().split(None, 1)[0].upper() for q in ctx.captured_queries]
    assert sql.count("BEGIN") == 1 and sql.count("COMMIT") == 1, sql
    begin, commit = sql.index("BEGIN"), sql.index("COMMIT")
    outside = [s for i, s in enumerate(sql) if not begin < i < commit]
    assert not [s for s in outside if s in WRITES], "every write is inside the one transaction"
    # The new case is not read back: one read of its clocks after the writes, no more.
    after_writes = sql[max(i for i, s in enumerate(sql) if s in WRITES) + 1 : commit]
    assert after_writes.count("SELECT") <= 1, after_writes


def test_a_token_is_noted_as_used_at_most_once_a_minute(api, city, now):
    api.create()
    with CaptureQueriesContext(connection) as ctx:
        api.create()
    assert not [q for q in ctx.captured_queries if q["sql"].startswith('UPDATE "accounts_apitoken"')]
    now.advance(minutes=2)
    with CaptureQueriesContext(connection) as ctx:
        api.create()
    assert len([q for q in ctx.captured_queries if q["sql"].startswith('UPDATE "accounts_apitoken"')]) == 1


def test_a_case_left_for_a_dispatcher_is_answered_without_reading_its_clocks_back(api):
    body = {**MANHOLE, "category": None, "text": "反映一个情况"}
    with CaptureQueriesContext(connection) as ctx:
        made = api.post("/cases", body)
    assert made.status_code == 201, made.content
    assert made.json()["state"] == "accepted" and made.json()["clocks"], made.json()
    reads = [q["sql"] for q in ctx.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    assert not [s for s in reads if 'FROM "cases_caseclock"' in s], reads
    assert made.json() == api.get(f"/cases/{made.json()['id']}").json()
