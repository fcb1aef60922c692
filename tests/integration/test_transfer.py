"""110 ↔ 12345 two-way transfer (双向移交) against a simulated 110: its signed requests to our
API (transfers in, receipts) through the test client, and its webhook receiver (a real HTTP
server on loopback that checks our signature and may fail) for everything we owe it through
the outbox."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from minsheng.accounts.models import Unit, UnitKind
from minsheng.cases.errors import Conflict, Forbidden, Invalid
from minsheng.cases.models import Case, CaseEvent
from minsheng.cases.states import State
from minsheng.core import clock
from minsheng.notify.delivery import deliver_due
from minsheng.notify.models import OutboxMessage, OutboxStatus, UnitChannel
from minsheng.notify.signing import signed_headers
from minsheng.notify.testing import Receiver
from minsheng.transfer import actions, queries
from minsheng.transfer.models import (
    IncomingState,
    IncomingTransfer,
    OutgoingTransfer,
    ReceiptState,
    TransferItem,
)
from minsheng.worker.loop import run_pass
from tests.common.factories import intake

pytestmark = pytest.mark.django_db

SECRET = "shared-with-110"
HOOK_SECRET = "110-hook"


@pytest.fixture
def police(city, now, settings, monkeypatch):
    """110 as Minsheng knows it: the shared secret, and a unit whose webhook is 110's
    receiver on loopback."""
    settings.MINSHENG_TRANSFER_110_SECRET = SECRET
    settings.MINSHENG_NOTIFY_ALLOWED_NETWORKS = "127.0.0.0/8"
    monkeypatch.setenv("MINSHENG_NOTIFY_ALLOWED_NETWORKS", "127.0.0.0/8")
    unit = Unit.objects.create(code="police-110", name="110指挥中心", kind=UnitKind.DEPARTMENT)
    with Receiver("webhook", secret=HOOK_SECRET) as rx:
        UnitChannel.objects.create(unit=unit, kind="webhook", url=rx.url, secret=HOOK_SECRET)
        yield rx


def post_signed(client, path: str, payload: dict, *, secret: str = SECRET, timestamp: float | None = None):
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = signed_headers(secret, body, timestamp=timestamp)
    return client.post(
        path,
        data=body,
        content_type="application/json",
        headers={k: v for k, v in headers.items() if k != "Content-Type"},
    )


def transfer_payload(ref: str = "110-20261123-0001", **kw) -> dict:
    return {
        "police_ref": ref,
        "item": "h.roads.manhole",
        "text": "报警人称东城街道人行道井盖缺失，无人受伤",
        "sent_at": clock.now().isoformat(),
        "caller_name": "李四",
        "caller_phone": "13900001111",
        **kw,
    }


def deliver_all(now, rounds: int = 40) -> None:
    """Run the worker's delivery until the outbox is empty, moving the clock past back-offs."""
    for _ in range(rounds):
        deliver_due(clock.now())
        if not OutboxMessage.objects.filter(status=OutboxStatus.PENDING).exists():
            return
        now.advance(hours=1)


def kinds_to_110(rx: Receiver) -> list[tuple[str, dict]]:
    return [(r.payload["kind"], r.payload["context"]) for r in rx.received]


# --- the lists ------------------------------------------------------------------------------


def test_the_demo_lists_are_seeded_both_ways_and_load_again_without_duplicates(db):
    lists = queries.lists()
    hotline_items = sum(len(c.active_items) for c in lists["to_hotline"])
    police_items = sum(len(c.active_items) for c in lists["to_police"])
    assert hotline_items >= 25 and len(lists["to_hotline"]) >= 8
    assert police_items >= 12 and len(lists["to_police"]) >= 5
    before = TransferItem.objects.count()
    counts = actions.load_lists()
    assert TransferItem.objects.count() == before
    assert counts == {"to_hotline": hotline_items, "to_police": police_items}


# --- 110 → 12345 ----------------------------------------------------------------------------


def test_a_signed_transfer_is_received_once_with_its_clock(client, police, now, settings):
    settings.MINSHENG_TRANSFER_RECEIVE_MINUTES = 5
    r = post_signed(client, "/api/v1/transfer/incoming", transfer_payload())
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["state"] == "pending" and not body["duplicate"]
    assert dt.datetime.fromisoformat(body["due_at"]) == now() + dt.timedelta(minutes=5)
    # 110 sends it again (a retry, or a replay): nothing new.
    again = post_signed(client, "/api/v1/transfer/incoming", transfer_payload())
    assert again.status_code == 200 and again.json()["duplicate"] and again.json()["id"] == body["id"]
    assert IncomingTransfer.objects.count() == 1
    # The centre hears of it.
    assert OutboxMessage.objects.filter(kind="transfer_arrived", unit__code="centre").count() == 1


