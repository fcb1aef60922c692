"""The navigation bar per role: each role finds the pages of the newly landed parts it works
with (enterprise requests, the proposal desk, 110 transfers, the command centre), every link
it is shown opens for it, and a role the page refuses is not shown the link; visitors who are
not signed in find the public pages at the foot of the page."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

ENTERPRISE_CASES = reverse("web:cases") + "?channel=enterprise"


def signed_in(city, name: str) -> Client:
    c = Client()
    c.force_login(city.users[name])
    return c


def bar(html: str) -> tuple[list[str], list[str]]:
    """The main navigation's links: those in the row and those under "More"."""
    nav = re.search(r'<nav class="nav"[^>]*>(.*?)</nav>', html, re.S)
    assert nav, "no navigation bar"
    inner = nav.group(1)
    more = re.search(r'<details class="nav-more">(.*?)</details>', inner, re.S)
    row_html = inner.replace(more.group(0), "") if more else inner
    links = re.compile(r'<a href="([^"]+)"')
    unescape = lambda hrefs: [h.replace("&amp;", "&") for h in hrefs]  # noqa: E731
    return unescape(links.findall(row_html)), unescape(links.findall(more.group(1)) if more else [])


def links_of(city, name: str) -> tuple[list[str], list[str]]:
    page = signed_in(city, name).get(reverse("web:cases"))
    assert page.status_code == 200
    return bar(page.content.decode())


PAGES = {
    "enterprise": reverse("enterprise:enterprises"),
    "proposals": reverse("proposals:desk"),
    "transfer": reverse("transfer:index"),
    "command": reverse("command:screen"),
}
# Which of those pages each role's bar links (and its unit's enterprise requests).
EXPECTED = {
    "operator": {"enterprise", "transfer"},
    "dispatcher": {"enterprise", "proposals", "transfer", "command"},
    "admin": {"enterprise", "proposals", "transfer", "command"},
    "leader": {"command"},
    "sub_east": {"command", "enterprise_cases"},
    "roads": {"enterprise_cases"},
    "field_roads": set(),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_role_sees_the_new_parts_it_works_with_and_no_other(city, name):
    row, more = links_of(city, name)
    shown = set(row) | set(more)
    expected = EXPECTED[name]
    for page, url in PAGES.items():
        assert (url in shown) == (page in expected), (name, page)
    assert (ENTERPRISE_CASES in shown) == ("enterprise_cases" in expected), name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_link_a_role_is_shown_opens_for_it(city, name):
    client = signed_in(city, name)
    row, more = links_of(city, name)
    for url in row + more:
        assert client.get(url).status_code == 200, (name, url)


# The roles each page refuses (a handler may open the command screen, scoped to its unit, but
# the screen is the centre's and the leaders': it is not in a handler's bar).
REFUSED = {
    "enterprise": {"leader", "sub_east", "roads", "field_roads"},
    "proposals": {"operator", "leader", "sub_east", "roads", "field_roads"},
    "transfer": {"leader", "sub_east", "roads", "field_roads"},
    "command": {"operator", "field_roads"},
}


@pytest.mark.parametrize("page", sorted(PAGES))
def test_a_role_the_page_refuses_has_no_link_to_it(city, page):
    for name in sorted(REFUSED[page]):
        assert signed_in(city, name).get(PAGES[page]).status_code in (302, 403), (name, page)
        row, more = links_of(city, name)
        assert PAGES[page] not in row + more


def test_the_operators_bar_keeps_its_daily_pages_in_the_row_and_groups_the_rest(city):
    row, more = links_of(city, "operator")
    assert row[0] == reverse("web:seat")
    assert reverse("transfer:index") in row  # decided within a clock: one click away
    assert reverse("calls:callbacks") in row and reverse("followup:queue") in row
    assert set(more) == {reverse("enterprise:enterprises"), reverse("typical:queue")}
    assert len(row) <= 5
    html = signed_in(city, "operator").get(reverse("web:cases")).content.decode()
    assert "<summary>更多</summary>" in html


def test_a_units_enterprise_requests_are_its_search_by_the_enterprise_channel(city, now):
    from tests.common.factories import intake

    mine = intake(city, channel="enterprise", text="企业门口路面塌陷")
    other = intake(city, channel="hotline", text="人行道井盖松动")
    from minsheng.cases.actions import assign_case

    for case in (mine, other):
        assign_case(city.actor("dispatcher"), case.pk, unit_id=city.units["roads"].pk)
    page = signed_in(city, "roads").get(ENTERPRISE_CASES)
    html = page.content.decode()
    assert mine.number in html and other.number not in html
    # The bar marks the enterprise requests as the current page, not the plain search.
    nav = re.search(r'<nav class="nav"[^>]*>(.*?)</nav>', html, re.S).group(1)  # type: ignore[union-attr]
    current = re.findall(r'<a href="([^"]+)" aria-current="page"', nav)
    assert [c.replace("&amp;", "&") for c in current] == [ENTERPRISE_CASES]


def test_visitors_find_the_public_pages_at_the_foot_and_staff_pages_have_no_foot(city):
    visitor = Client()
    html = visitor.get(reverse("web:login")).content.decode()
    foot = re.search(r'<footer class="public-footer">(.*?)</footer>', html, re.S)
    assert foot, "no public footer on the sign-in page"
    assert "议案提案 办理追踪" in foot.group(1)
    hrefs = re.findall(r'<a href="([^"]+)"', foot.group(1))
    assert reverse("proposals:track") in hrefs and reverse("web:track") in hrefs
    for href in hrefs:
        assert visitor.get(href).status_code == 200, href
    staff = signed_in(city, "operator").get(reverse("web:cases")).content.decode()
    assert "public-footer" not in staff
