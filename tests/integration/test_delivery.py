"""Delivering the outbox: fan-out to in-app and each unit's robots, retries with back-off,
parking, no losses and no duplicates people see, leases between workers, editable texts,
and the bell."""

from __future__ import annotations

import collections
import datetime as dt
import signal
import subprocess
import sys
import threading
import time

import pytest
from django.contrib.auth import get_user_model
from django.db import close_old_connections, connection
from django.test import RequestFactory
from django.urls import include, path, reverse

from minsheng.core import clock
from minsheng.notify import delivery
from minsheng.notify.actions import enqueue
from minsheng.notify.context_processors import unread
from minsheng.notify.delivery import deliver_due
from minsheng.notify.models import (
    Delivery,
    MessageTemplate,
    Notification,
    OutboxMessage,
    OutboxStatus,
    UnitChannel,
)
from minsheng.notify.testing import Receiver
from tests.common.factories import intake
from tests.common.processes import child_env

pytestmark = pytest.mark.django_db

SECRET = "SECfedcba9876543210fedcba9876543210fedcba9876543210fedcba98765432"
ROADS_STAFF = ("roads", "field_roads", "field_roads2")


@pytest.fixture(autouse=True)
def _loopback_receivers_allowed(settings, monkeypatch):
    """The receivers listen on loopback, which a unit's channel may not reach unless the city
    allows it (``notify/addresses.py``); the worker processes started here read it too."""
    settings.MINSHENG_NOTIFY_ALLOWED_NETWORKS = "127.0.0.0/8"
    monkeypatch.setenv("MINSHENG_NOTIFY_ALLOWED_NETWORKS", "127.0.0.0/8")


def __getattr__(name: str):
    """``urlpatterns`` for ``@pytest.mark.urls(__name__)``: the bell's pages mounted beside
    the project's, built on first use so that collecting these tests imports no pages."""
    if name == "urlpatterns":
        from minsheng.urls import urlpatterns as project

        return [path("notifications/", include("minsheng.notify.urls")), *project]
    raise AttributeError(name)


class Crash(BaseException):
    """Stands for the process dying: not an Exception, so nothing catches it."""


def _robot(city, rx: Receiver, unit: str = "roads", kind: str | None = None) -> UnitChannel:
    return UnitChannel.objects.create(
        unit=city.units[unit], kind=kind or rx.kind, url=rx.url, secret=rx.secret, name=f"{unit} 群"
    )


def _to_roads(city, n: int, kind: str = "case_supervised") -> list[OutboxMessage]:
    return [
        enqueue(kind, unit=city.units["roads"], context={"number": f"T-{i:04d}", "note": "抓紧"})
        for i in range(n)
    ]


def _drain(now, *, step=dt.timedelta(hours=1), rounds=200, **kw) -> None:
    """Run the worker until nothing is pending, moving the clock past every back-off."""
    for _ in range(rounds):
        deliver_due(clock.now(), limit=500, **kw)
        if not OutboxMessage.objects.filter(status=OutboxStatus.PENDING).exists():
            return
        clock.advance(step)
    raise AssertionError("the outbox never drained")


# --- fan-out ----------------------------------------------------------------------------


def test_a_unit_message_reaches_every_staff_member_and_the_units_robot(city, now, caplog):
    with Receiver("dingtalk", secret=SECRET) as rx:
        _robot(city, rx)
        case = intake(city)  # → case_accepted (requester, SMS) and case_assigned (roads)
        result = deliver_due(now())
        assert result.sent == 2 and result.claimed == 2

        assigned = OutboxMessage.objects.get(kind="case_assigned", case=case)
        assert assigned.status == OutboxStatus.SENT and assigned.sent_at == now()
        notes = Notification.objects.filter(message=assigned)
        assert sorted(n.user.username for n in notes) == sorted(ROADS_STAFF)
        note = notes.first()
        assert case.number in note.title and case.title in note.body
        assert note.url == reverse("web:case", args=[case.pk])

        assert rx.counts() == {str(assigned.pk): 1}
        assert case.number in rx.texts()[0] and "1分钟内签收" in rx.texts()[0]
        assert set(Delivery.objects.filter(message=assigned).values_list("channel", "status")) == {
            ("inapp", "sent"),
            (f"dingtalk:{UnitChannel.objects.get().pk}", "sent"),
        }

    accepted = OutboxMessage.objects.get(kind="case_accepted", case=case)
    assert accepted.status == OutboxStatus.SENT
    assert Delivery.objects.get(message=accepted).channel == "sms"
    assert "138****5678" in caplog.text  # the logging SMS gateway, masked


