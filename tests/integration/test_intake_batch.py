"""Set-based intake (issue #15): a batch of new cases is what the same requests made one by
one would be (the timeline, the clocks, the requester's SMS, the routing, field by field),
while the database is touched a number of times that does not grow with the batch."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from minsheng.cases import registry
from minsheng.cases.actions import Intake, accept_case, accept_cases
from minsheng.cases.errors import CaseError
from minsheng.cases.models import Case, CaseClock, CaseEvent, IntakeKey
from minsheng.notify.models import OutboxMessage
from tests.common.factories import City, intake

pytestmark = pytest.mark.django_db

EAST_A = City.POINTS["east.a"]
WEST_B = City.POINTS["west.b"]
MANHOLE = "人行道上一个窨井盖破了一角，很危险"


def _items() -> list[Intake]:
    """Requests that take every path of intake: zero-touch to a department and to a
    sub-centre, left for a dispatcher (no category, no place, outside the city), a sensor's
    response clock, urgency, a point in another coordinate system, no phone, a possible and a
    certain duplicate of a case already open, and of an earlier item of the same batch."""
    lat, lng = EAST_A
    return [
        Intake("hotline", MANHOLE, lat, lng, "东村口", "road.manhole", requester_phone="13812345678"),
        Intake(
            "hotline", "邻居装修噪音太大", *WEST_B, category="neighbor.dispute", requester_phone="13900000001"
        ),
        Intake("app", "反映一个情况", requester_name="李四", requester_phone="13900000002"),
        Intake("hotline", "井盖坏了", 10.0, 10.0, category="road.manhole"),
        Intake("sensor", "排口液位超限", lat + 0.001, lng, category="water.sewage", urgent=True),
        Intake(
            "app", MANHOLE, 30.72, 120.92, crs="gcj02", category="road.manhole", requester_phone="13900000003"
        ),
        Intake("hotline", "窨井盖破了一角，人行道上很危险", lat + 0.0003, lng, "东村路", "road.manhole"),
        Intake("hotline", "井盖又坏了", lat, lng, "老街5号", "road.manhole", requester_phone="13900000004"),
        Intake("hotline", "窨井盖破了一角", lat + 0.0002, lng, "东村口", "road.manhole"),  # certain: 东村口
        Intake(
            "rider", "老街5号井盖坏了没人修", lat, lng + 0.0002, "老街5号", "road.manhole"
        ),  # certain: item 7
        Intake("hotline", "下水道堵了", lat, lng, "", "water.sewage", requester_phone="13900000005"),
    ]


def _normalise(value: Any, names: dict[Any, str]) -> Any:
    """Ids, numbers and follow tokens of cases replaced by their names in the run (``#0``,
    ``old#1``)."""
    if isinstance(value, dict):
        return {
            k: names.get(("id", v), v) if k in ("id", "into_id", "duplicate_id") else _normalise(v, names)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_normalise(v, names) for v in value]
    if isinstance(value, str):
        if ("token", value) in names:
            return names[("token", value)]
        return re.sub(r"MS\d{13}", lambda m: names.get(("number", m.group(0)), m.group(0)), value)
    return value


def _code(obj: Any) -> Any:
    return getattr(obj, "code", None) or getattr(obj, "username", None)


def _picture(cases: list[Case | None], old: list[Case]) -> list[Any]:
    """Every case of the run and the cases open before it, as a person would compare them:
    fields, routing, timeline, clocks and outbox, times relative to the case's making."""
    names: dict[Any, str] = {}
    for prefix, group in (("#", cases), ("old#", old)):
        for i, c in enumerate(group):
            if c is not None:
                names[("id", c.pk)] = names[("number", c.number)] = f"{prefix}{i}"
                names[("token", c.public_token)] = f"token of {prefix}{i}"
    out: list[Any] = []
    for c in [*cases, *old]:
        if c is None:
            out.append(None)
            continue
        c = Case.objects.get(pk=c.pk)
        t0 = c.created_at

        def rel(at: dt.datetime | None, t0: dt.datetime = t0) -> Any:
            return None if at is None else (at - t0).total_seconds()

        fields = {
            f: getattr(c, f)
            for f in (
                *("channel", "text", "title", "lat", "lng", "address", "urgent", "state", "version"),
                *("requester_name", "requester_phone", "requester_phone_hash", "dispatched_people"),
                *("supervision_count", "reopen_count"),
            )
        }
        fields |= {
            "matter": _code(c.matter),
            "place": _code(c.place),
            "town": _code(c.town),
            "owner": _code(c.owner_unit),
            "by": _code(c.created_by),
            "merged_into": names.get(("id", c.merged_into_id)),
            "closed": rel(c.closed_at),
            "updated": rel(c.updated_at),
            "routing": _normalise(c.routing, names),
        }
        events = [
            (
                *(e.action, _code(e.actor), e.actor_label, _code(e.actor_unit), e.from_state, e.to_state),
                *(_normalise(e.note, names), _normalise(e.data, names), rel(e.at)),
            )
            for e in CaseEvent.objects.filter(case=c).order_by("at", "id")
        ]
        clocks = [
            (k.name, _code(k.unit), *map(rel, (k.started_at, k.due_at, k.warn_at, k.met_at, k.stopped_at)))
            for k in CaseClock.objects.filter(case=c).order_by("started_at", "id")
        ]
        outbox = [
            (
                *(m.kind, m.audience, _code(m.unit), _code(m.user), m.phone),
                *(_normalise(m.context, names), rel(m.created_at), m.status),
            )
            for m in OutboxMessage.objects.filter(case=c).order_by("id")
        ]
        out.append({"case": fields, "events": events, "clocks": clocks, "outbox": outbox})
    return out


class _Undo(Exception):
    pass


@pytest.fixture
def duplicates_on(city):
    for code in ("road.manhole", "water.sewage"):
        m = city.matters[code]
        m.duplicate_radius_m, m.duplicate_window_hours = 200, 24
        m.save()
    return city


def _old_cases(city) -> list[Case]:
    """Open cases already there: one the first item repeats for certain (same address
    within the hour), one it may repeat."""
    return [
        intake(city, text="窨井盖破了，人行道", address="东村口"),
        intake(city, text="这里井盖破损一角很危险", address="东村桥"),
    ]


def test_a_batch_is_what_the_same_requests_make_one_by_one(duplicates_on, now):
    city = duplicates_on
    old = _old_cases(city)
    now.advance(minutes=10)
    actor = city.actor("operator")
    keys = [f"k-{i}" for i in range(len(_items()))]
    one_by_one: list[Any] = []
    try:
        with transaction.atomic():
            made = [accept_case(actor, d, idempotency_key=k) for d, k in zip(_items(), keys, strict=True)]
            one_by_one = _picture(list(made), old)
            raise _Undo
    except _Undo:
        pass
    assert Case.objects.count() == len(old)
    got = accept_cases(actor, _items(), keys=keys)
    assert not [g for g in got if isinstance(g, CaseError)], got
    batch = _picture([g if isinstance(g, Case) else None for g in got], old)
    assert len(batch) == len(one_by_one)
    for i, (a, b) in enumerate(zip(one_by_one, batch, strict=True)):
        for part in ("case", "events", "clocks", "outbox"):
            assert a[part] == b[part], (i, part)
    # The paths were all taken.
    states = [p["case"]["state"] for p in batch[: len(_items())]]
    assert {"assigned", "accepted", "closed"} <= set(states), states
    merged = [p["case"]["merged_into"] for p in batch[: len(_items())]]
    assert merged[8] == "old#0" and merged[9] == "#7", merged
    assert batch[6]["case"]["routing"]["duplicates"], "a possible duplicate is named"
    assert IntakeKey.objects.filter(key__in=keys).count() == len(keys)


def test_the_database_is_touched_as_many_times_for_five_cases_as_for_twenty_five(duplicates_on, now):
    city = duplicates_on
    actor = city.actor("operator")
    lat, lng = EAST_A

    def bodies(n: int, seed: int) -> list[Intake]:
        return [
            Intake(
                "hotline",
                f"第{seed}-{i}号路灯不亮",
                lat + (i % 7) * 0.003,
                lng + (i % 5) * 0.003,
                category="road.manhole" if i % 2 else "neighbor.dispute",
                requester_phone="13900000009",
            )
            for i in range(n)
        ]

    accept_cases(actor, bodies(2, 0))  # what a process reads once (the places' index)
    counts = []
    for n, seed in ((5, 1), (25, 2)):  # rows within one INSERT on SQLite too (999 values, 34 a case)
        with CaptureQueriesContext(connection) as ctx:
            got = accept_cases(actor, bodies(n, seed))
        assert all(isinstance(g, Case) for g in got)
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts


def test_an_after_action_hook_follows_a_fresh_case_only_when_it_asks_to(city, now, monkeypatch):
    seen: list[tuple[str, str]] = []

    def every(actor, case, action, at):
        seen.append(("every", action))

    def fresh_too(actor, case, action, at):
        seen.append(("fresh", action))

    monkeypatch.setattr(registry, "_after_action", [])
    monkeypatch.setattr(registry, "_after_action_fresh", [])
    registry.register_after_action(every)
    registry.register_after_action(fresh_too, fresh=True)
    case = intake(city)  # zero-touch: assigned at intake
    assert case.state == "assigned"
    assert seen == [("fresh", "assign")]
    accept_cases(city.actor("operator"), [Intake("hotline", "井盖坏了", *EAST_A, category="road.manhole")])
    assert seen == [("fresh", "assign")] * 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "sqlite", reason="reads SQLite's BEGIN/COMMIT in the query log")
