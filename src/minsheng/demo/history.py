"""Ninety days of the demo city's history, made through the real actions (issue #16).

Every case is accepted, assigned, signed, dispatched, fed back, rated and closed by the
named actions in ``cases.actions`` (so by the case kernel: the log, the clocks, the outbox),
with ``core.clock`` moved to each step's moment; the worker's breach pass runs every
simulated hour, so late clocks breach and escalate as they would have. The mix: channels
and matters weighted like a county's hotline, more calls in the working day than at night,
some late signs and feedbacks, supervision of breached cases, unsatisfied ratings that
reopen the case, joint groups (一键组群) for a share of cross-department matters, and
sensor alarms on the demo devices.

Deterministic (one seeded ``random.Random``) and run only on a database with no cases, so
loading again keeps what is there. Steps a rule refuses (a guard, a state) are skipped for
that case and counted; nothing is forced past the kernel.
"""

from __future__ import annotations

import datetime as dt
import functools
import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from minsheng.accounts.actors import Actor
from minsheng.accounts.models import Unit, UnitKind
from minsheng.cases import actions, escalation
from minsheng.cases.actions import Intake
from minsheng.cases.errors import CaseError
from minsheng.cases.states import State
from minsheng.catalog.models import Matter
from minsheng.classify.model import load_corpus
from minsheng.core import clock
from minsheng.places.models import GRASSROOTS_KINDS, Place
from minsheng.warning.actions import detect_pass

DAYS = 90
PER_DAY = (5, 10)  # cases a day, drawn uniformly (more on working days)
CLUSTER_DAYS_AGO = (62, 27, 2)  # seven calls about no water in one village within the hour
SEED = 16
CHANNELS = (("hotline", 55), ("app", 15), ("grid", 12), ("rider", 6), ("110", 5), ("enterprise", 3))
# Hour of the day a call comes in: the working day's two peaks, quiet nights.
HOURS = [1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 13, 10, 7, 9, 12, 12, 11, 9, 7, 6, 5, 4, 3, 2]
RATINGS = (("satisfied", 78), ("basically_satisfied", 14), ("unsatisfied", 8))
NAMES = ("张", "王", "李", "赵", "陈", "刘", "杨", "黄", "周", "吴", "徐", "孙", "沈", "朱")
ALARM_EVERY = dt.timedelta(days=3)  # roughly: a sensor alarm on some device this often

Step = Callable[[], Any]


@dataclass(order=True)
class _Due:
    at: dt.datetime
    seq: int
    step: Step = field(compare=False)


@dataclass
class Summary:
    cases: int = 0
    actions: int = 0
    skipped: int = 0
    alarms: int = 0
    groups: int = 0


class _Sim:
    """A queue of steps in time order; each step runs with the clock at its moment."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.queue: list[_Due] = []
        self.seq = itertools.count()
        self.summary = Summary()

    def at(self, when: dt.datetime, step: Step) -> None:
        heapq.heappush(self.queue, _Due(when, next(self.seq), step))

    def run(self, until: dt.datetime) -> None:
        while self.queue and self.queue[0].at <= until:
            due = heapq.heappop(self.queue)
            clock.set_now(due.at)
            due.step()

    def act(self, fn: Callable[[], Any]) -> bool:
        """One named action; a refusal (state, guard, right) ends that case's story."""
        try:
            fn()
        except CaseError:
            self.summary.skipped += 1
            return False
        self.summary.actions += 1
        return True


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def _unit_actor(unit_id: int | None, units: dict[int, str]) -> Actor:
    """The unit's staff, as the system acting in the unit's name: the demo city has staff
    accounts for a few units only, and every unit must work its cases."""
    return Actor.system(label=units.get(unit_id or 0, "") or "演示")