def test_requester_texts_carry_the_follow_link_when_the_public_url_is_known(city, now, settings):
    settings.MINSHENG_PUBLIC_URL = "https://12345.example.gov.cn/"
    case = intake(city)
    message = OutboxMessage.objects.get(kind="case_accepted", case=case)
    text = delivery.render(message)
    assert text.body.startswith(f"【{settings.MINSHENG_CITY_NAME}民声】")
    assert f"https://12345.example.gov.cn/track/{case.public_token}/" in text.body
    assert case.number in text.body


def test_a_dispatched_worker_is_told_in_app(city, now):
    from minsheng.cases import actions

    case = intake(city)
    actions.sign_case(city.actor("roads"), case.pk)
    actions.dispatch_case(city.actor("roads"), case.pk, people=["field_roads"])
    deliver_due(now())
    (note,) = Notification.objects.filter(message__kind="case_dispatched")
    assert note.user == city.users["field_roads"] and case.number in note.title


def test_clock_texts_say_which_clock_in_local_time(city, now):
    message = enqueue(
        "clock_warning",
        unit=city.units["roads"],
        context={
            "number": "MS-1",
            "title": "井盖",
            "clock": "sign",
            "due_at": dt.datetime(2026, 11, 23, 1, 5, tzinfo=dt.UTC).isoformat(),
        },
    )
    body = delivery.render(message).body
    assert "签收时限将于 11月23日 09:05 到期" in body  # Asia/Shanghai


# --- retries, back-off, parking ---------------------------------------------------------


def test_failures_back_off_exponentially_then_park_visible_in_the_admin(city, now, settings, client):
    settings.MINSHENG_NOTIFY_MAX_ATTEMPTS = 4
    with Receiver("webhook", secret="hook-secret") as rx:
        rx.fail_always = True
        _robot(city, rx)
        (message,) = _to_roads(city, 1)
        start = now()
        delays = []
        for attempt in range(1, 4):
            result = deliver_due(now())
            assert result.retried == 1 and result.sent == 0
            message.refresh_from_db()
            assert message.attempts == attempt and message.status == OutboxStatus.PENDING
            assert "HTTP 503" in message.last_error
            delays.append((message.next_attempt_at - now()).total_seconds())
            # Not due yet: a pass now claims nothing.
            assert deliver_due(now()).claimed == 0
            clock.set_now(message.next_attempt_at)
        # 30 s, 60 s, 120 s, each ±20%.
        for delay, nominal in zip(delays, (30, 60, 120), strict=True):
            assert 0.8 * nominal <= delay <= 1.2 * nominal
        assert deliver_due(now()).parked == 1
        message.refresh_from_db()
        assert message.status == OutboxStatus.PARKED and message.attempts == 4
        assert now() > start
        # In-app went out on the first attempt, and only once.
        assert Notification.objects.filter(message=message).count() == len(ROADS_STAFF)

        # Parked messages are listed for administrators, and "retry" puts them back.
        root = get_user_model().objects.create_superuser("root", password="x")
        client.force_login(root)
        page = client.get("/admin/notify/outboxmessage/?attention=parked")
        assert page.status_code == 200
        assert f'value="{message.pk}"' in page.content.decode()
        assert "HTTP 503" in page.content.decode()
        client.post(
            "/admin/notify/outboxmessage/", {"action": "retry_messages", "_selected_action": [message.pk]}
        )
        message.refresh_from_db()
        assert message.status == OutboxStatus.PENDING and message.attempts == 0

        rx.fail_always = False
        assert deliver_due(now()).sent == 1
        assert rx.counts() == {str(message.pk): 1}
        assert Notification.objects.filter(message=message).count() == len(ROADS_STAFF)


