"""Who may do what to which case: every role × every action × scope, written out.

The expected outcomes below are tables a reader can check line by line against the rules
of the loop; they are not computed from ``may_act``. A case is prepared in a state where
the action is state-valid, so that the only thing deciding the outcome is who acts:

- ``ok``  the action succeeds (the case moves, one event is appended by that person);
- ``403`` the person sees the case but may not do this;
- ``404`` the person may not even see the case (it looks the same as no case at all).

Three cases, all in the east town (东城街道), are held at the three places a case can be:

- department: the roads department (住建局) holds a manhole case (条);
- subcentre:  the east sub-centre holds a neighbour dispute (块, town level);
- village:    the east sub-centre has passed that dispute on to village east.a (块).

People: the seven roles, and beside them the same roles out of scope: the other
department (water), the other town's sub-centre (sub_west), a village handler, a field
worker of the holding unit who was not dispatched (field_roads2), a field worker of
another unit, the requester (who may only rate), and a signed-in user with no role.

The second test reads ``TRANSITIONS`` whole: every (action, state) pair it does not list
is refused with 409 and leaves the case exactly as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction

from minsheng.accounts.actors import Actor
from minsheng.accounts.models import Role
from minsheng.cases import actions
from minsheng.cases.errors import CaseError, Conflict, NotFound
from minsheng.cases.models import Case, CaseClock, CaseEvent
from minsheng.cases.queries import get_visible_case
from minsheng.cases.scoping import visible_cases
from minsheng.cases.states import TRANSITIONS, State
from minsheng.notify.models import OutboxMessage
from tests.common.factories import make_user

pytestmark = pytest.mark.django_db

S = State
# The table columns, in the order of TRANSITIONS; "approve" is approve_extension.
COLUMNS = {
    "assign": "assign",
    "sign": "sign",
    "return": "return",
    "dispatch": "dispatch",
    "handle": "handle",
    "feedback": "feedback",
    "rate": "rate",
    "close": "close",
    "reopen": "reopen",
    "extend": "extend",
    "approve": "approve_extension",
    "supervise": "supervise",
    "merge": "merge",
}

# --- the expected outcomes ---------------------------------------------------------------
# The states the case is prepared in for each column: assign, sign, return, supervise and
# merge on a freshly assigned case; dispatch, extend and approve after signing (approve
# with an extension asked for); handle and feedback after dispatching people; rate and
# close after feedback; reopen after an "unsatisfied" rating.
# A field worker is on the case only once dispatched (handle and later).

DEPARTMENT = """
              assign sign return dispatch handle feedback rate close reopen extend approve supervise merge
operator      403    403  403    403      403    403      ok   ok    ok     403    403     403       ok
dispatcher    ok     403  403    403      403    403      ok   ok    ok     403    ok      ok        ok
sub_east      403    403  403    403      403    403      403  403   403    403    403     403       403
sub_west      404    404  404    404      404    404      404  404   404    404    404     404       404
roads         403    ok   ok     ok       ok     ok       403  403   403    ok     403     403       403
water         404    404  404    404      404    404      404  404   404    404    404     404       404
village_ea    404    404  404    404      404    404      404  404   404    404    404     404       404
field_roads   404    404  404    404      ok     403      403  403   403    404    404     404       404
field_roads2  404    404  404    404      404    404      404  404   404    404    404     404       404
field_ea      404    404  404    404      404    404      404  404   404    404    404     404       404
leader        403    403  403    403      403    403      403  403   403    403    403     403       403
admin         ok     403  403    403      403    403      ok   ok    ok     403    ok      ok        ok
requester     403    403  403    403      403    403      ok   403   403    403    403     403       403
norole        404    404  404    404      404    404      404  404   404    404    404     404       404
"""
# sub_east sees the roads department's case because it is in its town, but a town does
# not re-route, supervise, extend or close a line department's case: the city does.

SUBCENTRE = """
              assign sign return dispatch handle feedback rate close reopen extend approve supervise merge
