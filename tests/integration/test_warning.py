"""Early warning (预警): reports clustering at one place about one matter beyond their usual
level raise a warning that becomes a governance topic (专题) with an owner unit, a deadline
and its linked cases (each case's log says so); the owner is told through the outbox; the
detector reads only the cases since its last pass; the city's rule per matter is obeyed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from minsheng.cases.errors import Forbidden, Invalid
from minsheng.cases.models import CaseEvent
from minsheng.core import clock
from minsheng.notify.models import OutboxMessage
from minsheng.warning import actions
from minsheng.warning.models import Topic, TopicCase, TopicState, WarningRule
from minsheng.worker.loop import run_pass
from tests.common.factories import PASSWORD, intake

pytestmark = pytest.mark.django_db

SEWAGE = "water.sewage"


def report(city, minutes_later=0, *, point="east.a", category=SEWAGE, channel="hotline", **kw):
    clock.advance(dt.timedelta(minutes=minutes_later))
    return intake(city, point=point, category=category, channel=channel, text="村里污水冒出来了", **kw)


def settle():
    """Past the detector's settling time, then one worker pass."""
    clock.advance(actions.SETTLE + dt.timedelta(seconds=1))
    return run_pass(deliver=False)


def test_ten_calls_about_one_village_in_an_hour_become_one_topic_with_every_case(city, now):
    first = report(city)
    second = report(city, 20)
    third = report(city, 5, channel="grid")
    settle()
    assert not Topic.objects.exists()  # three might come by chance (the city's default)
    fourth = report(city, 15, channel="rider")  # riders and citizens count together
    settle()
    topic = Topic.objects.get()
    assert topic.state == TopicState.OPEN
    assert topic.place == city.places["east.a"] and topic.matter == city.matters[SEWAGE]
    assert topic.count == 4 and topic.expected < 0.1
    assert topic.owner_unit == city.units["water"]  # the matter's unit
    assert topic.deadline == topic.raised_at + dt.timedelta(hours=72)
    linked = set(TopicCase.objects.filter(topic=topic).values_list("case__number", flat=True))
    assert linked == {first.number, second.number, third.number, fourth.number}
    entry = CaseEvent.objects.get(case=first, action="topic_linked")
    assert entry.data == {"topic": topic.pk} and entry.note == topic.title
    message = OutboxMessage.objects.get(kind="warning_raised")
    assert message.unit == city.units["water"] and message.context["count"] == 4

    later = [report(city, 5) for _ in range(6)]
    settle()
    assert Topic.objects.count() == 1  # the open topic takes the rest of the cluster
    assert TopicCase.objects.filter(topic=topic).count() == 10
    assert CaseEvent.objects.filter(case=later[-1], action="topic_linked").exists()


def test_another_place_or_matter_is_another_key(city, now):
    report(city)
    report(city, 10, point="east.b")
    report(city, 10, category="road.manhole")
    settle()
    assert not Topic.objects.exists()


def test_the_usual_level_at_that_hour_of_that_weekday_is_not_a_warning(city, now):
    start = clock.now()
    for weeks in range(1, 5):  # four past Mondays, three reports around nine each
        clock.set_now(start - dt.timedelta(weeks=weeks))
        for _ in range(3):
            report(city, 15)
    clock.set_now(start)
    settle()  # the detector's first pass starts a day back: the history is not judged
    assert not Topic.objects.exists()
    report(city)
    report(city, 10)
    report(city, 10)
    settle()
    assert not Topic.objects.exists()  # three in an hour is what this village sees on Mondays
    for _ in range(7):
        report(city, 4)
    settle()
    topic = Topic.objects.get()  # ten is not
    assert topic.count == 10 and topic.expected >= 1.0


def test_the_city_sets_the_rule_per_matter(city, now):
    WarningRule.objects.create(
        matter=city.matters[SEWAGE], min_count=5, deadline_hours=24, owner_unit=city.units["sub-east"]
    )
    for _ in range(4):
        report(city, 5)
    settle()
    assert not Topic.objects.exists()
    report(city, 5)
    settle()
    topic = Topic.objects.get()
    assert topic.owner_unit == city.units["sub-east"]
    assert topic.deadline == topic.raised_at + dt.timedelta(hours=24)


def test_a_territorial_matter_goes_to_the_towns_subcentre(city, now):
    for _ in range(4):
        report(city, 5, category="neighbor.dispute")
    settle()
    assert Topic.objects.get().owner_unit == city.units["sub-east"]


