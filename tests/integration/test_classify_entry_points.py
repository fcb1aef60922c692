"""The classifier through its command line, its API and retraining from the city's cases."""

import io
import json
import types

import pytest
from django.core.management import call_command
from django.test import Client

from minsheng.cases import actions
from minsheng.routing import classifier
from tests.common.factories import intake

pytestmark = pytest.mark.django_db


@pytest.fixture
def model_dir(settings, tmp_path):
    settings.MINSHENG_MODEL_DIR = tmp_path / "models"
    classifier.reset()
    yield settings.MINSHENG_MODEL_DIR
    classifier.reset()


def test_classify_command_reads_jsonl_and_writes_one_line_each(demo_city, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps({"id": "a", "text": "小区门口的路灯坏了好几盏，晚上一片漆黑"}, ensure_ascii=False)
        + "\n"
        + json.dumps({"id": "b", "text": "老板拖欠我们三个月工资了"}, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    out = io.StringIO()
    call_command("classify", "--input", str(src), stdout=out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(r["id"], r["code"]) for r in rows] == [("a", "road.streetlight"), ("b", "labor.wages")]
    assert all(len(r["candidates"]) == 3 and isinstance(r["auto"], bool) for r in rows)


def test_classify_api(demo_city):
    client = Client()
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="dispatcher"))
    r = client.post(
        "/api/v1/classify", {"text": "楼上装修噪音太大，晚上十点还在敲"}, content_type="application/json"
    )
    assert r.status_code == 200
    assert r.json()["code"] == "env.noise"
    assert client.post("/api/v1/classify", {}, content_type="application/json").status_code == 422


def test_retrain_learns_a_dispatchers_correction_and_publishes_a_new_version(city, now, model_dir):
    # The test city's list has three matters; a correction teaches the model a new wording.
    case = intake(city, category=None, text="小区东门外的雨水篦子被车压碎了", point="east.a")
    case.refresh_from_db()
    assert case.matter is None or case.matter.code != "water.sewage"
    actions.assign_case(city.actor("dispatcher"), case.pk, category="water.sewage")
    before = classifier.store().versions()  # intake trained the default model on first use
    out = io.StringIO()
    call_command("retrain", stdout=out)
    assert "1 examples from the city's cases" in out.getvalue()
    summary = json.loads(out.getvalue().splitlines()[-1])
    assert summary["version"] not in before and summary["heldout"]["top1"] >= 0.9
    assert classifier.store().versions() == [*before, summary["version"]]
    assert classifier.store().latest().version == summary["version"]


def test_retrain_refuses_to_publish_a_model_worse_on_the_held_apart_requests(
    city, now, model_dir, monkeypatch
):
    from django.core.management import CommandError

    from minsheng.classify import Classifier
    from minsheng.routing import actions as routing_actions

    classifier.store().current()  # the default model, trained on first use, is in service
    before = classifier.store().versions()
    # A model that learned from the catalog's words alone: much worse on requests in people's words.
    weak = types.SimpleNamespace(
        train=lambda examples, catalog: Classifier.train(examples, catalog, use_corpus=False)
    )
    monkeypatch.setattr(routing_actions, "Classifier", weak)
    out = io.StringIO()
    with pytest.raises(CommandError, match="not published: worse than the model in service on apart top1"):
        call_command("retrain", stdout=out)
    summary = json.loads(out.getvalue().splitlines()[-1])
    assert summary["version"] is None
    assert summary["after"]["apart"]["top1"] < summary["before"]["apart"]["top1"]
    assert summary["before"]["apart"]["n"] >= 400
    assert classifier.store().versions() == before  # nothing published
    out = io.StringIO()
    call_command("retrain", "--force", stdout=out)
    assert json.loads(out.getvalue().splitlines()[-1])["version"] not in before


def test_a_case_returned_as_not_ours_and_sent_on_under_another_matter_is_a_lesson(city, now):
    from minsheng.routing.training import city_examples

    case = intake(city, category="road.manhole", text="小区后门那个下水道一直往外冒黑水，臭得很")
    roads = city.actor("roads")
    actions.sign_case(roads, case.pk)
    actions.return_case(roads, case.pk, note="不是井盖，是污水外溢，归水务")
    actions.assign_case(city.actor("dispatcher"), case.pk, category="water.sewage")
    assert (case.pk, case.text, "water.sewage") in city_examples()


def test_retrain_holds_back_a_tenth_of_a_large_citys_cases_to_judge_the_model(
    city, now, model_dir, monkeypatch
):
    from minsheng.routing import actions as routing_actions

    rows = [(pk, f"{pk}号楼下水道堵了，污水冒出来", "water.sewage") for pk in range(1, 61)]
    monkeypatch.setattr(routing_actions, "city_examples", lambda: rows)
    report = routing_actions.retrain(force=True)
    assert (report.examples, report.held_back) == (54, 6)
    assert report.after["city"]["n"] == 6 and report.published