operator      403    403  403    403      403    403      ok   ok    ok     403    403     403       ok
dispatcher    ok     403  403    403      403    403      ok   ok    ok     403    ok      ok        ok
sub_east      ok     ok   ok     ok       ok     ok       403  ok    403    ok     403     403       ok
sub_west      404    404  404    404      404    404      404  404   404    404    404     404       404
roads         404    404  404    404      404    404      404  404   404    404    404     404       404
water         404    404  404    404      404    404      404  404   404    404    404     404       404
village_ea    404    404  404    404      404    404      404  404   404    404    404     404       404
field_roads   404    404  404    404      404    404      404  404   404    404    404     404       404
field_roads2  404    404  404    404      404    404      404  404   404    404    404     404       404
field_ea      404    404  404    404      404    404      404  404   404    404    404     404       404
leader        403    403  403    403      403    403      403  403   403    403    403     403       403
admin         ok     403  403    403      403    403      ok   ok    ok     403    ok      ok        ok
requester     403    403  403    403      403    403      ok   403   403    403    403     403       403
norole        404    404  404    404      404    404      404  404   404    404    404     404       404
"""
# The sub-centre holds this case itself: it signs and works it, but it does not approve
# its own extension or supervise itself; the city does.

VILLAGE = """
              assign sign return dispatch handle feedback rate close reopen extend approve supervise merge
operator      403    403  403    403      403    403      ok   ok    ok     403    403     403       ok
dispatcher    ok     403  403    403      403    403      ok   ok    ok     403    ok      ok        ok
sub_east      ok     403  403    403      403    403      403  ok    403    403    ok      ok        ok
sub_west      404    404  404    404      404    404      404  404   404    404    404     404       404
roads         404    404  404    404      404    404      404  404   404    404    404     404       404
water         404    404  404    404      404    404      404  404   404    404    404     404       404
village_ea    403    ok   ok     ok       ok     ok       403  403   403    ok     403     403       403
field_roads   404    404  404    404      404    404      404  404   404    404    404     404       404
field_roads2  404    404  404    404      404    404      404  404   404    404    404     404       404
field_ea      404    404  404    404      ok     403      403  403   403    404    404     404       404
leader        403    403  403    403      403    403      403  403   403    403    403     403       403
admin         ok     403  403    403      403    403      ok   ok    ok     403    ok      ok        ok
requester     403    403  403    403      403    403      ok   403   403    403    403     403       403
norole        404    404  404    404      404    404      404  404   404    404    404     404       404
"""
# The east sub-centre manages what its village holds (re-assign, approve, supervise,
# close) but does not do the village's own work.

ROLE_OF_ROW = {
    "operator": Role.OPERATOR,
    "dispatcher": Role.CITY_DISPATCHER,
    "sub_east": Role.SUBCENTRE_DISPATCHER,
    "sub_west": Role.SUBCENTRE_DISPATCHER,
    "roads": Role.HANDLER,
    "water": Role.HANDLER,
    "village_ea": Role.HANDLER,
    "field_roads": Role.FIELD_WORKER,
    "field_roads2": Role.FIELD_WORKER,
    "field_ea": Role.FIELD_WORKER,
    "leader": Role.LEADER,
    "admin": Role.ADMIN,
    "requester": None,
    "norole": None,
}


def parse(table: str) -> dict[tuple[str, str], str]:
    lines = [ln.split() for ln in table.strip().splitlines()]
    header, rows = lines[0], lines[1:]
    assert [COLUMNS[h] for h in header] == list(TRANSITIONS), "one column per action, in order"
    assert [r[0] for r in rows] == list(ROLE_OF_ROW), "one row per person, in order"
    out = {}
    for row in rows:
        assert len(row) == len(header) + 1, row
        for col, cell in zip(header, row[1:], strict=True):
            assert cell in ("ok", "403", "404"), cell
            out[(row[0], COLUMNS[col])] = cell
    return out


EXPECTED = {"department": parse(DEPARTMENT), "subcentre": parse(SUBCENTRE), "village": parse(VILLAGE)}


def test_the_tables_cover_every_role_and_every_action():
    assert set(ROLE_OF_ROW.values()) - {None} == set(Role.values)
    for table in EXPECTED.values():
        assert {a for _p, a in table} == set(TRANSITIONS)
    # Every action is allowed to someone and refused to someone in every table.
    for name, table in EXPECTED.items():
        for action in TRANSITIONS:
            cells = {table[(p, action)] for p in ROLE_OF_ROW}
            assert "ok" in cells and cells & {"403", "404"}, (name, action)


# --- building the cases ------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    category: str
    holder: str
    worker: str | None  # the field worker dispatched, if the unit has one


SCENARIOS = {
    "department": Scenario("road.manhole", "roads", "field_roads"),
    "subcentre": Scenario("neighbor.dispute", "sub_east", None),
    "village": Scenario("neighbor.dispute", "village_ea", "field_ea"),
}

# The state each column's case is prepared in (see the note above the tables).
PREPARED_STATE = {
    "assign": S.ASSIGNED,
    "sign": S.ASSIGNED,
    "return": S.ASSIGNED,
    "dispatch": S.SIGNED,
    "handle": S.DISPATCHED,
    "feedback": S.DISPATCHED,
    "rate": S.FEEDBACK,
    "close": S.FEEDBACK,
    "reopen": S.RATED,
    "extend": S.SIGNED,
    "approve_extension": S.SIGNED,
    "supervise": S.ASSIGNED,
    "merge": S.ASSIGNED,
}


@pytest.fixture
def people(city):
    """The city's users plus a field worker of village east.a and a user with no role."""
    city.users["field_ea"] = make_user("field_ea", Role.FIELD_WORKER, city.units["gr-east.a"])
    city.users["norole"] = get_user_model().objects.create_user("norole", password="x-12345678")

    def actor(name: str) -> Actor:
        if name == "requester":
            return Actor.requester()
        return city.actor(name)

    return actor