@pytest.mark.parametrize(
    "how",
    ["unsigned", "wrong secret", "tampered", "stale"],
)
def test_a_transfer_not_genuine_or_not_fresh_is_refused_and_nothing_is_written(client, police, now, how):
    payload = transfer_payload()
    body = json.dumps(payload, ensure_ascii=False).encode()
    if how == "unsigned":
        r = client.post("/api/v1/transfer/incoming", data=body, content_type="application/json")
    elif how == "wrong secret":
        r = post_signed(client, "/api/v1/transfer/incoming", payload, secret="guess")
    elif how == "tampered":
        headers = signed_headers(SECRET, body)
        tampered = body.replace("井盖".encode(), "路灯".encode())
        r = client.post(
            "/api/v1/transfer/incoming",
            data=tampered,
            content_type="application/json",
            headers={k: v for k, v in headers.items() if k != "Content-Type"},
        )
    else:  # captured six minutes ago and replayed now
        r = post_signed(client, "/api/v1/transfer/incoming", payload, timestamp=clock.timestamp() - 360)
    assert r.status_code == 401
    assert not IncomingTransfer.objects.exists()


def test_without_a_shared_secret_110_is_refused_503(client, police, settings):
    settings.MINSHENG_TRANSFER_110_SECRET = ""
    r = post_signed(client, "/api/v1/transfer/incoming", transfer_payload())
    assert r.status_code == 503


def test_an_item_not_on_the_list_is_refused_naming_the_field(client, police):
    r = post_signed(client, "/api/v1/transfer/incoming", transfer_payload(item="p.criminal.theft"))
    assert r.status_code == 422
    assert "item" in json.dumps(r.json())
    r = post_signed(client, "/api/v1/transfer/incoming", transfer_payload(caller_phone="12"))
    assert r.status_code == 422 and "caller_phone" in json.dumps(r.json())
    assert not IncomingTransfer.objects.exists()


def test_accepted_into_the_loop_as_a_case_and_110_hears_the_number_then_the_outcome(
    client, city, police, now
):
    post_signed(client, "/api/v1/transfer/incoming", transfer_payload(lat=30.71, lng=121.01))
    transfer = IncomingTransfer.objects.get()
    now.advance(minutes=2)
    case = actions.accept_transfer(city.actor("operator"), transfer.pk)
    transfer.refresh_from_db()
    assert transfer.state == IncomingState.ACCEPTED and transfer.in_time and transfer.case == case
    # The same intake as every channel: channel 110, the list's matter, routed to its owner.
    assert case.channel == "110" and case.matter.code == "road.manhole"
    assert case.owner_unit == city.units["roads"] and case.state == State.ASSIGNED
    event = CaseEvent.objects.get(case=case, action="transfer_accepted")
    assert event.data["police_ref"] == "110-20261123-0001" and event.data["in_time"] is True
    deliver_all(now)
    decided = [c for k, c in kinds_to_110(police) if k == "transfer_decided"]
    assert decided == [
        {
            "police_ref": "110-20261123-0001",
            "decision": "accepted",
            "case": case.number,
            "in_time": True,
            "received_at": transfer.received_at.isoformat(),
            "decided_at": transfer.decided_at.isoformat(),
        }
    ]
    # The unit handles it; its feedback and the closing go back to 110.
    from minsheng.cases import actions as case_actions

    roads = city.actor("roads")
    case_actions.sign_case(roads, case.pk)
    case_actions.dispatch_case(roads, case.pk, people=["王师傅"])
    case_actions.feedback_case(roads, case.pk, note="已补装井盖")
    case_actions.close_case(city.actor("dispatcher"), case.pk)
    deliver_all(now)
    outcomes = [c for k, c in kinds_to_110(police) if k == "transfer_outcome"]
    assert [(o["action"], o["state"]) for o in outcomes] == [("feedback", "feedback"), ("close", "closed")]
    assert outcomes[0]["result"] == "已补装井盖" and outcomes[0]["police_ref"] == "110-20261123-0001"


def test_returned_with_a_reason_and_110_hears_why(client, city, police, now):
    post_signed(client, "/api/v1/transfer/incoming", transfer_payload())
    transfer = IncomingTransfer.objects.get()
    with pytest.raises(Invalid) as refused:
        actions.return_transfer(city.actor("operator"), transfer.pk, reason="  ")
    assert refused.value.field == "reason"
    transfer.refresh_from_db()
    assert transfer.state == IncomingState.PENDING
    now.advance(minutes=7)  # past the 5-minute clock: returned late
    actions.return_transfer(city.actor("operator"), transfer.pk, reason="现场有人员受伤，属警务事项")
    with pytest.raises(Conflict):
        actions.accept_transfer(city.actor("operator"), transfer.pk)
    assert not Case.objects.exists()
    deliver_all(now)
    (decided,) = [c for k, c in kinds_to_110(police) if k == "transfer_decided"]
    assert decided["decision"] == "returned" and decided["reason"] == "现场有人员受伤，属警务事项"
    assert decided["in_time"] is False


