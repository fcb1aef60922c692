"""The command centre's screen (指挥中心大屏): each level sees its own territory's figures,
the figures are the statistics' own and drill down to their cases, and every endpoint
costs a fixed number of queries however many cases the city has."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from minsheng.cases import actions
from minsheng.cases.scoping import remembering_subtrees
from minsheng.stats.measures import Filters
from minsheng.stats.report import build_report, daily_counts
from minsheng.stats.rollup import refresh_rollups
from tests.common.factories import PASSWORD, intake

pytestmark = pytest.mark.django_db


def _client(client, username):
    assert client.login(username=username, password=PASSWORD)
    return client


def _two_towns(city):
    """One case in 东城街道 (east) by hotline, one in 西乡镇 (west) by app."""
    east = intake(city, point="east.a")
    west = intake(city, point="west.a", channel="app", text="西乡村口井盖缺失")
    return east, west


def _numbers(html: str) -> set[str]:
    return set(re.findall(r"MS\d{13}", html))


def test_the_city_sees_every_town_and_a_subcentre_only_its_own(city, now, client):
    east, west = _two_towns(city)
    data = _client(client, "dispatcher").get("/command/data.json").json()
    assert data["territory"]["level"] == "city"
    by_channel = {c["channel"]: c for c in data["channels"]}
    assert (by_channel["hotline"]["today"], by_channel["app"]["today"]) == (1, 1)
    assert data["open"]["n"] == 2
    assert [t["name"] for t in data["heat"]["towns"]] == ["东城街道", "西乡镇"]
    assert data["trend"][-1]["received"] == 2
    feed = client.get("/command/feed/?format=json").json()["items"]
    assert {east.number, west.number} <= {i["label"].split(" · ")[1] for i in feed}

    client.logout()
    data = _client(client, "sub_east").get("/command/data.json").json()
    assert data["territory"] == {"level": "town", "name": "东城街道"}
    by_channel = {c["channel"]: c for c in data["channels"]}
    assert (by_channel["hotline"]["today"], by_channel["app"]["today"]) == (1, 0)
    assert data["open"]["n"] == 1
    assert [t["name"] for t in data["heat"]["towns"]] == ["东城街道"]
    assert data["heat"]["rows"][0]["total"] == 1
    assert data["trend"][-1]["received"] == 1
    cells = client.get("/command/map.json?zoom=12").json()["cells"]
    assert sum(c["n"] for c in cells) == 1
    feed = client.get("/command/feed/?format=json").json()["items"]
    seen = " ".join(i["label"] for i in feed)
    assert east.number in seen and west.number not in seen
    html = client.get("/command/").content.decode()
    assert east.number in html and west.number not in html


def test_a_village_sees_its_own_unit_only(city, now, client):
    dispatcher = city.actor("dispatcher")
    mine = intake(city, point="east.a", category="neighbor.dispute", text="楼上漏水到楼下")
    actions.assign_case(dispatcher, mine.pk, unit_id=city.units["gr-east.a"].pk, note="社区协调")
    intake(city, point="east.a")  # 住建局's, in the same village
    data = _client(client, "village_ea").get("/command/data.json").json()
    assert data["territory"]["level"] == "unit"
    assert data["open"]["n"] == 1
    assert data["heat"]["rows"][0]["matter"] == "邻里纠纷"


def test_the_tiles_are_the_statistics_figures_and_open_the_cases_behind_them(city, now, client):
    roads = city.actor("roads")
    case = intake(city)
    now.advance(seconds=200)  # signed after the 1-minute limit
    actions.sign_case(roads, case.pk)
    data = _client(client, "leader").get("/command/data.json").json()
    tiles = {t["key"]: t for t in data["tiles"]}
    assert set(tiles) >= {"sign", "dispatch", "feedback", "response", "satisfaction", "direct_answer"}
    sign = tiles["sign"]["values"]["today"]
    today = now().astimezone().date()
    report = build_report(city.actor("leader"), Filters(start=data["today"] and today, end=today), now())
    fig = report.total.figure("sign")
    assert (sign["numerator"], sign["denominator"]) == (fig.numerator, fig.denominator) == (0, 1)
    assert sign["text"] == "0.0%" and sign["low"]
    audit = client.get(sign["url"])
    assert audit.status_code == 200
    assert case.number in audit.content.decode()


def test_every_figure_drills_down_to_exactly_its_cases(city, now, client):
    east, west = _two_towns(city)
    data = _client(client, "dispatcher").get("/command/data.json").json()
    east_cell = data["heat"]["rows"][0]["cells"][0]
    assert east_cell["n"] == 1
    assert _numbers(client.get(east_cell["url"]).content.decode()) == {east.number}
    app = next(c for c in data["channels"] if c["channel"] == "app")
    assert _numbers(client.get(app["month_url"]).content.decode()) == {west.number}
    day = data["trend"][-1]
    assert _numbers(client.get(day["url"]).content.decode()) == {east.number, west.number}
    assert _numbers(client.get(data["open"]["url"]).content.decode()) == {east.number, west.number}


def test_past_days_are_read_from_the_rollups_and_still_drill_down_exactly(city, now, client):
    east, west = _two_towns(city)
    now.advance(days=2)
    later = intake(city, point="east.b")  # today: counted live
    refresh_rollups(now())  # the days before today, as the worker keeps them
    leader = city.actor("leader")
    today = now().astimezone().date()
    first = today - dt.timedelta(days=29)
    rows, live_from = daily_counts(leader, "intake", first, today - dt.timedelta(days=1), ("channel",))
    assert live_from == today
    assert sorted((d, c, n) for d, c, n in rows) == [
        (today - dt.timedelta(days=2), "app", 1),
        (today - dt.timedelta(days=2), "hotline", 1),
    ]

    data = _client(client, "dispatcher").get("/command/data.json").json()
    by_day = {d["day"]: d for d in data["trend"]}
    assert by_day[(today - dt.timedelta(days=2)).isoformat()]["received"] == 2
    assert data["trend"][-1]["received"] == 1  # today once, not again from the rollups
    by_channel = {c["channel"]: c for c in data["channels"]}
    assert (by_channel["hotline"]["month"], by_channel["hotline"]["today"]) == (2, 1)
    assert (by_channel["app"]["month"], by_channel["app"]["today"]) == (1, 0)
    assert sum(row["total"] for row in data["heat"]["rows"]) == 3
    east_cell = data["heat"]["rows"][0]["cells"][0]
    assert _numbers(client.get(east_cell["url"]).content.decode()) == {east.number, later.number}
    day = by_day[(today - dt.timedelta(days=2)).isoformat()]
    assert _numbers(client.get(day["url"]).content.decode()) == {east.number, west.number}

    client.logout()
    data = _client(client, "sub_east").get("/command/data.json").json()
    by_day = {d["day"]: d for d in data["trend"]}
    assert by_day[(today - dt.timedelta(days=2)).isoformat()]["received"] == 1  # not 西乡's
    by_channel = {c["channel"]: c for c in data["channels"]}
    assert (by_channel["hotline"]["month"], by_channel["app"]["month"]) == (2, 0)
    assert [t["name"] for t in data["heat"]["towns"]] == ["东城街道"]


def test_roles_without_a_screen_are_refused(city, client):
    for who in ("operator", "field_roads"):
        client.logout()
        assert _client(client, who).get("/command/").status_code == 403
        assert client.get("/command/data.json").status_code == 403
    client.logout()
    assert client.get("/command/data.json").status_code == 302  # to the sign-in page


ENDPOINTS = ("/command/", "/command/data.json", "/command/map.json?zoom=13", "/command/feed/")


def _queries(client, url: str) -> int:
    """The queries a request makes, but the session's own (saved when the clock moved)."""
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    sql = [q["sql"] for q in ctx.captured_queries]
    return sum(1 for s in sql if "django_session" not in s and "SAVEPOINT" not in s)