def new_case(city, scenario: Scenario) -> Case:
    """A case of the scenario's kind, assigned to (and not yet signed by) its holder."""
    from tests.common.factories import intake

    case = intake(city, category=scenario.category, point="east.a")
    if scenario.holder == "village_ea":
        case = actions.assign_case(
            city.actor("sub_east"), case.pk, unit_id=city.units["gr-east.a"].pk, note="请村里处理"
        )
    assert case.state == S.ASSIGNED
    assert case.owner_unit == city.actor(scenario.holder).unit
    return case


def bring_to(city, scenario: Scenario, case: Case, state: State, *, extension: bool) -> Case:
    holder = city.actor(scenario.holder)
    path = [S.SIGNED, S.DISPATCHED, S.FEEDBACK, S.RATED]
    for step in path[: path.index(state) + 1] if state in path else []:
        if step == S.SIGNED:
            actions.sign_case(holder, case.pk)
            if extension:
                actions.request_extension(holder, case.pk, days=2, note="需协调多方")
        elif step == S.DISPATCHED:
            people_sent = [scenario.worker] if scenario.worker else ["应急小分队"]
            actions.dispatch_case(holder, case.pk, people=people_sent)
        elif step == S.FEEDBACK:
            actions.feedback_case(holder, case.pk, note="已处理完毕")
        elif step == S.RATED:
            actions.rate_case(city.actor("operator"), case.pk, rating="unsatisfied", note="还是没解决")
    case.refresh_from_db()
    assert case.state == state
    return case


def arguments(city, scenario: Scenario, action: str) -> dict:
    """Input that is valid for the action, so that only the person decides."""
    if action == "assign":
        return {"unit_id": city.units["gr-east.b"].pk, "note": "改派"}
    if action == "dispatch":
        return {"people": [scenario.worker] if scenario.worker else ["应急小分队"]}
    if action == "rate":
        return {"rating": "satisfied"}
    if action == "extend":
        return {"days": 3, "note": "材料采购中"}
    if action == "approve_extension":
        return {"approved": True}
    if action == "merge":
        return {"into": new_case(city, scenario).pk, "note": "重复件"}
    if action in ("sign", "close"):
        return {}
    return {"note": "说明"}