def test_a_partial_failure_only_retries_the_channels_still_missing(city, now):
    with Receiver("dingtalk", secret=SECRET) as robot, Receiver("webhook", secret="w") as hook:
        _robot(city, robot)
        _robot(city, hook)
        hook.fail_always = True
        (message,) = _to_roads(city, 1)
        assert deliver_due(now()).retried == 1
        hook.fail_always = False
        now.advance(minutes=1)
        assert deliver_due(now()).sent == 1
        assert robot.counts() == {str(message.pk): 1}  # not sent again
        assert hook.counts() == {str(message.pk): 1}
        assert Notification.objects.filter(message=message).count() == len(ROADS_STAFF)
        assert Delivery.objects.get(message=message, channel__startswith="webhook").attempts == 2


def test_a_receiver_failing_half_the_time_gets_every_message_exactly_once(city, now, settings):
    settings.MINSHENG_NOTIFY_MAX_ATTEMPTS = 40
    with Receiver("webhook", secret="w", fail_rate=0.5, seed=7) as rx:
        _robot(city, rx)
        messages = _to_roads(city, 150)
        _drain(now)
        assert len(rx.refused) > 50  # it really did fail a lot
    expected = {str(m.pk) for m in messages}
    assert set(rx.counts()) == expected  # nothing lost
    assert set(rx.counts().values()) == {1}  # nothing twice
    assert OutboxMessage.objects.filter(status=OutboxStatus.SENT).count() == 150
    per_user = Notification.objects.values_list("user_id", "message_id")
    assert len(per_user) == 150 * len(ROADS_STAFF) == len(set(per_user))


def test_one_bad_message_does_not_stop_the_batch(city, now, monkeypatch):
    messages = _to_roads(city, 3)
    bad = messages[1].pk
    real = delivery.Templates.render

    def render(self, message):
        if message.pk == bad:
            raise RuntimeError("boom")
        return real(self, message)

    monkeypatch.setattr(delivery.Templates, "render", render)
    result = deliver_due(now())
    assert result.sent == 2 and result.retried == 1 and "boom" in result.errors[bad]
    assert OutboxMessage.objects.get(pk=bad).attempts == 1


def test_a_unit_nobody_can_hear_is_marked_with_a_note(city, now):
    message = enqueue("case_supervised", unit=city.units["gr-east.b"], context={"number": "X", "note": "n"})
    assert deliver_due(now()).sent == 1
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT and "nobody to tell" in message.last_error


# --- crashes ------------------------------------------------------------------------------


def test_a_crash_before_commit_does_not_duplicate_in_app_notifications(city, now, monkeypatch):
    (message,) = _to_roads(city, 1)
    real = delivery._mark_sent
    calls = {"n": 0}

    def mark_sent(*args, **kw):
        calls["n"] += 1
        if calls["n"] == 1:
            raise Crash  # dies after writing the notifications, before the commit
        return real(*args, **kw)

    monkeypatch.setattr(delivery, "_mark_sent", mark_sent)
    with pytest.raises(Crash):
        deliver_due(now())
    assert Notification.objects.filter(message=message).count() == 0  # rolled back together
    # Still leased by the dead worker: nobody takes it until the lease runs out.
    assert deliver_due(now()).claimed == 0
    now.advance(seconds=delivery.lease_seconds() + 1)
    assert deliver_due(now()).sent == 1
    assert Notification.objects.filter(message=message).count() == len(ROADS_STAFF)


def test_a_redelivery_of_a_sent_message_never_shows_twice_in_app(city, now):
    (message,) = _to_roads(city, 1)
    deliver_due(now())
    # As if the record of delivery had been lost: the message is pending again.
    Delivery.objects.filter(message=message).delete()
    OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxStatus.PENDING, sent_at=None)
    assert deliver_due(now()).sent == 1
    assert Notification.objects.filter(message=message).count() == len(ROADS_STAFF)


