"""The monthly evaluation (月度考核), computed from the statistics' own report for the month,
so every figure of the ranking is the statistics page's figure for that unit and month.

A unit's **score** (0–100) is the weighted mean of its measures' rates, each weighed by the
city's weight (``MeasureWeight``, else :data:`~.models.DEFAULT_WEIGHTS`); a measure where less
is better (reopenings, returns) counts as 1 − rate; a measure with nothing decided for the unit
that month drops out and the other weights are scaled up. A unit with fewer than the policy's
``min_decided`` items (the weighed measures' denominators) is listed without a score. Tiers
A/B/C/D by the policy's marks; the red list (红榜) the best units at or above its mark, the
yellow list (黄榜) the worst under its own.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field

from minsheng.accounts.actors import Actor
from minsheng.accounts.models import Unit, UnitKind
from minsheng.core import clock
from minsheng.stats.measures import MEASURE_BY_KEY, Figure, Filters
from minsheng.stats.report import Row, build_report

from .models import DEFAULT_WEIGHTS, INVERTED, NOT_RANKED, MeasureWeight, RankingPolicy


@dataclass
class Part:
    measure: str
    label: str
    value: float | None  # the rate as the statistics page shows it
    numerator: int
    denominator: int
    weight: float
    points: float | None  # what it adds to the score (0–100 scale, before re-weighting)


@dataclass
class UnitScore:
    unit_id: int
    name: str
    kind: str
    parts: list[Part]
    decided: int
    score: float | None = None
    tier: str = ""
    rank: int | None = None
    listed: str = ""  # "red" | "yellow" | ""


@dataclass
class Evaluation:
    month: dt.date  # its first day
    last_day: dt.date
    as_of: dt.datetime
    weights: dict[str, float]
    policy: RankingPolicy
    units: list[UnitScore] = field(default_factory=list)

    @property
    def red(self) -> list[UnitScore]:
        return [u for u in self.units if u.listed == "red"]

    @property
    def yellow(self) -> list[UnitScore]:
        return sorted((u for u in self.units if u.listed == "yellow"), key=lambda u: u.score or 0)

    @property
    def label(self) -> str:
        return self.month.strftime("%Y-%m")

    @property
    def tiers(self) -> dict[str, int]:
        out = {t: 0 for t in "ABCD"}
        for u in self.units:
            if u.tier:
                out[u.tier] += 1
        return out


def parse_month(text: str) -> dt.date:
    """``2026-11`` → 1 November 2026; ``ValueError`` for anything else."""
    year, _sep, month = text.strip().partition("-")
    if not (len(year) == 4 and year.isdigit() and month.isdigit() and 1 <= int(month) <= 12):
        raise ValueError(text)
    return dt.date(int(year), int(month), 1)


def last_month(today: dt.date) -> dt.date:
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def weights() -> dict[str, float]:
    out = dict(DEFAULT_WEIGHTS)
    out.update(dict(MeasureWeight.objects.values_list("measure", "weight")))
    return {k: w for k, w in out.items() if w > 0 and k not in NOT_RANKED and k in MEASURE_BY_KEY}


def score_parts(
    figures: dict[str, Figure], weighed: dict[str, float]
) -> tuple[float | None, list[Part], int]:
    """The score of one unit's figures, its parts, and the items decided. Pure."""
    parts, total_w, total, decided = [], 0.0, 0.0, 0
    for key, w in weighed.items():
        fig = figures.get(key) or Figure(key)
        value = fig.value
        points = None
        if value is not None:
            good = 1 - value if key in INVERTED else value
            good = min(1.0, max(0.0, good))
            points = good * 100
            total += good * w
            total_w += w
            decided += fig.denominator
        parts.append(
            Part(key, str(MEASURE_BY_KEY[key].label), value, fig.numerator, fig.denominator, w, points)
        )
    return (round(total / total_w * 100, 1) if total_w else None), parts, decided


def tier_of(score: float, policy: RankingPolicy) -> str:
    if score >= policy.tier_a:
        return "A"
    if score >= policy.tier_b:
        return "B"
    if score >= policy.tier_c:
        return "C"
    return "D"


def rank(units: list[UnitScore], policy: RankingPolicy) -> None:
    """Ranks, tiers and the two lists, in place (ties share a rank)."""
    scored = sorted((u for u in units if u.score is not None), key=lambda u: (-(u.score or 0), u.name))
    previous, place = None, 0
    for i, u in enumerate(scored, start=1):
        if u.score != previous:
            place, previous = i, u.score
        u.rank = place
        u.tier = tier_of(u.score or 0, policy)
    for u in scored[: policy.red_size]:
        if (u.score or 0) >= policy.red_from:
            u.listed = "red"
    worst = [u for u in reversed(scored) if (u.score or 0) < policy.yellow_under and not u.listed]
    for u in worst[: policy.yellow_size]:
        u.listed = "yellow"


def evaluate_month(month: dt.date, now: dt.datetime | None = None) -> Evaluation:
    """Every active unit (the city centre itself aside), scored for the month."""
    now = now or clock.now()
    first = month.replace(day=1)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    policy = RankingPolicy.current()
    weighed = weights()
    report = build_report(Actor.system(), Filters(start=first, end=last), now)
    rows: dict[int, Row] = {r.unit_id: r for r in report.rows if r.unit_id is not None}
    ev = Evaluation(month=first, last_day=last, as_of=now, weights=weighed, policy=policy)
    units = Unit.objects.filter(active=True).exclude(kind=UnitKind.CENTRE).order_by("kind", "code")
    for unit in units:
        row = rows.get(unit.pk)
        figures = {k: row.figure(k) for k in weighed} if row else {}
        score, parts, decided = score_parts(figures, weighed)
        entry = UnitScore(unit.pk, unit.name, unit.kind, parts, decided)
        if score is not None and decided >= policy.min_decided:
            entry.score = score
        ev.units.append(entry)
    rank(ev.units, policy)
    ev.units.sort(key=lambda u: (u.rank is None, u.rank or 0, u.name))
    return ev