def attempt(actor: Actor, action: str, case_id: int, kwargs: dict) -> tuple[str, Case | None]:
    try:
        result = actions.ACTION_FUNCTIONS[action](actor, case_id, **kwargs)
    except CaseError as exc:
        return str(exc.status), None
    return "ok", result


def snapshot(case_id: int) -> tuple:
    case = Case.objects.get(pk=case_id)
    return (
        case.state,
        case.version,
        case.owner_unit_id,
        CaseEvent.objects.filter(case_id=case_id).count(),
        OutboxMessage.objects.filter(case_id=case_id).count(),
        CaseClock.objects.filter(case_id=case_id).count(),
    )


def try_one(actor: Actor, action: str, case: Case, state: State, kwargs: dict) -> str:
    """The outcome for one person, checked for what it must and must not change, then
    rolled back so that the next person finds the case as prepared."""
    with transaction.atomic():
        before = snapshot(case.pk)
        outcome, result = attempt(actor, action, case.pk, kwargs)
        if outcome == "ok":
            to_state = TRANSITIONS[action][1]
            last = CaseEvent.objects.filter(case=case).order_by("-at", "-id").first()
            wrong = [
                what
                for what, good in (
                    ("state", result.state == (to_state or state)),
                    ("version", result.version == before[1] + 1),
                    ("event", last.action == action),
                    (
                        "event actor",
                        last.actor_id == (actor.user.pk if actor.user else None)
                        and last.actor_label == actor.label,
                    ),
                )
                if not good
            ]
            if wrong:
                outcome = f"ok but wrong {', '.join(wrong)}"
        elif snapshot(case.pk) != before:
            outcome = f"{outcome} but the case changed"
        transaction.set_rollback(True)
    return outcome


CELLS = [(scenario, action) for scenario in EXPECTED for action in TRANSITIONS]


@pytest.mark.parametrize(("scenario_name", "action"), CELLS, ids=[f"{s}-{a}" for s, a in CELLS])
def test_matrix(city, people, now, scenario_name, action):
    """One column of one table: the case is prepared once, and every person tries the
    action on it in turn (each try is rolled back)."""
    scenario = SCENARIOS[scenario_name]
    case = new_case(city, scenario)
    state = PREPARED_STATE[action]
    assert state in TRANSITIONS[action][0]
    case = bring_to(city, scenario, case, state, extension=action == "approve_extension")
    kwargs = arguments(city, scenario, action)

    got = {person: try_one(people(person), action, case, state, kwargs) for person in ROLE_OF_ROW}

    expected = {person: EXPECTED[scenario_name][(person, action)] for person in ROLE_OF_ROW}
    wrong = {p: f"expected {expected[p]}, got {got[p]}" for p in ROLE_OF_ROW if got[p] != expected[p]}
    assert not wrong, f"{action} on the {scenario_name} case: {wrong}"


# --- returned cases: who picks them up again ---------------------------------------------

RETURNED = """
              from_department  from_village
operator      403              403
dispatcher    ok               ok
sub_east      ok               ok
sub_west      404              404
roads         404              404
water         404              404
village_ea    404              404
field_roads   404              404
field_roads2  404              404
field_ea      404              404
leader        403              403
admin         ok               ok
requester     403              403
norole        404              404
"""
# A department's return goes to the city's queue (no unit holds it) but the case still
# lies in the east town, so the east sub-centre may route it within the town too. A
# village's return goes up to its sub-centre. Whoever returned it no longer sees it.