def test_only_the_centre_decides(client, city, police):
    post_signed(client, "/api/v1/transfer/incoming", transfer_payload())
    transfer = IncomingTransfer.objects.get()
    with pytest.raises(Forbidden):
        actions.accept_transfer(city.actor("roads"), transfer.pk)
    assert IncomingTransfer.objects.get().state == IncomingState.PENDING


def test_the_worker_warns_the_centre_once_of_a_transfer_not_decided_in_time(client, city, police, now):
    post_signed(client, "/api/v1/transfer/incoming", transfer_payload())
    run_pass(now(), deliver=False)
    assert not OutboxMessage.objects.filter(kind="transfer_overdue").exists()
    now.advance(minutes=6)
    run_pass(now(), deliver=False)
    run_pass(now(), deliver=False)
    assert OutboxMessage.objects.filter(kind="transfer_overdue", unit__code="centre").count() == 1


def test_the_page_lists_what_waits_and_takes_a_decision(client, city, police, now):
    post_signed(client, "/api/v1/transfer/incoming", transfer_payload())
    transfer = IncomingTransfer.objects.get()
    client.force_login(city.users["operator"])
    page = client.get("/transfer/")
    assert page.status_code == 200 and "110-20261123-0001" in page.content.decode()
    assert "待中心接收" in page.content.decode()  # Simplified Chinese first
    refused = client.post(f"/transfer/incoming/{transfer.pk}/return/", {"reason": ""})
    assert refused.status_code == 422 and 'data-field="reason"' in refused.content.decode()
    made = client.post(f"/transfer/incoming/{transfer.pk}/accept/")
    assert made.status_code == 302
    case = IncomingTransfer.objects.get().case
    assert made["Location"].endswith(f"/{case.pk}/") or str(case.pk) in made["Location"]
    client.force_login(city.users["roads"])
    assert client.get("/transfer/").status_code in (302, 403)


# --- 12345 → 110 ----------------------------------------------------------------------------


def test_a_police_matter_is_transferred_closed_and_110_acknowledges_it(client, city, police, now):
    case = intake(city, category=None, text="有人在小区门口打架，已经见血了")
    transfer = actions.transfer_to_police(
        city.actor("operator"), case.pk, item="p.order.fight", note="请速派警"
    )
    case.refresh_from_db()
    assert case.state == State.CLOSED
    assert list(CaseEvent.objects.filter(case=case).values_list("action", flat=True))[-2:] == [
        "police_transfer",
        "close",
    ]
    assert not case.clocks.filter(met_at__isnull=True, stopped_at__isnull=True).exists()
    deliver_all(now)
    (sent,) = [c for k, c in kinds_to_110(police) if k == "police_transfer"]
    assert sent["transfer"] == transfer.reference and sent["item"] == "p.order.fight"
    assert sent["caller_phone_masked"] == "138****5678" and "13812345678" not in json.dumps(sent)
    # 110 reads the caller's number with a signed GET.
    path = f"/api/v1/transfer/outgoing/{transfer.reference}"
    assert client.get(path).status_code == 401
    details = client.get(path, headers={k: v for k, v in signed_headers(SECRET, path.encode()).items()})
    assert details.status_code == 200 and details.json()["caller_phone"] == "13812345678"
    # 110's receipt, within its clock; sent twice, taken once.
    now.advance(minutes=3)
    receipt = {
        "event_id": "r-1",
        "transfer": transfer.reference,
        "status": "received",
        "at": now().isoformat(),
        "police_ref": "J3301-0099",
    }
    r = post_signed(client, "/api/v1/transfer/receipts", receipt)
    assert r.status_code == 200 and r.json()["state"] == "received" and not r.json()["duplicate"]
    assert post_signed(client, "/api/v1/transfer/receipts", receipt).json()["duplicate"]
    (event,) = CaseEvent.objects.filter(case=case, action="police_receipt")
    assert event.data["in_time"] is True and event.data["police_ref"] == "J3301-0099"
    transfer.refresh_from_db()
    assert transfer.state == ReceiptState.RECEIVED and transfer.police_ref == "J3301-0099"