def test_a_single_intake_routes_before_its_transaction_which_holds_only_writes(city, now):
    intake(city)  # what a process reads once (the places' index, the classifier)
    with CaptureQueriesContext(connection) as ctx:
        case = intake(city, text="人行道上的井盖又坏了")
    assert case.state == "assigned"
    sql = [q["sql"].lstrip().split(None, 1)[0].upper() for q in ctx.captured_queries]
    begin, commit = sql.index("BEGIN"), sql.index("COMMIT")
    assert "SELECT" in sql[:begin], "the routing reads before the transaction opens"
    inside = sql[begin + 1 : commit]
    assert inside and set(inside) == {"INSERT"}, [q["sql"][:120] for q in ctx.captured_queries]


def test_an_item_refused_while_written_leaves_the_others(city, now):
    from minsheng.cases.errors import Invalid

    def then(made):
        if any(i == 1 for i, _case in made):
            raise Invalid("idempotency_key", "refused")

    bodies = [Intake("hotline", f"井盖坏了{i}", *EAST_A, category="road.manhole") for i in range(3)]
    got = accept_cases(city.actor("operator"), bodies, then=then)
    assert [type(g).__name__ for g in got] == ["Case", "Invalid", "Case"]
    assert Case.objects.count() == 2
    assert set(CaseEvent.objects.values_list("case_id", flat=True)) == {
        g.pk for g in got if isinstance(g, Case)
    }