def test_a_crash_between_a_robots_200_and_the_commit_repeats_with_the_same_id(city, now, monkeypatch):
    """The one window in which an external service can see a message twice; the repeat
    carries the same message id (dedupe key), and in-app still shows once."""
    with Receiver("wecom") as rx:
        _robot(city, rx)
        (message,) = _to_roads(city, 1)
        real = delivery.record_delivery

        def record(message_id, channel, status, at, error="", **kw):
            if channel.startswith("wecom") and not getattr(record, "crashed", False):
                record.crashed = True
                raise Crash
            return real(message_id, channel, status, at, error, **kw)

        monkeypatch.setattr(delivery, "record_delivery", record)
        with pytest.raises(Crash):
            deliver_due(now())
        now.advance(seconds=delivery.lease_seconds() + 1)
        assert deliver_due(now()).sent == 1
        assert rx.counts() == {str(message.pk): 2}
        assert all(f"#{message.pk}" in t for t in rx.texts())
        assert Notification.objects.filter(message=message).count() == len(ROADS_STAFF)


# --- leases -------------------------------------------------------------------------------


def test_a_leased_message_is_not_taken_by_another_worker_until_the_lease_ends(city, now):
    messages = _to_roads(city, 5)
    lease_end = now() + dt.timedelta(seconds=delivery.lease_seconds())
    claimed = delivery._claim(now(), 3, "worker-a/1", lease_end)
    assert len(claimed) == 3
    second = deliver_due(now(), worker_id="worker-b")
    assert second.claimed == 2 and second.sent == 2
    assert set(OutboxMessage.objects.filter(status="pending").values_list("pk", flat=True)) == set(claimed)
    # Worker A is gone; once its lease has run out, B takes the rest.
    clock.set_now(lease_end)
    assert deliver_due(now(), worker_id="worker-b").sent == 3
    assert Notification.objects.count() == len(messages) * len(ROADS_STAFF)


def test_a_worker_that_lost_its_lease_does_not_mark_the_message(city, now):
    (message,) = _to_roads(city, 1)
    # Someone else holds it (A's lease ran out and B took it): A's result is not written.
    OutboxMessage.objects.filter(pk=message.pk).update(
        claimed_by="worker-b/x", claimed_until=now() + dt.timedelta(minutes=5)
    )
    batch = delivery._Batch.load([message])
    outcome, _ = delivery._deliver_one(message, batch, now(), "worker-a/y")
    assert outcome == "lost"
    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING and message.claimed_by == "worker-b/x"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_never_deliver_the_same_message_twice(city, now):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL=postgresql://…); SQLite runs one worker")
    with Receiver("webhook", secret="w", delay=0.002) as rx:
        _robot(city, rx)
        messages = _to_roads(city, 400)
        at = now()
        errors: list[BaseException] = []

        def work(name: str) -> None:
            try:
                while deliver_due(at, limit=25, worker_id=name).claimed:
                    pass
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                close_old_connections()
                connection.close()

        threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors
        assert rx.counts() == collections.Counter({str(m.pk): 1 for m in messages})
    assert OutboxMessage.objects.filter(status=OutboxStatus.SENT).count() == 400


@pytest.mark.django_db(transaction=True)
def test_killing_the_worker_loses_nothing_and_duplicates_nothing_in_app(city, now):
    """A real worker process, killed mid-run with SIGKILL, then the rest delivered."""
    with Receiver("webhook", secret="w", delay=0.003) as rx:
        _robot(city, rx)
        messages = _to_roads(city, 300)  # due now, on the test's clock, which the worker runs on
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "minsheng", "worker", "--max-sleep", "0.05"],
            env=child_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and sum(rx.counts().values()) < 60:
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        seen = sum(rx.counts().values())
        assert 0 < seen < len(messages), "the kill should land mid-run"
        # The dead worker's clock ran on from ours while it lived; once its last lease
        # runs out, another pass takes the rest.
        ran = time.monotonic() - started
        later = clock.now() + dt.timedelta(seconds=ran + delivery.lease_seconds() + 1)
        while deliver_due(later, limit=500).claimed:
            pass
        counts = rx.counts()
    assert set(counts) == {str(m.pk) for m in messages}  # nothing lost
    # At most the one message in flight at the kill went out twice, with the same id.
    assert sum(counts.values()) - len(messages) <= 1
    pairs = list(Notification.objects.values_list("user_id", "message_id"))
    assert len(pairs) == len(set(pairs)) == len(messages) * len(ROADS_STAFF)


