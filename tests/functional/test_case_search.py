"""The case search is one search: the search page and the API list the same cases for
the same question, and both refuse a value they cannot use with a message naming it."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from minsheng.cases import actions
from minsheng.cases.filters import CaseFilter
from tests.common.factories import PASSWORD, intake

pytestmark = pytest.mark.django_db


@pytest.fixture
def dispatcher(city) -> Client:
    """Signed in: the page by its session, the API by the same session."""
    c = Client()
    assert c.login(username=city.users["dispatcher"].username, password=PASSWORD)
    return c


def on_page(c: Client, query: str) -> set[str]:
    response = c.get(reverse("web:cases") + query)
    assert response.status_code == 200, query
    results = response.content.decode().split('<section id="results"', 1)[1]
    return set(re.findall(r">(MS\d+)<", results))


def from_api(c: Client, query: str) -> set[str]:
    response = c.get("/api/v1/cases" + query)
    assert response.status_code == 200, (query, response.content)
    return {item["number"] for item in response.json()["items"]}


def test_the_page_and_the_api_find_the_same_cases(city, now, dispatcher):
    by_address = intake(city, text="人行道井盖破了", address="东城大道88号")
    sewage = intake(city, category="water.sewage", text="小区门口污水外溢", address="西湖路1号")
    signed = intake(city, category="water.sewage", text="污水井满了", address="南山路5号")
    actions.sign_case(city.actor("water"), signed.pk)
    now.advance(minutes=2)  # the unsigned cases' one-minute sign limit has passed
    water = city.units["water"].pk
    searches = {
        "?q=东城大道": {by_address.number},  # only its address says so
        f"?q={sewage.number}": {sewage.number},
        "?q=污水": {sewage.number, signed.number},
        "?state=signed": {signed.number},
        f"?unit={water}": {sewage.number, signed.number},
        "?category=water.sewage&state=assigned": {sewage.number},
        "?q=号&overdue=1": {by_address.number, sewage.number},  # every address has 号
        f"?unit={water}&overdue=1": {sewage.number},
    }
    for query, expected in searches.items():
        assert on_page(dispatcher, query) == expected, query
        assert from_api(dispatcher, query) == expected, query


def test_a_value_the_search_cannot_use_is_named_not_a_crash(city, now, dispatcher):
    intake(city)
    for query, field in (("?state=lost", "state"), ("?unit=abc", "unit")):
        response = dispatcher.get("/api/v1/cases" + query)
        assert response.status_code == 422, query
        assert [e["loc"] for e in response.json()["detail"]] == [["query", field]]

    for query, label in (("?state=lost", "状态"), ("?unit=abc", "单位")):
        response = dispatcher.get(reverse("web:cases") + query)
        assert response.status_code == 422, query
        body = response.content.decode()
        alert = re.search(r'<div class="alert alert-error" role="alert">(.*?)</div>', body, re.S)
        assert alert is not None and label in alert.group(1), query
        assert "没有符合条件的工单" in body  # no list filtered by half the question


def test_the_page_and_the_api_offer_every_filter_of_the_one_search(dispatcher):
    filters = set(CaseFilter.base_filters)
    page = dispatcher.get(reverse("web:cases")).content.decode()
    form = page.split('role="search"', 1)[1].split("</form>", 1)[0]
    assert set(re.findall(r'name="(\w+)"', form)) == filters
    schema = dispatcher.get("/api/v1/openapi.json").json()  # the documentation is for staff
    parameters = schema["paths"]["/api/v1/cases"]["get"]["parameters"]
    assert {p["name"] for p in parameters} - {"page", "page_size", "after"} == filters