def make_history(days: int = DAYS, seed: int = SEED) -> Summary:
    """Write ``days`` days of history ending now. Returns what was made."""
    rng = random.Random(seed)  # noqa: S311 - a demo, repeatable by design
    sim = _Sim(rng)
    end = clock.now()
    previous = clock._override  # restored at the end: the caller's clock, pinned or free
    tz = timezone.get_default_timezone()
    matters = {m.code: m for m in Matter.objects.filter(active=True).select_related("owner_unit")}
    corpus = [r for r in load_corpus("train") if r["code"] in matters]
    if not corpus:
        return sim.summary
    by_code: dict[str, list[dict[str, str]]] = {}
    for row in corpus:
        by_code.setdefault(row["code"], []).append(row)
    codes = sorted(by_code)
    # Some matters far more often than others (a long tail, as a real hotline's).
    weights = [1.0 / (1 + i) ** 0.8 for i in range(len(codes))]
    rng.shuffle(codes)
    villages = list(
        Place.objects.filter(kind__in=GRASSROOTS_KINDS, center_lat__isnull=False).order_by("code")
    )
    units = dict(Unit.objects.values_list("pk", "name"))
    departments = list(Unit.objects.filter(kind=UnitKind.DEPARTMENT, active=True).order_by("code"))
    operator = Actor.system(label="话务员")
    centre = Actor.system(label="市级调度")
    start_day = (end - dt.timedelta(days=days)).astimezone(tz).date()

    def story(case_id: int, owner_hint: int | None, t: dt.datetime, urgent: bool) -> None:
        """The rest of one case's life, scheduled from its intake at ``t``."""
        from minsheng.cases.models import Case

        case = Case.objects.only("state", "owner_unit_id").get(pk=case_id)
        owner = case.owner_unit_id
        if case.state in (State.ACCEPTED, State.RETURNED):
            owner = owner_hint
            if owner is None:
                return  # no unit to send it to: it waits in the dispatcher's queue
            if not sim.act(lambda: actions.assign_case(centre, case_id, unit_id=owner, note="派单")):
                return
            t += dt.timedelta(minutes=rng.uniform(1, 4))
        who = _unit_actor(owner, units)
        late = rng.random() < 0.08
        t_sign = t + dt.timedelta(seconds=rng.uniform(70, 600) if late else rng.uniform(10, 55))
        t_dispatch = t_sign + dt.timedelta(
            minutes=rng.uniform(1, 4) if rng.random() > 0.06 else rng.uniform(6, 30)
        )
        feedback_h = rng.uniform(0.5, 20) if rng.random() > 0.07 else rng.uniform(25, 60)
        if urgent:
            feedback_h /= 4
        t_feedback = t_dispatch + dt.timedelta(hours=feedback_h)
        t_rate = t_feedback + dt.timedelta(hours=rng.uniform(1, 8))
        rating = _pick(rng, RATINGS)
        group = departments and rng.random() < 0.04

        def sign() -> None:
            if sim.act(lambda: actions.sign_case(who, case_id, note="已签收")):
                sim.at(t_dispatch, dispatch)

        def dispatch() -> None:
            if group:
                others = [d for d in departments if d.pk != owner]
                if others:
                    helper = rng.choice(others)
                    from minsheng.groups.actions import form_joint_group

                    if sim.act(
                        lambda: form_joint_group(
                            centre,
                            case_id,
                            lead_unit_id=owner,
                            assists=[{"unit_id": helper.pk, "task": "配合现场处置"}],
                            lead_task="牵头处置",
                        )
                    ):
                        sim.summary.groups += 1
            if sim.act(lambda: actions.dispatch_case(who, case_id, people=["外勤一组"], note="派人处置")):
                sim.at(t_feedback, feedback)

        def feedback() -> None:
            done = sim.act(
                lambda: actions.feedback_case(who, case_id, note="已现场处理完毕，情况已回复市民。")
            )
            if done and t_rate < end:
                sim.at(t_rate, rate)

        def rate() -> None:
            if not sim.act(lambda: actions.rate_case(operator, case_id, rating=rating, note="回访")):
                return
            if rating == "unsatisfied" and rng.random() < 0.7:
                sim.at(t_rate + dt.timedelta(minutes=30), reopen)
            else:
                sim.at(t_rate + dt.timedelta(minutes=10), close)

        def close() -> None:
            sim.act(lambda: actions.close_case(centre, case_id, note="办结"))

        def reopen() -> None:
            if sim.act(lambda: actions.reopen_case(centre, case_id, note="市民不满意，重办")):
                again = clock.now()
                sim.at(again + dt.timedelta(seconds=rng.uniform(15, 50)), sign_again)

        def sign_again() -> None:
            if sim.act(lambda: actions.sign_case(who, case_id, note="重办签收")):
                sim.at(
                    clock.now() + dt.timedelta(minutes=2),
                    lambda: sim.act(
                        lambda: actions.dispatch_case(who, case_id, people=["外勤二组"], note="重办")
                    ),
                )

        sim.at(t_sign, sign)

    def intake_at(t: dt.datetime, code: str | None = None, place: Place | None = None) -> None:
        code = code or rng.choices(codes, weights)[0]
        row = rng.choice(by_code[code])
        if place is None:
            place = rng.choice(villages) if villages else None
        lat = lng = None
        if place is not None:
            lat = float(place.center_lat or 0) + rng.uniform(-0.003, 0.003)
            lng = float(place.center_lng or 0) + rng.uniform(-0.003, 0.003)
        urgent = rng.random() < 0.05
        try:
            case = actions.accept_case(
                operator,
                Intake(
                    channel=_pick(rng, CHANNELS),
                    category=code,
                    lat=lat,
                    lng=lng,
                    text=row["text"],
                    urgent=urgent,
                    requester_name=f"{rng.choice(NAMES)}先生"
                    if rng.random() < 0.5
                    else f"{rng.choice(NAMES)}女士",
                    requester_phone=f"139{rng.randrange(10**8):08d}",
                ),
            )
        except CaseError:
            sim.summary.skipped += 1
            return
        sim.summary.cases += 1
        matter = matters[code]
        hint = matter.owner_unit_id
        if hint is None and place is not None:
            hint = Unit.objects.filter(place=place).values_list("pk", flat=True).first()
        story(case.pk, hint, t, urgent)

    def breaches() -> None:
        now = clock.now()
        escalation.breach_due(now, limit=5000)
        detect_pass(now, limit=5000)  # early warning, as the worker's pass does
        # Supervision (督办) of a share of what breached in the last hour.
        from minsheng.cases.models import CaseClock

        fresh = CaseClock.objects.filter(breached_at__gt=now - dt.timedelta(hours=1), name="feedback")
        for case_id in fresh.values_list("case_id", flat=True)[:3]:
            if rng.random() < 0.5:
                sim.act(functools.partial(actions.supervise_case, centre, case_id, note="超时督办"))
        if now + dt.timedelta(hours=1) < end:
            sim.at(now + dt.timedelta(hours=1), breaches)

    def alarm() -> None:
        from minsheng.sensors.actions import clear_alarm, raise_alarm
        from minsheng.sensors.models import Device

        device = Device.objects.filter(active=True).order_by("device_id")
        pool = list(device)
        if pool:
            d = rng.choice(pool)
            now = clock.now()
            raise_alarm(d, "threshold", "level", since=now - dt.timedelta(minutes=2), value=1.4)
            sim.summary.alarms += 1
            clear_at = now + dt.timedelta(minutes=rng.uniform(20, 90))
            if clear_at < end:
                sim.at(clear_at, lambda: clear_alarm(d, "threshold", "level", since=clear_at))
        nxt = clock.now() + ALARM_EVERY * rng.uniform(0.5, 1.5)
        if nxt < end:
            sim.at(nxt, alarm)

    for i in range(days):
        day = start_day + dt.timedelta(days=i)
        low, high = PER_DAY
        n = rng.randint(low, high) if day.weekday() < 5 else rng.randint(low // 2, high // 2)
        for hour in rng.choices(range(24), HOURS, k=n):
            t = dt.datetime.combine(day, dt.time(hour), tzinfo=tz) + dt.timedelta(
                seconds=rng.uniform(0, 3599)
            )
            if t < end:
                sim.at(t.astimezone(dt.UTC), functools.partial(intake_at, t.astimezone(dt.UTC)))
    # A few clusters for early warning (预警): no water in one village, calls within the hour.
    burst = random.Random(seed + 16)  # noqa: S311 - a demo, repeatable by design
    for back in CLUSTER_DAYS_AGO:
        if back >= days or "water.supply" not in by_code or not villages:
            continue
        day = (end - dt.timedelta(days=back)).astimezone(tz).date()
        t0 = dt.datetime.combine(day, dt.time(10), tzinfo=tz).astimezone(dt.UTC)
        village = burst.choice(villages)
        for minutes in sorted(burst.uniform(0, 45) for _ in range(7)):
            t = t0 + dt.timedelta(minutes=minutes)
            sim.at(t, functools.partial(intake_at, t, "water.supply", village))
    first = dt.datetime.combine(start_day, dt.time(8), tzinfo=tz).astimezone(dt.UTC)
    sim.at(first + dt.timedelta(minutes=30), breaches)
    sim.at(first + dt.timedelta(hours=5), alarm)
    try:
        sim.run(end)
    finally:
        clock.set_now(previous)
    return sim.summary


__all__ = ["DAYS", "SEED", "Summary", "make_history"]
