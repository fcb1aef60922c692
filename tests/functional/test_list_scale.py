"""Lists that cost the same however many cases the city has (issue #15): a page reads a
fixed number of queries at N and at 3N cases, walks on by keyset without losing or repeating
a case, counts stop at a cap, and "about to breach" is in next-due order."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from minsheng.cases import lists
from minsheng.cases.models import Case, CaseClock, case_overdue
from minsheng.cases.scoping import visible_cases
from minsheng.cases.states import State
from minsheng.groups import actions as groups
from minsheng.web.queries import about_to_breach, overdue_count, overview
from tests.common.factories import PASSWORD, intake

PAGES = [
    ("dispatcher", "/queue/"),
    ("dispatcher", "/queue/?tab=breaching"),
    ("dispatcher", "/cases/"),
    ("dispatcher", "/cases/?q=井盖"),
    ("dispatcher", "/cases/?overdue=1"),
    ("dispatcher", "/cases/?state=assigned"),
    ("roads", "/inbox/"),
    ("sub_east", "/queue/"),
    ("leader", "/overview/"),
    ("dispatcher", "/api/v1/cases"),
    ("dispatcher", "/api/v1/cases?state=assigned"),
    ("dispatcher", "/api/v1/cases?overdue=true"),
    ("dispatcher", "/api/v1/cases?q=井盖"),
    ("roads", "/api/v1/cases"),
    ("roads", "/api/v1/cases?overdue=true"),
    ("roads", "/cases/"),
    ("roads", "/cases/?overdue=1"),
    ("sub_east", "/queue/?tab=breaching"),
    ("sub_east", "/cases/"),
    ("sub_east", "/api/v1/cases?state=assigned"),
]


def client_for(city, name: str) -> Client:
    c = Client()
    assert c.login(username=city.users[name].username, password=PASSWORD)
    return c


def add_cases(city, n: int) -> None:
    """A mix: routed to 住建 (roads), territorial (to the sub-centre), and waiting for a
    dispatcher (no category, no classifier in tests)."""
    for i in range(n):
        kind = i % 3
        if kind == 0:
            intake(city, text=f"井盖松动 {i}")
        elif kind == 1:
            intake(city, category="neighbor.dispute", text=f"邻居装修噪音 {i}")
        else:
            intake(city, category=None, text=f"反映一个情况 {i}")


def queries_of(c: Client, path: str) -> int:
    c.get(path)  # warm: sessions, caches
    with CaptureQueriesContext(connection) as ctx:
        response = c.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return len(ctx.captured_queries)


def test_every_list_reads_as_many_queries_at_3n_cases_as_at_n(city, now, django_assert_max_num_queries):
    add_cases(city, 12)
    now.advance(hours=30)  # sign, dispatch and feedback limits passed: most are about to breach
    clients = {who: client_for(city, who) for who in {who for who, _ in PAGES}}
    at_n = {(who, path): queries_of(clients[who], path) for who, path in PAGES}
    add_cases(city, 24)
    now.advance(hours=30)
    assert Case.objects.count() == 36
    for (who, path), expected in at_n.items():
        clients[who].get(path)
        with django_assert_max_num_queries(expected, info=f"{who} {path}"):
            assert clients[who].get(path).status_code == 200


def test_the_api_walks_a_long_list_by_keyset_each_case_once_newest_first(city, now):
    for i in range(7):
        intake(city, text=f"井盖坏了 {i}")
        now.advance(minutes=1)
    newest_first = list(Case.objects.order_by("-created_at", "-id").values_list("pk", flat=True))
    c = client_for(city, "dispatcher")
    seen: list[int] = []
    after = ""
    for _ in range(10):
        page = c.get("/api/v1/cases", {"page_size": 3, **({"after": after} if after else {})}).json()
        assert page["count"] == 7 and page["count_capped"] is False
        seen += [item["id"] for item in page["items"]]
        after = page["next"]
        if not after:
            break
    assert seen == newest_first
    # The offset page says where the next one starts too.
    second = c.get("/api/v1/cases", {"page_size": 3, "page": 2}).json()
    assert [i["id"] for i in second["items"]] == newest_first[3:6]
    following = c.get("/api/v1/cases", {"page_size": 3, "after": second["next"]}).json()
    assert [i["id"] for i in following["items"]] == newest_first[6:]
    # A marker it never gave is named as the fault.
    bad = c.get("/api/v1/cases", {"after": "bm9wZQ"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "after"]
    both = c.get("/api/v1/cases", {"after": second["next"], "page": 2})
    assert both.status_code == 422


def test_a_search_by_words_finds_every_match_across_windows(city, now, monkeypatch):
    """The windowed scan (newest 2,000, then 8,000, …) here with windows of 2 rows: every
    match found once, newest first, none of the others."""
    monkeypatch.setattr(lists, "FIRST_WINDOW", 2)
    wanted = []
    for i in range(9):
        case = intake(city, text=f"窨井冒水 {i}" if i % 4 == 0 else f"路灯不亮 {i}")
        if i % 4 == 0:
            wanted.append(case.number)
        now.advance(minutes=1)
    wanted.reverse()
    c = client_for(city, "dispatcher")
    items = c.get("/api/v1/cases", {"q": "窨井", "page_size": 2}).json()
    got = [i["number"] for i in items["items"]]
    after = items["next"]
    while after:
        more = c.get("/api/v1/cases", {"q": "窨井", "page_size": 2, "after": after}).json()
        got += [i["number"] for i in more["items"]]
        after = more["next"]
    assert got == wanted
    page = c.get(reverse("web:cases"), {"q": "窨井"}).content.decode()
    assert re.findall(r">(MS\d+)<", page) == wanted and "共 3 件" in page


def test_counts_stop_at_the_cap_and_say_so(city, now, monkeypatch):
    for i in range(4):
        intake(city, text=f"井盖坏了 {i}")
    monkeypatch.setattr(lists, "COUNT_CAP", 2)
    monkeypatch.setattr(lists.bounded_count, "__defaults__", (2,))
    c = client_for(city, "dispatcher")
    page = c.get("/api/v1/cases").json()
    assert (page["count"], page["count_capped"], len(page["items"])) == (2, True, 4)
    assert "超过 2 件" in c.get(reverse("web:cases")).content.decode()
    now.advance(hours=30)
    breaching = about_to_breach(city.actor("dispatcher"))
    assert str(breaching.count(cap=2)) == "2+" and breaching.count().n == 4


@pytest.mark.parametrize("who", ["dispatcher", "sub_east"])
def test_about_to_breach_lists_the_case_due_first_first(city, now, who):
    cases = [intake(city, category="neighbor.dispute", text=f"邻居噪音 {i}") for i in range(3)]
    urgent = intake(city, category="neighbor.dispute", urgent=True, text="邻居吵架")
    now.advance(days=30)  # every limit passed
    rows = about_to_breach(city.actor(who)).rows(25)
    assert {c.pk for c in rows} == {c.pk for c in [*cases, urgent]}
    assert [c.pk for c in rows] == [c.pk for c in sorted(rows, key=lambda c: (c.next_due, c.pk))]
    assert all(c.overdue for c in rows)
    assert about_to_breach(city.actor("water")).rows(25) == []


def test_each_queue_row_offers_every_unit_and_matter_with_its_own_preselected(city, now):
    """The options are rendered once for the page; each row still marks its own."""
    roads = intake(city, point=None, text="井盖坏了，地址不详")  # a category, no place: waits
    other = intake(city, point=None, category="water.sewage", text="污水冒出，地址不详")
    page = client_for(city, "dispatcher").get("/queue/").content.decode()

    def row_select(case, name: str) -> str:
        row = page.split(f'id="row-{case.pk}"', 1)[1].split("</tr>", 1)[0]
        return row.split(f'<select name="{name}"', 1)[1].split("</select>", 1)[0]

    for case, unit, code in ((roads, "roads", "road.manhole"), (other, "water", "water.sewage")):
        units, matters = row_select(case, "unit"), row_select(case, "category")
        assert re.findall(r'<option value="(\d+)" selected>', units) == [str(city.units[unit].pk)]
        assert re.findall(r'<option value="([\w.]+)" selected>', matters) == [code]
        assert units.count("<option") == row_select(roads, "unit").count("<option") > 3


def test_a_units_list_is_its_own_cases_and_its_joint_groups_merged_newest_first(city, now):
    """Read as two index scans and merged (``visible_parts``): the same cases, in the same
    order, as the one scoping rule gives, page after page."""
    for i in range(7):
        case = intake(city, category="water.sewage" if i % 2 else None, text=f"污水冒出 {i}")
        if i in (1, 5):  # water's cases roads helps with
            groups.form_joint_group(
                city.actor("dispatcher"),
                case.pk,
                lead_unit_id=city.units["water"].pk,
                lead_task="牵头",
                assists=[{"unit_id": city.units["roads"].pk, "task": "协助"}],
            )
        intake(city, text=f"井盖坏了 {i}")  # roads' own
        now.advance(minutes=1)
    expected = list(
        visible_cases(city.actor("roads")).order_by("-created_at", "-id").values_list("pk", flat=True)
    )
    assert len(expected) == 9
    c = client_for(city, "roads")
    seen: list[int] = []
    after = ""
    while True:
        page = c.get("/api/v1/cases", {"page_size": 2, **({"after": after} if after else {})}).json()
        assert page["count"] == 9
        seen += [item["id"] for item in page["items"]]
        after = page["next"]
        if not after:
            break
    assert seen == expected
    body = c.get(reverse("web:cases")).content.decode()
    assert re.findall(r'id="row-(\d+)"', body) == [str(pk) for pk in expected] and "共 9 件" in body
    # A filter applies to both parts.
    page = c.get("/api/v1/cases", {"state": "assigned"}).json()
    assigned = visible_cases(city.actor("roads")).filter(state=State.ASSIGNED).order_by("-created_at", "-id")
    assert [i["id"] for i in page["items"]] == list(assigned.values_list("pk", flat=True))
    assert {i["owner_unit"] for i in page["items"]} == {"住建局", "水务集团"}
    # Overdue: counted part by part, the same cases.
    now.advance(hours=30)
    late = visible_cases(city.actor("roads")).filter(case_overdue()).order_by("-created_at", "-id")
    page = c.get("/api/v1/cases", {"overdue": "true"}).json()
    assert page["count"] == late.count() > 2 and [i["id"] for i in page["items"]] == list(
        late.values_list("pk", flat=True)
    )


def test_the_overview_counts_open_work_exactly_and_history_up_to_the_cap(city, now, monkeypatch):
    roads = [intake(city, text=f"井盖坏了 {i}") for i in range(3)]  # to roads, assigned
    intake(city, category=None, text="反映一个情况")  # waits for a dispatcher
    # One closed as closing does it: its clocks stopped.
    Case.objects.filter(pk=roads[0].pk).update(state=State.CLOSED)
    CaseClock.objects.filter(case=roads[0]).update(stopped_at=now())
    now.advance(days=30)  # every limit of the open ones passed
    figures = overview(city.actor("leader"))
    assert figures.open == 3 and str(figures.total) == "4" and str(figures.overdue) == "3"
    assert {s: str(n) for s, n in figures.by_state.items() if n} == {
        "assigned": "2",
        "accepted": "1",
        "closed": "1",
    }
    assert figures.by_unit == [{"owner_unit__name": "住建局", "n": 2}, {"owner_unit__name": None, "n": 1}]
    monkeypatch.setattr(lists.bounded_count, "__defaults__", (0,))
    assert str(overview(city.actor("leader")).total) == "3+"
    assert str(overdue_count(city.actor("leader"), cap=2)) == "2+"
    body = client_for(city, "leader").get(reverse("web:overview")).content.decode()
    assert "3+" in body and "住建局" in body
