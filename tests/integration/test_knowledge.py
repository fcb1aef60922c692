"""The knowledge base (知识库): the owner department drafts, the city centre publishes, only
published articles within their date are suggested, the worker reminds before expiry and
expires after, and a city's file loads idempotently."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from minsheng.cases.errors import Conflict, Forbidden, Invalid, NotFound
from minsheng.knowledge import actions, queries
from minsheng.knowledge.actions import ArticleIn, load_articles
from minsheng.knowledge.models import TRANSITIONS, Article, ArticleState, ArticleVersion
from minsheng.notify.models import OutboxMessage
from minsheng.worker.loop import run_pass

pytestmark = pytest.mark.django_db

S = ArticleState


@pytest.fixture(autouse=True)
def _fresh_engine():
    queries.forget()
    yield
    queries.forget()


def today():
    return timezone.localtime().date()


def draft(city, who="roads", **over) -> Article:
    data = {
        "title": "井盖丢失怎么报修",
        "answer": "发现井盖丢失或破损，请拨打12345或在浙里办上报，住建局2小时内到场处置。",
        "keywords": ["井盖", "窨井盖破损"],
        "valid_until": today() + dt.timedelta(days=200),
        **over,
    }
    return actions.create_article(city.actor(who), ArticleIn(**data))


def test_the_transition_table_read_whole():
    assert {a: (set(f), t) for a, (f, t) in TRANSITIONS.items()} == {
        "edit": ({S.DRAFT}, S.DRAFT),
        "revise": ({S.PUBLISHED, S.EXPIRED}, S.DRAFT),
        "submit": ({S.DRAFT}, S.IN_REVIEW),
        "publish": ({S.IN_REVIEW}, S.PUBLISHED),
        "return": ({S.IN_REVIEW}, S.DRAFT),
        "expire": ({S.PUBLISHED}, S.EXPIRED),
    }


def test_the_state_column_refuses_a_state_outside_the_list(city):
    article = draft(city)
    with pytest.raises(IntegrityError), transaction.atomic():
        Article.objects.filter(pk=article.pk).update(state="approved")


def test_a_department_drafts_and_submits_but_only_the_centre_publishes(city, now):
    article = draft(city)
    assert article.owner_unit == city.units["roads"] and article.state == S.DRAFT and article.version == 1
    actions.submit_article(city.actor("roads"), article.pk)
    with pytest.raises(Forbidden):
        actions.publish_article(city.actor("roads"), article.pk)
    assert Article.objects.get(pk=article.pk).state == S.IN_REVIEW
    assert "井盖丢失怎么报修" not in [a.title for a in queries.served_texts()]

    actions.publish_article(city.actor("dispatcher"), article.pk, note="核实无误")
    article.refresh_from_db()
    assert article.state == S.PUBLISHED and article.live is not None
    assert [a.code for a in queries.served_texts()] == [article.code]
    history = list(article.versions.values_list("action", "author_label", "number"))
    assert history == [("create", "roads", 1), ("submit", "roads", 1), ("publish", "dispatcher", 1)]


def test_the_centre_returns_with_a_reason_and_the_owner_edits_again(city):
    article = draft(city)
    actions.submit_article(city.actor("roads"), article.pk)
    with pytest.raises(Invalid):
        actions.return_article(city.actor("dispatcher"), article.pk, note="")
    actions.return_article(city.actor("dispatcher"), article.pk, note="电话号码不对")
    article.refresh_from_db()
    assert article.state == S.DRAFT
    assert article.versions.last().note == "电话号码不对"
    with pytest.raises(Conflict):  # a draft is not in review: nothing to publish
        actions.publish_article(city.actor("dispatcher"), article.pk)


def test_a_department_sees_and_edits_only_its_own_drafts(city):
    article = draft(city)
    water = city.actor("water")
    with pytest.raises(NotFound):
        actions.submit_article(water, article.pk)
    assert not queries.visible(water).filter(pk=article.pk).exists()
    assert queries.visible(city.actor("dispatcher")).filter(pk=article.pk).exists()
    assert queries.visible(city.actor("operator")).filter(pk=article.pk).exists()
    actions.submit_article(city.actor("roads"), article.pk)
    actions.publish_article(city.actor("admin"), article.pk)
    # published: everyone reads it, but another department still may not change it
    assert queries.visible(water).filter(pk=article.pk).exists()
    with pytest.raises(Forbidden):
        actions.update_article(water, article.pk, ArticleIn(title="x", answer="y", valid_until=today()))
    with pytest.raises(Forbidden):  # a department writes for its own unit only
        actions.create_article(
            water,
            ArticleIn(title="t", answer="a", valid_until=today(), owner_unit_id=city.units["roads"].pk),
        )
    with pytest.raises(Forbidden):  # an operator reads, never writes
        actions.create_article(city.actor("operator"), ArticleIn(title="t", answer="a", valid_until=today()))


def test_an_edit_of_a_published_article_keeps_the_published_version_until_the_new_one_is_published(city):
    article = draft(city)
    actions.submit_article(city.actor("roads"), article.pk)
    actions.publish_article(city.actor("dispatcher"), article.pk)
    article.refresh_from_db()
    actions.update_article(
        city.actor("roads"),
        article.pk,
        ArticleIn(title="井盖丢失、破损怎么报修", answer="新的答复", valid_until=article.valid_until),
        note="补充破损",
        expected_version=1,
    )
    article.refresh_from_db()
    assert article.state == S.DRAFT and article.version == 2
    [served] = queries.served_texts()
    assert served.title == "井盖丢失怎么报修"  # still the published v1
    with pytest.raises(Conflict):  # a form drawn from v1 is stale now
        actions.update_article(
            city.actor("roads"),
            article.pk,
            ArticleIn(title="x", answer="y", valid_until=today()),
            expected_version=1,
        )
    actions.submit_article(city.actor("roads"), article.pk)
    actions.publish_article(city.actor("dispatcher"), article.pk)
    [served] = queries.served_texts()
    assert served.title == "井盖丢失、破损怎么报修" and served.answer == "新的答复"


def test_versions_are_append_only_in_the_database(city):
    article = draft(city)
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        ArticleVersion.objects.filter(article=article).update(title="rewritten")


def test_the_worker_reminds_the_owner_before_expiry_and_expires_after(city, now, settings):
    settings.MINSHENG_KNOWLEDGE_REMIND_DAYS = 30
    day = timezone.localtime(now()).date()
    article = draft(city, valid_until=day + dt.timedelta(days=40))
    actions.submit_article(city.actor("roads"), article.pk)
    actions.publish_article(city.actor("dispatcher"), article.pk)

    run_pass(deliver=False)
    assert not OutboxMessage.objects.filter(kind="article_expiring").exists()  # 40 days: too early

    now.advance(days=11)  # 29 days before
    run_pass(deliver=False)
    run_pass(deliver=False)  # once per date, however often the worker passes
    [message] = OutboxMessage.objects.filter(kind="article_expiring")
    assert message.unit == city.units["roads"]
    assert message.context["code"] == article.code and message.context["days"] == 29

    from minsheng.notify.delivery import render

    assert "即将到期" in render(message).title and article.title in render(message).body

    now.advance(days=29)  # the last valid day: still served
    run_pass(deliver=False)
    assert Article.objects.get(pk=article.pk).state == S.PUBLISHED
    assert [a.code for a in queries.served_texts()] == [article.code]

    now.advance(days=1)
    run_pass(deliver=False)
    article.refresh_from_db()
    assert article.state == S.EXPIRED
    assert article.versions.last().action == "expire"
    assert queries.served_texts() == []


def test_an_expired_article_is_never_suggested(demo_city, now):
    question = "孩子刚出生，看病能报销的那个怎么给他弄上"
    before = queries.suggest_answers(question)
    assert before["articles"][0]["code"] == "K001"
    k001 = Article.objects.get(code="K001")
    actions.expire_article(city_actor("dispatcher"), k001.pk)
    after = queries.suggest_answers(question)
    assert "K001" not in [a["code"] for a in after["articles"]]
    # nor one whose date has passed before the worker came by to expire it
    k011 = Article.objects.get(code="K011")
    assert k011.state == S.PUBLISHED and "K011" in [a.code for a in queries.served_texts()]
    assert "K011" not in [a.code for a in queries.served_texts(k011.live.valid_until + dt.timedelta(days=1))]


def city_actor(username: str):
    from django.contrib.auth import get_user_model

    from minsheng.accounts.actors import Actor

    return Actor.of(get_user_model().objects.get(username=username))


def test_loading_the_file_again_changes_nothing_and_a_changed_line_makes_a_new_version(demo_city, tmp_path):
    assert Article.objects.filter(state=S.PUBLISHED).count() == 48
    versions = ArticleVersion.objects.count()
    again = load_articles(keep_current=True)  # as the demo city loads it
    assert len(again.unchanged) == 48 and not again.created and not again.updated
    assert ArticleVersion.objects.count() == versions

    lines = actions.DEMO_ARTICLES.read_text(encoding="utf-8").splitlines()
    row = json.loads(lines[0])
    row["answer"] += "（2026年起可在线办理）"
    lines[0] = json.dumps(row, ensure_ascii=False)
    changed = tmp_path / "k.jsonl"
    changed.write_text("\n".join(lines), encoding="utf-8")
    report = load_articles(changed, keep_current=True)
    assert report.updated == ["K001"] and len(report.unchanged) == 47
    k001 = Article.objects.get(code="K001")
    assert k001.version == 2 and k001.live.answer.endswith("在线办理）") and k001.state == S.PUBLISHED


def test_owners_that_are_no_unit_yet_become_departments_of_the_city(demo_city):
    from minsheng.accounts.models import Unit, UnitKind

    gas = Unit.objects.get(name="燃气公司")
    assert gas.kind == UnitKind.DEPARTMENT
    assert Article.objects.get(code="K021").owner_unit == gas
    # 社会治理中心 is the demo city's centre, not a new unit
    assert Article.objects.get(code="K043").owner_unit.kind == UnitKind.CENTRE
    assert Article.objects.get(code="K029").owner_unit.name == "人力社保局"
    assert Article.objects.get(code="K029").matter.code == "labor.wages"


def test_loadknowledge_command_reports_and_refuses_a_bad_file(db, city, tmp_path, capsys):
    call_command("loadknowledge", str(actions.DEMO_ARTICLES))
    assert "48 created" in capsys.readouterr().out
    call_command("loadknowledge", str(actions.DEMO_ARTICLES))
    assert "48 unchanged" in capsys.readouterr().out
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "K900", "title": "无答案"}\n', encoding="utf-8")
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="answer"):
        call_command("loadknowledge", str(bad))


def test_suggest_answers_command_prints_one_line_per_input(demo_city, tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text(
        '{"id": "a", "text": "我的身份证丢了要怎么补"}\n{"id": "b", "text": "今天天气怎么样"}\n',
        encoding="utf-8",
    )
    call_command("suggest-answers", input=str(src))
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["id"] for x in lines] == ["a", "b"]
    for x in lines:
        assert set(x) == {"id", "articles", "answerable"}
        assert len(x["articles"]) <= 3
        assert all(set(a) == {"code", "title", "score"} for a in x["articles"])
    assert lines[0]["articles"][0]["code"] == "K008" and lines[0]["answerable"] is True
    assert lines[1]["answerable"] is False


def test_a_large_knowledge_base_is_rebuilt_in_the_background_and_never_suggests_what_left(
    demo_city, settings
):
    """Above the sync limit the previous engine answers while the next is built; what it
    suggests is checked against the articles served now."""
    import threading

    settings.MINSHENG_KNOWLEDGE_SYNC_BUILD_MAX = 0  # every rebuild in the background
    question = "孩子刚出生，看病能报销的那个怎么给他弄上"
    assert queries.suggest_answers(question)["articles"][0]["code"] == "K001"  # first build: in the request
    k001 = Article.objects.get(code="K001")
    actions.expire_article(city_actor("dispatcher"), k001.pk)
    stale = queries.suggest_answers(question)  # the old engine answers at once ...
    assert "K001" not in [a["code"] for a in stale["articles"]]  # ... without the expired article
    assert stale["answerable"] is False
    builds = [t for t in threading.enumerate() if t.name == "knowledge-engine-build"]
    assert builds, "the next engine is being built in the background"
    for t in builds:
        t.join(timeout=60)
    fresh = queries.suggest_answers(question)
    assert "K001" not in [a["code"] for a in fresh["articles"]] and fresh["articles"]
    assert not [t for t in threading.enumerate() if t.name == "knowledge-engine-build"]


def test_the_demo_city_loaded_years_after_its_file_still_answers_callers(db):
    """The demo's articles are valid until 2027-12-31; loaded on 2029-03-01 their dates move
    forward by whole years, so the seat still suggests them. A city's own file is loaded
    as written."""
    from minsheng.core import clock
    from minsheng.demo.actions import load_demo

    clock.set_now(dt.datetime(2029, 3, 1, 1, 0, tzinfo=dt.UTC))
    try:
        load_demo(with_cases=False)
        k001 = Article.objects.get(code="K001")
        assert k001.live.valid_until == dt.date(2029, 12, 31)
        got = queries.suggest_answers("孩子刚出生，看病能报销的那个怎么给他弄上")
        assert got["articles"][0]["code"] == "K001"
        as_written = load_articles()
        assert "K001" in as_written.updated  # the file's own date, already passed
        assert "K001" not in [a.code for a in queries.served_texts()]
    finally:
        clock.set_now(None)


def test_a_date_moves_forward_by_whole_years():
    still = actions._still_valid
    assert still(dt.date(2027, 12, 31), dt.date(2026, 12, 7)) == dt.date(2027, 12, 31)
    assert still(dt.date(2027, 12, 31), dt.date(2028, 1, 1)) == dt.date(2028, 12, 31)
    assert still(dt.date(2027, 12, 31), dt.date(2027, 12, 31)) == dt.date(2027, 12, 31)
    assert still(dt.date(2028, 2, 29), dt.date(2028, 3, 1)) == dt.date(2029, 2, 28)