@pytest.mark.parametrize("source", ["from_department", "from_village"])
def test_who_may_reassign_a_returned_case(city, people, now, source):
    lines = [ln.split() for ln in RETURNED.strip().splitlines()]
    column = lines[0].index(source) + 1
    expected = {row[0]: row[column] for row in lines[1:]}
    assert list(expected) == list(ROLE_OF_ROW)
    scenario = SCENARIOS["department" if source == "from_department" else "village"]
    case = new_case(city, scenario)
    case = actions.return_case(city.actor(scenario.holder), case.pk, note="不属于我们")
    assert case.state == S.RETURNED
    assert case.owner_unit == (None if source == "from_department" else city.units["sub-east"])
    kwargs = {"unit_id": city.units["gr-east.b"].pk, "note": "请东城B村处理"}

    got = {p: try_one(people(p), "assign", case, S.RETURNED, kwargs) for p in ROLE_OF_ROW}

    wrong = {p: f"expected {expected[p]}, got {got[p]}" for p in ROLE_OF_ROW if got[p] != expected[p]}
    assert not wrong, f"re-assign a case returned {source}: {wrong}"


# --- every (action, state) pair outside TRANSITIONS: 409, nothing changed -----------------


def case_in_state(city, state: State) -> Case:
    """A roads-department case brought to ``state`` through the real actions."""
    from tests.common.factories import intake

    if state == S.ACCEPTED:
        # A territorial matter with no place: nobody can say which town, a dispatcher must.
        case = intake(city, category="neighbor.dispute", point=None)
        assert case.state == S.ACCEPTED
        return case
    case = intake(city)
    roads, op = city.actor("roads"), city.actor("operator")
    if state == S.RETURNED:
        return actions.return_case(roads, case.pk, note="不属于本单位")
    if state == S.ASSIGNED:
        return case
    actions.sign_case(roads, case.pk)
    if state == S.SIGNED:
        return Case.objects.get(pk=case.pk)
    actions.dispatch_case(roads, case.pk, people=["field_roads"])
    if state == S.DISPATCHED:
        return Case.objects.get(pk=case.pk)
    actions.handle_case(roads, case.pk, note="正在更换")
    if state == S.HANDLING:
        return Case.objects.get(pk=case.pk)
    actions.feedback_case(roads, case.pk, note="已更换")
    if state == S.FEEDBACK:
        return Case.objects.get(pk=case.pk)
    actions.rate_case(op, case.pk, rating="unsatisfied", note="没修好")
    if state == S.RATED:
        return Case.objects.get(pk=case.pk)
    actions.close_case(op, case.pk, note="已多次上门，群众诉求超出政策范围")
    assert state == S.CLOSED
    return Case.objects.get(pk=case.pk)


OUTSIDE = [
    (action, state)
    for action, (allowed_from, _to) in TRANSITIONS.items()
    for state in State
    if state not in allowed_from
]


def test_outside_pairs_are_counted_from_the_whole_table():
    inside = sum(len(allowed) for allowed, _to in TRANSITIONS.values())
    assert len(OUTSIDE) == len(TRANSITIONS) * len(State) - inside
    assert len(OUTSIDE) > 0


@pytest.mark.parametrize(("action", "state"), OUTSIDE, ids=[f"{a}-{s}" for a, s in OUTSIDE])
def test_action_outside_its_states_is_409_and_changes_nothing(city, now, action, state):
    case = case_in_state(city, state)
    other = case_in_state(city, S.ASSIGNED)
    kwargs = {
        "assign": {"unit_id": city.units["water"].pk},
        "return": {"note": "不是我们的"},
        "dispatch": {"people": ["field_roads"]},
        "handle": {"note": "处理"},
        "feedback": {"note": "反馈"},
        "rate": {"rating": "satisfied"},
        "reopen": {"note": "重办"},
        "extend": {"days": 2, "note": "延期"},
        "supervise": {"note": "督办"},
        "merge": {"into": other.pk},
    }.get(action, {})
    before = snapshot(case.pk)
    # The system actor passes every scope and right, so only the state can refuse.
    with pytest.raises(Conflict) as err:
        actions.ACTION_FUNCTIONS[action](Actor.system(), case.pk, **kwargs)
    assert err.value.state == state
    assert err.value.version == before[1]
    assert snapshot(case.pk) == before
    assert snapshot(other.pk)[3] == 2  # accept + assign: the merge target was not touched


