"""The provincial platform connector (上下级平台) against a simulated platform: a real HTTP
server on loopback (minsheng.province.simulator) that checks our signatures and, in the
failure tests, refuses half of all requests (seeded). Cases come down by signed webhook or
by polling, each once; every change goes back through the outbox and none is lost."""

from __future__ import annotations

import json

import pytest

from minsheng.accounts.models import Unit, UnitKind
from minsheng.cases import actions as case_actions
from minsheng.cases.models import Case, CaseEvent
from minsheng.core import clock
from minsheng.notify.delivery import deliver_due
from minsheng.notify.models import OutboxMessage, OutboxStatus, UnitChannel
from minsheng.notify.signing import signed_headers
from minsheng.province import actions
from minsheng.province.models import PollState, ProvincialCase, Via
from minsheng.province.simulator import Platform
from tests.common.factories import City

pytestmark = pytest.mark.django_db

SECRET = "shared-with-the-province"


def connect(platform: Platform, settings, monkeypatch) -> None:
    settings.MINSHENG_PROVINCE_SECRET = SECRET
    settings.MINSHENG_PROVINCE_URL = platform.base
    settings.MINSHENG_NOTIFY_ALLOWED_NETWORKS = "127.0.0.0/8"
    monkeypatch.setenv("MINSHENG_NOTIFY_ALLOWED_NETWORKS", "127.0.0.0/8")
    unit = Unit.objects.create(code="province-12345", name="省12345平台", kind=UnitKind.DEPARTMENT)
    UnitChannel.objects.create(unit=unit, kind="webhook", url=f"{platform.base}/status", secret=SECRET)


def sent_down(n: int, *, category: str = "road.manhole") -> dict:
    lat, lng = City.POINTS["east.a"]
    return {
        "province_id": f"ZJ12345-{n:04d}",
        "text": f"省平台转办：人行道井盖缺失 {n}",
        "lat": lat,
        "lng": lng,
        "category": category,
        "requester_phone": "13812345678",
    }


def post_signed(client, payload: dict, *, secret: str = SECRET, timestamp: float | None = None):
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = signed_headers(secret, body, timestamp=timestamp)
    return client.post(
        "/api/v1/province/cases",
        data=body,
        content_type="application/json",
        headers={k: v for k, v in headers.items() if k != "Content-Type"},
    )


def drain(now, rounds: int = 60) -> int:
    """Deliver the outbox until nothing is pending, moving the clock past each back-off."""
    for i in range(rounds):
        deliver_due(clock.now())
        if not OutboxMessage.objects.filter(status=OutboxStatus.PENDING).exists():
            return i + 1
        now.advance(hours=1)
    raise AssertionError("the outbox never emptied")


def test_a_signed_case_comes_down_once_mapped_and_its_status_goes_back(
    client, city, now, settings, monkeypatch
):
    with Platform(SECRET) as platform:
        connect(platform, settings, monkeypatch)
        r = post_signed(client, sent_down(1))
        assert r.status_code == 200, r.content
        body = r.json()
        assert not body["duplicate"] and body["province_id"] == "ZJ12345-0001"
        again = post_signed(client, sent_down(1))
        assert again.json()["duplicate"] and again.json()["case"] == body["case"]
        link = ProvincialCase.objects.get()
        assert link.case.number == body["case"] and link.via == Via.WEBHOOK
        assert Case.objects.count() == 1
        assert CaseEvent.objects.filter(case=link.case, action="province_received").count() == 1
        case_actions.sign_case(city.actor("roads"), link.case.pk)
        drain(now)
        latest = platform.latest_status()["ZJ12345-0001"]
        assert latest["state"] == "signed" and latest["case"] == body["case"]


@pytest.mark.parametrize("how", ["unsigned", "wrong secret", "stale"])
def test_a_case_not_genuine_or_not_fresh_is_refused(client, city, now, settings, monkeypatch, how):
    with Platform(SECRET) as platform:
        connect(platform, settings, monkeypatch)
        if how == "unsigned":
            r = client.post(
                "/api/v1/province/cases", data=json.dumps(sent_down(1)), content_type="application/json"
            )
        elif how == "wrong secret":
            r = post_signed(client, sent_down(1), secret="guess")
        else:
            r = post_signed(client, sent_down(1), timestamp=clock.timestamp() - 400)
        assert r.status_code == 401
        assert not Case.objects.exists() and not ProvincialCase.objects.exists()


def test_a_bad_case_is_refused_naming_the_field(client, city, now, settings, monkeypatch):
    with Platform(SECRET) as platform:
        connect(platform, settings, monkeypatch)
        r = post_signed(client, sent_down(1, category="no.such.matter"))
        assert r.status_code == 422 and "category" in json.dumps(r.json())
        assert not Case.objects.exists() and not ProvincialCase.objects.exists()


def test_polling_takes_what_no_webhook_brought_and_nothing_twice(client, city, now, settings, monkeypatch):
    with Platform(SECRET, page=2) as platform:
        connect(platform, settings, monkeypatch)
        for n in range(1, 6):
            platform.send_down(sent_down(n))
        post_signed(client, sent_down(3))  # this one also came by webhook
        result = actions.poll_pass(now())
        assert result.asked and not result.error
        assert (result.taken, result.duplicates) == (4, 1)
        assert ProvincialCase.objects.count() == 5 == Case.objects.count()
        assert ProvincialCase.objects.filter(via=Via.POLL).count() == 4
        # Not again before the interval; then again, with nothing new.
        assert not actions.poll_pass(now()).asked
        now.advance(minutes=2)
        again = actions.poll_pass(now())
        assert again.asked and again.taken == 0
        assert PollState.objects.get().cursor == "5"


def test_a_partner_failing_half_the_time_loses_nothing(client, city, now, settings, monkeypatch):
    """Half of every request to the platform fails (seeded): polling keeps its cursor until a
    page is taken, the outbox retries every status; in the end every case sent down is ours
    exactly once and the platform holds the latest state of each."""
    with Platform(SECRET, fail_rate=0.5, seed=17, page=3) as platform:
        connect(platform, settings, monkeypatch)
        for n in range(1, 13):
            platform.send_down(sent_down(n))
        passes = 0
        while ProvincialCase.objects.count() < 12:
            passes += 1
            assert passes < 60, "polling never caught up"
            actions.poll_pass(now(), force=True)
            now.advance(minutes=1)
        assert Case.objects.count() == 12
        assert len(set(ProvincialCase.objects.values_list("province_id", flat=True))) == 12
        # Each case moves on; every change is owed to the platform.
        roads = city.actor("roads")
        for link in ProvincialCase.objects.select_related("case"):
            case_actions.sign_case(roads, link.case.pk)
            case_actions.dispatch_case(roads, link.case.pk, people=["王师傅"])
            case_actions.feedback_case(roads, link.case.pk, note=f"已处理 {link.province_id}")
        owed = OutboxMessage.objects.filter(kind="province_status").count()
        assert owed == 12 * 4  # intake, sign, dispatch, feedback of each
        drain(now)
        assert platform.requests["failed"] > 0  # the partner did fail, and often
        assert OutboxMessage.objects.filter(kind="province_status", status=OutboxStatus.SENT).count() == owed
        assert len(platform.statuses) == owed  # every message taken, once each
        latest = platform.latest_status()
        assert sorted(latest) == sorted(f"ZJ12345-{n:04d}" for n in range(1, 13))
        assert {s["state"] for s in latest.values()} == {"feedback"}
        assert all(s["result"] == f"已处理 {pid}" for pid, s in latest.items())