@pytest.mark.parametrize("who", ["dispatcher", "sub_east"])
def test_the_screen_costs_the_same_queries_with_three_times_the_cases(city, now, client, who):
    def add(n):
        for i in range(n):
            point = ("east.a", "east.b", "west.a", "west.b")[i % 4]
            c = intake(city, point=point, channel=("hotline", "app", "grid")[i % 3], text=f"井盖破损 {i}")
            if i % 2:
                actions.sign_case(city.actor("roads"), c.pk)
            now.advance(minutes=7)

    add(4)
    _client(client, who)
    before = {url: _queries(client, url) for url in ENDPOINTS}
    add(8)
    after = {url: _queries(client, url) for url in ENDPOINTS}
    assert after == before
    # Each counts the reader's own (user, profile, unit, place) and, for a sub-centre, its
    # units once (two levels) however many figures are scoped by them.
    assert before["/command/map.json?zoom=13"] <= 12
    assert before["/command/feed/"] <= 8
    # Two statistics reports (today; the month's days before it: each what the statistics
    # page pays, their registered measures included) and, of the screen's own: the reader
    # (user, profile, unit, place), two rollup reads of cases received, today's received
    # counted live, one pass over the open cases, the early-warning tile (two counts), the
    # heat table's towns and matters (less what both reports read once between them).
    with CaptureQueriesContext(connection) as report, remembering_subtrees():
        today = now().astimezone().date()
        build_report(city.actor(who), Filters(start=today, end=today), now())
    assert before["/command/data.json"] <= 2 * len(report.captured_queries) + 9


