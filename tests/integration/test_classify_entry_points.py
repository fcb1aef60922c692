"""The classifier through its command line, its API and retraining from the city's cases."""

import io
import json

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