def test_a_held_case_waits_for_110s_result_and_closes_with_it(client, city, police, now):
    case = intake(city, category=None, text="楼上每天半夜唱歌，劝了不听")
    transfer = actions.transfer_to_police(city.actor("operator"), case.pk, item="p.order.social_noise")
    case.refresh_from_db()
    assert case.state != State.CLOSED
    with pytest.raises(Conflict):  # with 110 already
        actions.transfer_to_police(city.actor("operator"), case.pk, item="p.order.fight")
    now.advance(minutes=30)  # past the receipt clock: the result comes first, late
    r = post_signed(
        client,
        "/api/v1/transfer/receipts",
        {
            "event_id": "d-1",
            "transfer": transfer.reference,
            "status": "done",
            "at": now().isoformat(),
            "note": "已出警劝导，噪声已停止",
        },
    )
    assert r.status_code == 200 and r.json()["case_state"] == "closed"
    case.refresh_from_db()
    assert case.state == State.CLOSED and case.feedback_text == "已出警劝导，噪声已停止"
    receipt = CaseEvent.objects.get(case=case, action="police_receipt")
    assert receipt.data["in_time"] is False
    assert CaseEvent.objects.filter(case=case, action="police_result").count() == 1


def test_transfer_to_110_refusals_write_nothing(city, police, now):
    case = intake(city)
    with pytest.raises(Invalid) as refused:
        actions.transfer_to_police(city.actor("operator"), case.pk, item="h.roads.manhole")
    assert refused.value.field == "item"
    with pytest.raises(Forbidden):
        actions.transfer_to_police(city.actor("roads"), case.pk, item="p.order.fight")
    assert not OutgoingTransfer.objects.exists()
    assert not CaseEvent.objects.filter(case=case, action="police_transfer").exists()


def test_figures_count_each_way_and_their_timeliness(client, city, police, now):
    start = now() - dt.timedelta(hours=1)
    post_signed(client, "/api/v1/transfer/incoming", transfer_payload("A"))
    post_signed(client, "/api/v1/transfer/incoming", transfer_payload("B"))
    post_signed(client, "/api/v1/transfer/incoming", transfer_payload("C"))
    a, b, _c = IncomingTransfer.objects.order_by("police_ref")
    actions.accept_transfer(city.actor("operator"), a.pk)
    now.advance(minutes=10)
    actions.return_transfer(city.actor("operator"), b.pk, reason="非本市辖区")
    case = intake(city, category=None, text="有人打架")
    actions.transfer_to_police(city.actor("operator"), case.pk, item="p.order.fight")
    f = queries.figures(start, now() + dt.timedelta(hours=1), now())
    assert (f.incoming, f.in_time, f.late, f.pending, f.pending_overdue) == (3, 1, 1, 1, 1)
    assert (f.accepted, f.returned) == (1, 1)
    assert (f.outgoing, f.awaiting, f.awaiting_overdue) == (1, 1, 0)
    assert f.in_rate == pytest.approx(1 / 3)


def test_the_statistics_count_transfers_each_way_in_time_live_and_rolled_up(client, city, police, now):
    from minsheng.accounts.actors import Actor
    from minsheng.stats.measures import Filters, audit_items, local_date
    from minsheng.stats.report import build_report
    from minsheng.stats.rollup import refresh_rollups

    post_signed(client, "/api/v1/transfer/incoming", transfer_payload("A"))
    post_signed(client, "/api/v1/transfer/incoming", transfer_payload("B"))
    a, b = IncomingTransfer.objects.order_by("police_ref")
    actions.accept_transfer(city.actor("operator"), a.pk)  # in time
    case = intake(city, category=None, text="有人打架")
    out = actions.transfer_to_police(city.actor("operator"), case.pk, item="p.order.fight")
    now.advance(minutes=8)
    actions.accept_transfer(city.actor("operator"), b.pk)  # late
    receipt = {"event_id": "r", "transfer": out.reference, "status": "received", "at": now().isoformat()}
    post_signed(client, "/api/v1/transfer/receipts", receipt)  # 8 minutes: within 10
    leader = Actor.of(city.users["leader"])
    day = local_date(now())
    filters = Filters(start=day, end=day)
    report = build_report(leader, filters, now())
    taken, receipts = report.total.figure("transfer_in"), report.total.figure("transfer_receipt")
    assert (taken.numerator, taken.denominator) == (1, 2)
    assert (receipts.numerator, receipts.denominator) == (1, 1)
    assert all(r.figure("transfer_in").denominator == 0 for r in report.rows)  # the city's figure
    (late,) = audit_items(leader, filters, "transfer_in", "missed", now())
    assert late.data["police_ref"] == "B"
    refresh_rollups(now() + dt.timedelta(days=1))
    now.advance(days=1)
    again = build_report(leader, filters, now()).total.figure("transfer_in")
    assert (again.numerator, again.denominator) == (1, 2)