# --- templates ----------------------------------------------------------------------------


def test_every_kind_has_a_seeded_chinese_template():
    from minsheng.notify.defaults import DEFAULT_TEMPLATES

    seeded = dict(MessageTemplate.objects.values_list("kind", "body"))
    assert set(DEFAULT_TEMPLATES) <= set(seeded)
    for kind in (
        "case_accepted",
        "case_assigned",
        "case_feedback",
        "clock_warning",
        "clock_breach",
        "joint_group_formed",
    ):
        assert kind in seeded


def test_editing_a_template_changes_the_next_message(city, now):
    with Receiver("dingtalk", secret=SECRET) as rx:
        _robot(city, rx)
        intake(city)
        deliver_due(now())
        template = MessageTemplate.objects.get(kind="case_assigned")
        template.title = "请签收 {{ number }}"
        template.body = "{{ unit }} 有新工单：{{ title }}（{{ city }}）"
        template.save()
        second = intake(city, text="路灯坏了好几天")
        deliver_due(now())
        assert rx.texts()[-1].startswith(f"请签收 {second.number}\n住建局 有新工单：路灯坏了好几天")
        note = Notification.objects.get(message__case=second, user=city.users["roads"])
        assert note.title == f"请签收 {second.number}"


def test_a_template_broken_in_the_admin_falls_back_to_the_shipped_text(city, now):
    MessageTemplate.objects.filter(kind="case_supervised").update(body="{% if %}")
    (message,) = _to_roads(city, 1)
    assert deliver_due(now()).sent == 1
    assert "被督办" in Notification.objects.filter(message=message).first().body


def test_the_admin_refuses_a_template_that_does_not_compile():
    from django.core.exceptions import ValidationError

    template = MessageTemplate(kind="x", title="ok", body="{% for %}")
    with pytest.raises(ValidationError):
        template.full_clean()


# --- the bell -----------------------------------------------------------------------------


def test_the_unread_count_is_one_cheap_query(city, now, django_assert_num_queries):
    _to_roads(city, 3)
    deliver_due(now())
    request = RequestFactory().get("/")
    request.user = city.users["roads"]
    context = unread(request)
    with django_assert_num_queries(1):
        assert int(str(context["notify_unread"])) == 3
    request.user = city.users["water"]
    assert not unread(request)["notify_unread"]


@pytest.mark.urls(__name__)
def test_people_read_their_own_notifications_and_only_theirs(city, now, client):
    messages = _to_roads(city, 2)
    deliver_due(now())
    client.force_login(city.users["roads"])
    page = client.get(reverse("notify:list"))
    assert page.status_code == 200
    assert page.content.decode().count('class="notify-item unread"') == 2
    mine = Notification.objects.get(user=city.users["roads"], message=messages[0])
    theirs = Notification.objects.get(user=city.users["field_roads"], message=messages[0])
    assert client.post(reverse("notify:read", args=[theirs.pk])).status_code == 404
    response = client.post(reverse("notify:read", args=[mine.pk]), {"next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == reverse("notify:list")
    mine.refresh_from_db()
    assert mine.read_at == now()
    bell = client.get(reverse("notify:bell")).content.decode()
    assert '<span class="count count-alert">1</span>' in bell
    client.post(reverse("notify:read_all"))
    assert not Notification.objects.filter(user=city.users["roads"], read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


@pytest.mark.urls(__name__)
def test_the_bell_pages_need_a_sign_in(client):
    response = client.get(reverse("notify:list"))
    assert response.status_code == 302 and "login" in response["Location"]