def test_the_pass_reads_only_the_cases_since_the_last_one(city, now):
    for _ in range(4):
        report(city, 5)
    settle()
    assert Topic.objects.count() == 1
    clock.advance(dt.timedelta(minutes=1))
    with CaptureQueriesContext(connection) as ctx:
        assert actions.detect_pass(clock.now()) == 0
    sql = [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(sql) == 2  # the cursor and one look for new cases
    assert TopicCase.objects.count() == 4  # nothing judged or linked twice


def test_a_case_not_yet_settled_waits_for_the_next_pass(city, now):
    for _ in range(4):
        report(city, 1)
    assert actions.detect_pass(clock.now()) == 0
    clock.advance(actions.SETTLE)
    assert actions.detect_pass(clock.now()) == 1


def test_the_owner_closes_the_topic_with_what_was_done(city, now):
    for _ in range(4):
        report(city, 5)
    settle()
    topic = Topic.objects.get()
    with pytest.raises(Forbidden):
        actions.close_topic(city.actor("sub_east"), topic.pk, conclusion="不是我们的")  # sees, owns not
    with pytest.raises(Invalid) as refused:
        actions.close_topic(city.actor("water"), topic.pk, conclusion="  ")
    assert refused.value.field == "conclusion"
    closed = actions.close_topic(city.actor("water"), topic.pk, conclusion="更换破损污水管 30 米")
    assert closed.state == TopicState.CLOSED and closed.closed_by == "water"
    # Closed: the next cluster at the same place is a new topic.
    for _ in range(4):
        report(city, 5)
    settle()
    assert Topic.objects.filter(state=TopicState.OPEN).count() == 1


# --- pages and the screen --------------------------------------------------------------------


def _login(client, username):
    assert client.login(username=username, password=PASSWORD)
    return client


def _raise(city):
    for _ in range(4):
        report(city, 5)
    settle()
    return Topic.objects.get()


def test_the_list_and_the_topic_page_by_who_may_see(city, now, client):
    topic = _raise(city)
    page = _login(client, "leader").get("/warnings/").content.decode()
    assert topic.title in page
    page = client.get(f"/warnings/{topic.pk}/").content.decode()
    assert all(c.number in page for c in [link.case for link in topic.links.all()])
    assert 'name="conclusion"' not in page  # a leader reads; the owner closes
    client.logout()
    assert topic.title in _login(client, "sub_east").get("/warnings/").content.decode()
    client.logout()
    _login(client, "sub_west")
    assert topic.title not in client.get("/warnings/").content.decode()
    assert client.get(f"/warnings/{topic.pk}/").status_code == 404


def test_closing_on_the_page_refuses_an_empty_conclusion_and_keeps_nothing(city, now, client):
    topic = _raise(city)
    _login(client, "water")
    page = client.get(f"/warnings/{topic.pk}/").content.decode()
    assert 'name="conclusion"' in page
    refused = client.post(f"/warnings/{topic.pk}/close/", {"conclusion": " "})
    assert refused.status_code == 422 and 'aria-invalid="true"' in refused.content.decode()
    topic.refresh_from_db()
    assert topic.state == TopicState.OPEN
    done = client.post(f"/warnings/{topic.pk}/close/", {"conclusion": "管道已疏通"})
    assert done.status_code == 302
    topic.refresh_from_db()
    assert topic.state == TopicState.CLOSED and topic.conclusion == "管道已疏通"


def test_the_screen_shows_the_warning_in_its_tile_and_feed(city, now, client):
    topic = _raise(city)
    _login(client, "dispatcher")
    data = client.get("/command/data.json").json()
    tile = next(t for t in data["tiles"] if t["key"] == "warnings")
    assert tile["values"]["today"]["value"] == 1 and tile["values"]["month"]["value"] == 1
    items = client.get("/command/feed/?format=json").json()["items"]
    assert any(i["key"] == f"topic:{topic.pk}" and i["url"] == f"/warnings/{topic.pk}/" for i in items)
    client.logout()
    _login(client, "sub_west")
    items = client.get("/command/feed/?format=json").json()["items"]
    assert not any(i["key"].startswith("topic:") for i in items)


def test_the_demo_history_holds_a_warning_raised_in_its_hourly_passes(db, now, settings):
    from minsheng.demo.actions import load_demo

    settings.MINSHENG_AUTO_DISPATCH = True
    load_demo(history_days=4)
    topic = Topic.objects.get()  # seven calls about no water in one village, two days ago
    assert topic.matter.code == "water.supply" and topic.count >= 4
    assert topic.raised_at < clock.now() - dt.timedelta(days=1)  # raised when it happened
    assert TopicCase.objects.filter(topic=topic).count() == 7