def test_the_demo_history_is_made_through_the_actions_and_kept_on_reloading(db, now, settings):
    from minsheng.cases.models import Case, CaseEvent
    from minsheng.demo.actions import load_demo

    settings.MINSHENG_AUTO_DISPATCH = True
    made = load_demo(history_days=4)["cases_created"]
    assert made > 4  # a few days of history and today's demo cases
    assert Case.objects.filter(created_at__lt=now() - dt.timedelta(days=1)).exists()
    kinds = set(CaseEvent.objects.values_list("action", flat=True))
    assert {"accept", "assign", "sign", "dispatch", "feedback"} <= kinds
    assert Case.objects.filter(state="closed").exists()
    there = Case.objects.count()  # and the sensor alarms' own cases
    # The parts' demo rows, made through their actions: enterprises with their service
    # officers and requests, proposals in progress, 110's transfers (one taken in, one waiting).
    from minsheng.enterprise.models import Enterprise, EnterpriseCase
    from minsheng.proposals.models import Proposal
    from minsheng.transfer.models import IncomingTransfer

    assert Enterprise.objects.filter(service_officer__isnull=False).count() >= 3
    assert EnterpriseCase.objects.filter(case__channel="enterprise").count() >= 2
    assert {"proposal_handed_over", "proposer_contacted", "enterprise_linked"} <= kinds | set(
        CaseEvent.objects.values_list("action", flat=True)
    )
    assert Proposal.objects.filter(contacted_at__isnull=False, case__state="dispatched").exists()
    assert Proposal.objects.filter(contacted_at__isnull=True, case__state="signed").exists()
    waiting = IncomingTransfer.objects.filter(case__isnull=True)
    assert waiting.count() == 1 and IncomingTransfer.objects.filter(case__channel="110").count() == 1

    def snapshot() -> dict[str, int]:
        from minsheng.catalog.models import Matter
        from minsheng.notify.models import OutboxMessage

        tables = (
            Case,
            CaseEvent,
            Enterprise,
            EnterpriseCase,
            Proposal,
            IncomingTransfer,
            Matter,
            OutboxMessage,
        )
        return {t.__name__: t.objects.count() for t in tables}

    before = snapshot()
    assert load_demo(history_days=4)["cases_created"] == 0
    assert Case.objects.count() == there
    assert snapshot() == before


@pytest.fixture
def kept_a_minute(settings, monkeypatch):
    """The screen keeps its figures for 60 s (the default), in memory; the refresh
    behind the request runs at once in the test's thread (and transaction)."""
    from minsheng.command import kept

    settings.MINSHENG_COMMAND_CACHE_S = 60
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

    def at_once(_target, key, compute, max_age, _lang):
        kept.store(key, compute, max_age)

    monkeypatch.setattr(kept, "_start", at_once)


def test_kept_figures_are_per_scope_at_most_a_minute_old_and_refreshed_behind_the_request(
    city, now, client, kept_a_minute
):
    intake(city, point="east.a")
    _client(client, "dispatcher")
    assert client.get("/command/data.json").json()["open"]["n"] == 1
    assert sum(c["n"] for c in client.get("/command/map.json?zoom=12").json()["cells"]) == 1
    intake(city, point="west.a")
    now.advance(seconds=10)  # fresh: served as kept
    assert client.get("/command/data.json").json()["open"]["n"] == 1
    now.advance(seconds=10)  # a quarter of the minute: served as kept, recomputed behind it
    assert client.get("/command/data.json").json()["open"]["n"] == 1
    assert client.get("/command/data.json").json()["open"]["n"] == 2
    now.advance(seconds=61)  # too old to serve: computed in the request
    intake(city, point="west.b")
    assert client.get("/command/data.json").json()["open"]["n"] == 3
    assert sum(c["n"] for c in client.get("/command/map.json?zoom=12").json()["cells"]) == 3
    feed = client.get("/command/feed/?format=json").json()["items"]
    assert len([i for i in feed if i["kind"] == "case"]) == 3  # the feed is never kept

    # Another scope never reads the city's entry: 东城's sub-centre sees its one case.
    client.logout()
    _client(client, "sub_east")
    data = client.get("/command/data.json").json()
    assert data["territory"]["name"] == "东城街道" and data["open"]["n"] == 1
    assert sum(c["n"] for c in client.get("/command/map.json?zoom=12").json()["cells"]) == 1

    # Nor a reader in another language: the kept answer holds words.
    hotline = next(c for c in data["channels"] if c["channel"] == "hotline")["label"]
    english = client.get("/command/data.json", HTTP_ACCEPT_LANGUAGE="en").json()
    assert next(c for c in english["channels"] if c["channel"] == "hotline")["label"] != hotline