# --- visibility: list, count and detail for every person ---------------------------------

# Eight cases around the city, and who sees which.
ALL = {
    "roads_east",
    "roads_west",
    "water_west",
    "sub_west",
    "village_ea",
    "village_eb",
    "unplaced",
    "returned_east",
}
SEES = {
    "operator": ALL,
    "dispatcher": ALL,
    "leader": ALL,
    "admin": ALL,
    "sub_east": {"roads_east", "village_ea", "village_eb", "returned_east"},
    "sub_west": {"roads_west", "water_west", "sub_west"},
    "roads": {"roads_east", "roads_west"},
    "water": {"water_west"},
    "village_ea": {"village_ea"},
    "field_roads": {"roads_west"},  # dispatched to it
    "field_roads2": set(),  # same department, not dispatched
    "field_ea": set(),
    "norole": set(),
}


@pytest.fixture
def spread(city, people, now):
    from tests.common.factories import intake

    sub_east = city.actor("sub_east")
    made = {
        "roads_east": intake(city, point="east.a"),
        "roads_west": intake(city, point="west.a"),
        "water_west": intake(city, category="water.sewage", point="west.b"),
        "sub_west": intake(city, category="neighbor.dispute", point="west.a"),
        "village_ea": intake(city, category="neighbor.dispute", point="east.a"),
        "village_eb": intake(city, category="neighbor.dispute", point="east.b"),
        "unplaced": intake(city, category="neighbor.dispute", point=None),
        "returned_east": intake(city, point="east.b"),
    }
    roads = city.actor("roads")
    actions.sign_case(roads, made["roads_west"].pk)
    actions.dispatch_case(roads, made["roads_west"].pk, people=["field_roads"])
    for key, village in (("village_ea", "gr-east.a"), ("village_eb", "gr-east.b")):
        actions.assign_case(sub_east, made[key].pk, unit_id=city.units[village].pk)
    actions.return_case(roads, made["returned_east"].pk, note="属于水务")
    return {name: case.pk for name, case in made.items()}


@pytest.mark.parametrize("person", list(SEES))
def test_each_person_lists_counts_and_opens_exactly_their_cases(city, people, spread, person):
    actor = people(person)
    ids_of = {pk: name for name, pk in spread.items()}
    listed = {ids_of[pk] for pk in visible_cases(actor).values_list("pk", flat=True)}
    assert listed == SEES[person]
    assert visible_cases(actor).count() == len(SEES[person])
    for name, pk in spread.items():
        if name in SEES[person]:
            assert get_visible_case(actor, pk).pk == pk
        else:
            with pytest.raises(NotFound):
                get_visible_case(actor, pk)


@pytest.mark.parametrize("person", list(SEES))
def test_the_api_lists_counts_and_opens_exactly_their_cases(client, city, people, spread, person):
    client.force_login(city.users[person])
    ids_of = {pk: name for name, pk in spread.items()}
    page = client.get("/api/v1/cases").json()
    assert {ids_of[item["id"]] for item in page["items"]} == SEES[person]
    assert page["count"] == len(SEES[person])
    for name, pk in spread.items():
        detail = client.get(f"/api/v1/cases/{pk}")
        events = client.get(f"/api/v1/cases/{pk}/events")
        want = 200 if name in SEES[person] else 404
        assert (detail.status_code, events.status_code) == (want, want), name
    # The filters narrow the person's own cases; they never widen them.
    for query in (
        "?state=assigned",
        f"?unit={city.units['roads'].pk}",
        "?category=road.manhole",
        "?overdue=false",
        "?overdue=true",
    ):
        got = {ids_of[i["id"]] for i in client.get("/api/v1/cases" + query).json()["items"]}
        assert got <= SEES[person], query
