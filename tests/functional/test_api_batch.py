"""POST /api/v1/cases/batch (issue #15): many cases in one call, each answered on its own,
routed and committed before the answer, one bad item never failing the others, a key per
item making retries safe."""

from __future__ import annotations

import pytest

from minsheng.cases import registry
from minsheng.cases.models import Case, CaseClock, CaseEvent
from minsheng.cases.states import State
from tests.functional.test_api import MANHOLE, Api

SEWAGE = {**MANHOLE, "category": "water.sewage", "text": "小区门口污水冒出来了"}


@pytest.fixture
def api(city, now):
    return Api(city)


def batch(api: Api, cases: list, user: str = "operator"):
    return api.post("/cases/batch", {"cases": cases}, user)


def test_each_item_is_answered_in_order_and_a_bad_one_fails_no_other(api, city):
    response = batch(
        api,
        [
            MANHOLE,
            {**MANHOLE, "text": "   "},  # blank text: refused by the schema
            SEWAGE,
            {**MANHOLE, "category": "no.such"},  # refused by intake
            {**MANHOLE, "requester": {"name": "王", "phone": "12345"}},
            "not an object",
        ],
    )
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["index"] for r in results] == list(range(6))
    assert [r["status"] for r in results] == [201, 422, 201, 422, 422, 422]
    assert results[1]["errors"][0]["loc"][:4] == ["body", "cases", 1, "text"]
    assert results[3]["errors"][0]["loc"] == ["body", "cases", 3, "category"]
    assert results[4]["errors"][0]["loc"] == ["body", "cases", 4, "requester", "phone"]
    made = {r["id"]: r for r in results if r["status"] == 201}
    cases = {c.pk: c for c in Case.objects.filter(pk__in=made)}
    assert set(cases) == set(made) and Case.objects.count() == 2
    # Each made case is whole: routed, its clocks started, its log written.
    for case_id, result in made.items():
        case = cases[case_id]
        assert result["number"] == case.number
        assert case.state == State.ASSIGNED and case.owner_unit is not None
        assert CaseClock.objects.filter(case=case, name__in=["feedback", "resolve", "sign"]).count() == 3
        logged = CaseEvent.objects.filter(case=case).values_list("action", flat=True)
        assert list(logged) == ["accept", "assign"]
    assert cases[results[0]["id"]].owner_unit == city.units["roads"]
    assert cases[results[2]["id"]].owner_unit == city.units["water"]


def test_texts_without_a_category_are_classified_in_one_pass(api, city, monkeypatch):
    asked: list[list[str]] = []

    class Guess:
        def __init__(self, code):
            self.code, self.confidence, self.method, self.model_version = code, 0.99, "model", "t"
            self.candidates = [(code, 0.99)]

    def one(text):
        raise AssertionError("asked one text at a time")

    def many(texts):
        asked.append(list(texts))
        return [(Guess("water.sewage" if "污水" in t else "road.manhole"), 0.5) for t in texts]

    monkeypatch.setattr(registry, "_classifier", [one])
    monkeypatch.setattr(registry, "_classifier_many", [many])
    bodies = [{**MANHOLE, "category": None}, {**SEWAGE, "category": None}, MANHOLE]
    results = batch(api, bodies).json()["results"]
    assert [r["status"] for r in results] == [201, 201, 201]
    assert asked == [[MANHOLE["text"], SEWAGE["text"]]]  # the given category is not asked
    made = [Case.objects.get(pk=r["id"]) for r in results]
    assert [c.matter.code for c in made] == ["road.manhole", "water.sewage", "road.manhole"]
    assert [c.routing["method"] for c in made] == ["model", "model", "given"]


def test_a_key_per_item_makes_a_retried_batch_safe(api):
    first = batch(api, [{**MANHOLE, "idempotency_key": "p-1"}, {**SEWAGE, "idempotency_key": "p-2"}])
    made = [r["id"] for r in first.json()["results"]]
    again = batch(
        api,
        [
            {**MANHOLE, "idempotency_key": "p-1"},  # the same: the case made then
            {**MANHOLE, "idempotency_key": "p-2"},  # another body under a used key: refused
            {**SEWAGE, "idempotency_key": "p-3"},  # new
            {**SEWAGE, "idempotency_key": "p-3"},  # the same key twice in one batch: once
        ],
    ).json()["results"]
    assert [r["status"] for r in again] == [201, 422, 201, 201]
    assert again[0]["id"] == made[0]
    assert again[1]["errors"][0]["loc"] == ["body", "cases", 1, "idempotency_key"]
    assert again[2]["id"] == again[3]["id"] not in made
    assert Case.objects.count() == 3


def test_the_batch_is_bounded_and_for_those_who_register_requests(api):
    too_many = batch(api, [MANHOLE] * 501)
    assert too_many.status_code == 422 and too_many.json()["detail"][0]["loc"][:2] == ["body", "cases"]
    assert batch(api, []).json() == {"results": []}
    refused = batch(api, [MANHOLE], user="leader")
    assert refused.status_code == 200 and refused.json()["results"][0]["status"] == 403
    assert Case.objects.count() == 0
