"""The measures the city is judged by, defined once and computed from the clocks and the
event log, so that every figure can be traced back to the cases behind it.

Clock measures (签收、派遣、反馈、办结、传感响应)
    One clock row (``CaseClock``) is one obligation of one unit. It counts for the unit on
    the row (``CaseClock.unit``: the unit held to it; a re-assignment stops the old unit's
    sign and dispatch clocks and moves the running feedback/resolve/response clocks to the
    new unit). Its outcome, at the moment of computing (``now``):

    * **met in time** — ``met_at <= due_at``;
    * **missed** — met after ``due_at``; or stopped (the case left the unit, was merged or
      closed) after ``due_at``, i.e. it had already breached when it stopped; or still
      running with ``due_at < now``;
    * **void** — stopped before its limit (re-assigned, returned or merged in time): the
      unit is neither credited nor blamed;
    * **pending** — still running and not yet due: not counted until it is decided.

    rate = met in time / (met in time + missed). The limits are the matter's (签收 1 min,
    派遣 5 min, 反馈 24 h, 办结 working days, sensor response 15 min by default).

    Period: a clock belongs to the local day (``TIME_ZONE``) on which it **started**. Its
    start never changes, so the set of days a case contributes to is fixed, which lets the
    rollups know exactly which days a change touches; the price is that a recent period's
    resolve rate fills in as its clocks are decided.

    Durations (median, 90th percentile): ``met_at - started_at`` of the clocks met (in
    time or late), by the same period rule, read from log-scale buckets (≤ 4.4 % error,
    :mod:`minsheng.stats.buckets`).

Event measures
    Counted from ``CaseEvent`` rows whose ``at`` falls in the period.

    * **satisfaction** (满意率) — ``rate`` events with ``data.rating`` satisfied or
      basically satisfied / all ``rate`` events. Unit: the one judged, i.e. the unit of
      the case's feedback clock met last at or before the rating (the unit whose result
      the requester heard; none if the case was never fed back).
    * **reopen rate** (重办率) — ``reopen`` events / ``close`` events, each attributed to the
      judged unit as above.
    * **returns** (退单) — ``return`` events, per the returning unit (``data.returned_by``);
      the rate divides by the ``assign`` events that sent cases to that unit
      (``data.unit``) in the period.
    * **follow-up rate** (回访率) — follow-ups finished (``followup``: the requester answered,
      by phone or through the SMS link; ``followup_unreachable``) / ``feedback`` events;
      **follow-up satisfaction** (回访满意率) — ``followup`` events with ``data.rating``
      satisfied or basically satisfied / all ``followup`` events; **unreachable rate**
      (无法联系率) — ``followup_unreachable`` / follow-ups finished. Each attributed to the
      judged unit as above (the unit whose feedback was followed up). The ``followup`` app
      writes these entries; this module reads them from the log like any other.
    * **direct-answer rate** (直接办结率) — requests answered on the spot from the knowledge
      base and closed at once (``answered_on_the_spot``, written by ``knowledge``) /
      requests accepted (``accept``). A city-wide figure: the total row only
      (``CITY_WIDE_KINDS``), never a unit's.
    * **110 transfers taken in time** (110移交按时接收率) — transfers from 110 accepted into the
      loop (``transfer_accepted``, written by ``transfer``) whose ``data.in_time`` is true / all
      accepted; **110 receipts in time** (移交110按时签收率) — 110's receipts of the hotline's
      transfers (``police_receipt``) in time / all receipts. City-wide, like the direct-answer
      rate. Transfers returned to 110 make no case and are counted on ``/transfer/`` only.

Case types' measures (:mod:`minsheng.stats.registry`)
    A case type (``enterprise``, ``proposals``) registers its own measures from its
    ``AppConfig.ready()``: a clock or an event measure above, counted only over the cases
    the type names by a lookup on the case (e.g. ``proposal__isnull=False``), under a rollup
    kind of its own. It is counted, rolled up, attributed to units and audited exactly as
    the measure it narrows; stats never names a type.

Every measure is also filtered by the case's town (镇/街道), matter and channel, as they
are now, and only over cases the reader may see (:func:`minsheng.cases.scoping.visible_cases`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    BigIntegerField,
    CharField,
    Count,
    Exists,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    When,
)
from django.db.models import (
    Case as When_,
)
from django.db.models.fields.json import KT
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minsheng.accounts.actors import Actor
from minsheng.accounts.models import Role, Unit
from minsheng.cases.models import CaseClock, CaseEvent, late_q
from minsheng.cases.scoping import CITY_WIDE, unit_subtree_ids, visible_cases
from minsheng.cases.states import ClockName, Rating

from . import buckets

# --- the measures -------------------------------------------------------------------------

CLOCKS = (ClockName.SIGN, ClockName.DISPATCH, ClockName.FEEDBACK, ClockName.RESOLVE, ClockName.RESPONSE)
GOOD_RATINGS = (Rating.SATISFIED, Rating.BASICALLY_SATISFIED)
# Event kinds the rollup counts (besides the clock names).
EVENT_KINDS = (
    "rating",
    "close",
    "reopen",
    "return",
    "assign",
    "fed_back",
    "followup",
    "followup_unreach",
    "intake",
    "answered",
    "xfer_in",
    "xfer_rcpt",
)
JUDGED_ACTIONS = {
    "rate": "rating",
    "close": "close",
    "reopen": "reopen",
    # Follow-up (回访): feedbacks given, answered follow-ups (ok: satisfied), unreachable ones.
    "feedback": "fed_back",
    "followup": "followup",
    "followup_unreachable": "followup_unreach",
    # Direct answers (直接办结): requests accepted, and those answered on the spot.
    "accept": "intake",
    "answered_on_the_spot": "answered",
    # 110 <-> 12345 transfers: taken from 110, and 110's receipts; "ok" = in time.
    "transfer_accepted": "xfer_in",
    "police_receipt": "xfer_rcpt",
}
# Kinds counted for the city's total only, never in a unit's row: the direct-answer rate is
# the city's (every other intake has no unit to be judged).
CITY_WIDE_KINDS = frozenset({"intake", "answered", "xfer_in", "xfer_rcpt"})
# Kinds whose "ok" counts the good ratings among them.
RATED_KINDS = frozenset({"rating", "followup"})
# Kinds whose "ok" counts those in time (``data.in_time``).
TIMED_KINDS = frozenset({"xfer_in", "xfer_rcpt"})
TIMED_MEASURES = {"transfer_in": "transfer_accepted", "transfer_receipt": "police_receipt"}


@dataclass(frozen=True)
class Measure:
    key: str
    label: Any  # lazy string
    definition: Any
    num_kind: str  # rollup kind of the numerator ("ok" of it for clocks and ratings)
    den_kind: str  # rollup kind of the denominator
    num_label: Any
    den_label: Any
    count_first: bool = False  # show the count, the rate beside it (returns)
    num_more: tuple[str, ...] = ()  # further kinds whose counts add to the numerator
    den_more: tuple[str, ...] = ()  # further kinds whose counts add to the denominator
    # A case type's measure (registered, :mod:`minsheng.stats.registry`): the clock it
    # counts, or the judged action (``JUDGED_ACTIONS``) whose rating or ``in_time`` it
    # counts, over the cases matching ``cases`` (lookups on the case, AND-ed).
    clock: str | None = None
    action: str | None = None
    cases: tuple[tuple[str, Any], ...] = ()

    @property
    def is_clock(self) -> bool:
        return self.key in CLOCKS or self.clock is not None

    @property
    def clock_name(self) -> str:
        return self.clock or self.key

    def case_q(self) -> Q:
        """The measure's cases, as a filter on a clock or event row."""
        return Q(**{f"case__{lookup}": value for lookup, value in self.cases})


# A list: the case types' measures are appended at start-up (``registry.register_measure``).
MEASURES: list[Measure] = [
    Measure(
        "sign",
        _("Signed in time"),
        _("Sign clocks met within the limit (1 minute by default) / sign clocks met or missed."),
        "sign",
        "sign",
        _("in time"),
        _("decided"),
    ),
    Measure(
        "dispatch",
        _("Dispatched in time"),
        _("Dispatch clocks met within the limit (5 minutes by default) / dispatch clocks met or missed."),
        "dispatch",
        "dispatch",
        _("in time"),
        _("decided"),
    ),
    Measure(
        "feedback",
        _("Feedback within 24 h"),
        _("Feedback clocks met within the limit (24 hours) / feedback clocks met or missed."),
        "feedback",
        "feedback",
        _("in time"),
        _("decided"),
    ),
    Measure(
        "resolve",
        _("Resolved in time"),
        _("Resolve clocks met (closed) within the limit / resolve clocks met or missed."),
        "resolve",
        "resolve",
        _("in time"),
        _("decided"),
    ),
    Measure(
        "response",
        _("Sensor 15-min response"),
        _("Sensor cases signed within 15 minutes of the alarm / sensor response clocks met or missed."),
        "response",
        "response",
        _("in time"),
        _("decided"),
    ),
    Measure(
        "satisfaction",
        _("Satisfaction"),
        _("Ratings satisfied or basically satisfied / all ratings."),
        "rating",
        "rating",
        _("satisfied"),
        _("rated"),
    ),
    Measure(
        "reopen", _("Reopen rate"), _("Reopenings / closings."), "reopen", "close", _("reopened"), _("closed")
    ),
    Measure(
        "returns",
        _("Returns"),
        _("Cases the unit returned as not its own / cases assigned to it."),
        "return",
        "assign",
        _("returned"),
        _("assigned"),
        count_first=True,
    ),
    Measure(
        "followup_rate",
        _("Follow-up rate"),
        _("Follow-ups finished (answered, by phone or the SMS link, or unreachable) / feedbacks given."),
        "followup",
        "fed_back",
        _("followed up"),
        _("fed back"),
        num_more=("followup_unreach",),
    ),
    Measure(
        "followup_satisfaction",
        _("Follow-up satisfaction"),
        _("Follow-ups answered satisfied or basically satisfied / follow-ups answered."),
        "followup",
        "followup",
        _("satisfied"),
        _("answered"),
    ),
    Measure(
        "followup_unreachable",
        _("Unreachable at follow-up"),
        _("Follow-ups ended unreachable after every call / follow-ups finished."),
        "followup_unreach",
        "followup",
        _("unreachable"),
        _("finished"),
        den_more=("followup_unreach",),
    ),
    Measure(
        "direct_answer",
        _("Direct-answer rate"),
        _("Requests answered on the spot from the knowledge base and closed at once / requests accepted."),
        "answered",
        "intake",
        _("answered on the spot"),
        _("accepted"),
    ),
    Measure(
        "transfer_in",
        _("110 transfers taken in time"),
        _("Transfers from 110 accepted within their clock / transfers from 110 accepted."),
        "xfer_in",
        "xfer_in",
        _("in time"),
        _("accepted"),
    ),
    Measure(
        "transfer_receipt",
        _("110 receipts in time"),
        _("Transfers to 110 whose receipt came within its clock / receipts from 110."),
        "xfer_rcpt",
        "xfer_rcpt",
        _("in time"),
        _("received"),
    ),
]
MEASURE_BY_KEY = {m.key: m for m in MEASURES}
# The case types' measures, in the order registered (also in MEASURES).
TYPE_MEASURES: list[Measure] = []
DURATIONS = CLOCKS
DURATION_LABELS = {
    ClockName.SIGN: _("Sign"),
    ClockName.DISPATCH: _("Dispatch"),
    ClockName.FEEDBACK: _("Feedback"),
    ClockName.RESOLVE: _("Resolve"),
    ClockName.RESPONSE: _("Sensor response"),
}
PERCENTILES = ((0.5, "p50"), (0.9, "p90"))


@dataclass
class Figure:
    """One cell: ``value`` = numerator / denominator (``None`` when nothing was decided)."""

    measure: str
    numerator: int = 0
    denominator: int = 0

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None


# --- filters, periods, scope --------------------------------------------------------------

NO_UNIT = 0  # the unit filter value for "no unit yet" (unit ids start at 1)


@dataclass(frozen=True)
class Filters:
    """A period of local days (both ends included) and optional dimensions."""

    start: dt.date
    end: dt.date
    unit: int | None = None  # NO_UNIT for clocks/events with no unit
    town: int | None = None
    matter: int | None = None
    channel: str | None = None


def local_tz() -> dt.tzinfo:
    return timezone.get_default_timezone()


def local_date(at: dt.datetime) -> dt.date:
    return at.astimezone(local_tz()).date()


def day_start(day: dt.date) -> dt.datetime:
    """Local midnight at the start of ``day``, as an aware datetime."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=local_tz())


@dataclass(frozen=True)
class Scope:
    """What the reader may count, in terms the rollups keep (the case's current owner unit
    and town, and the unit on the row). Mirrors ``visible_cases``; a test holds the two
    equal."""

    everything: bool = False
    nothing: bool = False
    owners: frozenset[int] = frozenset()
    town: int | None = None  # OR: cases in this town (a sub-centre's territory)
    unit: int | None = None  # AND: only rows of this unit (a handler's own unit)

    @property
    def needs_town(self) -> bool:
        return self.town is not None


def scope_for(actor: Actor) -> Scope:
    if actor.is_system or actor.role in CITY_WIDE:
        return Scope(everything=True)
    unit = actor.unit
    if actor.role == Role.SUBCENTRE_DISPATCHER and unit is not None:
        return Scope(owners=frozenset(unit_subtree_ids(unit)), town=unit.place_id)
    if actor.role == Role.HANDLER and unit is not None:
        return Scope(owners=frozenset({unit.pk}), unit=unit.pk)
    return Scope(nothing=True)


# --- SQL pieces shared by the live count and the rollup build ---------------------------


class Seconds(Func):
    """Seconds from the second expression to the first (two datetime columns)."""

    output_field = FloatField()
    arity = 2

    def as_sql(self, compiler, connection, **extra):  # pragma: no cover - other engines
        raise NotImplementedError(f"Seconds() is not written for {connection.vendor}")

    def as_postgresql(self, compiler, connection, **extra):
        end, end_p = compiler.compile(self.source_expressions[0])
        start, start_p = compiler.compile(self.source_expressions[1])
        return f"(EXTRACT(EPOCH FROM ({end} - {start})))::double precision", (*end_p, *start_p)

    def as_sqlite(self, compiler, connection, **extra):
        end, end_p = compiler.compile(self.source_expressions[0])
        start, start_p = compiler.compile(self.source_expressions[1])
        return f"((julianday({end}) - julianday({start})) * 86400.0)", (*end_p, *start_p)


class Bucket(Func):
    """The log-scale bucket of a duration in seconds: the SQL twin of
    :func:`minsheng.stats.buckets.bucket_of`."""

    output_field = IntegerField()
    arity = 1

    def as_sql(self, compiler, connection, **extra):
        s, p = compiler.compile(self.source_expressions[0])
        least = "LEAST" if connection.vendor == "postgresql" else "MIN"
        sql = (
            f"CASE WHEN {s} < 1 THEN 0 ELSE {least}({buckets.MAX_BUCKET}, "
            f"1 + CAST(FLOOR({buckets.PER_OCTAVE} * LN({s}) / LN(2.0)) AS INTEGER)) END"
        )
        return sql, (*p, *p, *p)


def ok_q() -> Q:
    return Q(met_at__isnull=False, met_at__lte=F("due_at"))


# Dimension → path from a clock row and from an event row. "u" is special for events.
CASE_DIMS = {"o": "case__owner_unit_id", "t": "case__town_id", "m": "case__matter_id", "c": "case__channel"}
FILTER_DIMS = {"town": "t", "matter": "m", "channel": "c"}


def _case_filters(filters: Filters | None) -> Q:
    q = Q()
    if filters is None:
        return q
    if filters.town is not None:
        q &= Q(case__town_id=filters.town)
    if filters.matter is not None:
        q &= Q(case__matter_id=filters.matter)
    if filters.channel:
        q &= Q(case__channel=filters.channel)
    return q


def _unit_q(path: str, unit: int | None) -> Q:
    if unit is None:
        return Q()
    if unit == NO_UNIT:
        return Q(**{f"{path}__isnull": True})
    return Q(**{path: unit})


def _scoped(qs: QuerySet, actor: Actor | None) -> QuerySet:
    """Only rows of cases the reader may see (THE scoping rule) and, for a handler, only
    rows of their own unit (applied by the caller on its unit expression)."""
    if actor is None:
        return qs
    scope = scope_for(actor)
    if scope.everything:
        return qs
    if scope.nothing:
        return qs.none()
    return qs.filter(case__in=visible_cases(actor).values("pk"))


def _dims(group: Sequence[str], unit_expr: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for d in group:
        out[d] = unit_expr if d == "u" else F(CASE_DIMS[d])
    return out


def clock_base(start: dt.datetime, end: dt.datetime) -> QuerySet[CaseClock]:
    """The case's own clocks (a joint group's member clocks are the group's business)."""
    return CaseClock.objects.filter(started_at__gte=start, started_at__lt=end, name__in=CLOCKS)


def clock_rows(
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    *,
    group: Sequence[str],
    filters: Filters | None = None,
    actor: Actor | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The clocks started in ``[start, end)``, in one pass over them:

    * counts, rows ``{dims…, kind, n, ok}``: ``n`` met in time + missed, ``ok`` met in
      time (pending and void clocks are left out);
    * durations, rows ``{dims…, name, bucket, n}``: the histogram of how long the met
      clocks took.

    One grouped query by (dims, clock, bucket), the bucket empty for clocks not met."""
    qs = _clock_qs(start, end, filters, actor)
    bucket = When_(
        When(met_at__isnull=True, then=None),
        default=Bucket(Seconds(F("met_at"), F("started_at"))),
        output_field=IntegerField(),
    )
    rows = qs.values(**_dims(group, F("unit_id")), kind=F("name"), b=bucket).annotate(
        ok=Count("pk", filter=ok_q()),
        missed=Count("pk", filter=late_q(now)),
        all=Count("pk"),
    )
    dims = [*group, "kind"]
    counts: dict[tuple, list[int]] = {}
    hists: list[dict[str, Any]] = []
    for r in rows:
        key = tuple(r[d] for d in dims)
        cell = counts.get(key)
        if cell is None:
            cell = counts[key] = [0, 0]
        cell[0] += r["ok"] + r["missed"]
        cell[1] += r["ok"]
        if r["b"] is not None:
            h = {d: r[d] for d in group}
            h["name"], h["bucket"], h["n"] = r["kind"], r["b"], r["all"]
            hists.append(h)
    count_rows = []
    for key, (n, ok) in counts.items():
        if n:
            row = dict(zip(dims, key, strict=True))
            row["n"], row["ok"] = n, ok
            count_rows.append(row)
    count_rows += _type_clock_rows(qs, group, now)
    return count_rows, hists


def _type_clock_rows(qs: QuerySet[CaseClock], group: Sequence[str], now: dt.datetime) -> list[dict[str, Any]]:
    """The case types' clock measures: one grouped query each, over their own cases."""
    out: list[dict[str, Any]] = []
    for m in TYPE_MEASURES:
        if m.clock is None:
            continue
        rows = (
            qs.filter(name=m.clock)
            .filter(m.case_q())
            .filter(ok_q() | late_q(now))
            .values(**_dims(group, F("unit_id")))
            .annotate(n=Count("pk"), ok=Count("pk", filter=ok_q()))
        )
        for r in rows:
            r["kind"] = m.num_kind
            out.append(r)
    return out


def _clock_qs(
    start: dt.datetime, end: dt.datetime, filters: Filters | None, actor: Actor | None
) -> QuerySet[CaseClock]:
    qs = _scoped(clock_base(start, end).filter(_case_filters(filters)), actor)
    qs = qs.filter(_unit_q("unit_id", filters.unit if filters else None))
    own = scope_for(actor).unit if actor is not None else None
    if own is not None:
        qs = qs.filter(unit_id=own)
    return qs


def judged_unit() -> Any:
    """The unit a rating, closing or reopening judges: whoever fed back last before it
    (none if the case was never fed back). One step down the partial index
    ``stats_feedback_met`` per event; no need to read the case."""
    feedback = (
        CaseClock.objects.filter(
            case_id=OuterRef("case_id"),
            name=ClockName.FEEDBACK,
            met_at__isnull=False,
            met_at__lte=OuterRef("at"),
        )
        .order_by("-met_at")
        .values("unit_id")[:1]
    )
    return Subquery(feedback, output_field=BigIntegerField())


def event_counts(
    start: dt.datetime,
    end: dt.datetime,
    *,
    group: Sequence[str],
    filters: Filters | None = None,
    actor: Actor | None = None,
    unit_codes: dict[str, int] | None = None,
) -> list[dict[str, Any]]:
    """Rows ``{dims…, kind, n, ok}`` for the events at ``[start, end)`` the event measures
    count (kinds ``rating``, ``close``, ``reopen``, ``return``, ``assign``). Two queries."""
    base = _scoped(
        CaseEvent.objects.filter(at__gte=start, at__lt=end).filter(_case_filters(filters)),
        actor,
    )
    unit_filter = filters.unit if filters else None
    own = scope_for(actor).unit if actor is not None else None
    out: list[dict[str, Any]] = []

    judged = base.filter(action__in=tuple(JUDGED_ACTIONS)).annotate(uj=judged_unit())
    judged = judged.filter(_unit_q("uj", unit_filter))
    if own is not None:
        judged = judged.filter(uj=own)
    rows = judged.values(**_dims(group, F("uj")), action_=F("action")).annotate(
        n=Count("pk"),
        ok=Count("pk", filter=Q(data__rating__in=list(GOOD_RATINGS)) | Q(data__in_time=True)),
    )
    for r in rows:
        action = r.pop("action_")
        r["kind"] = JUDGED_ACTIONS[action]
        if r["kind"] not in RATED_KINDS and r["kind"] not in TIMED_KINDS:
            r["ok"] = 0
        out.append(r)
    # The case types' event measures: the same judged rows, over their own cases.
    for m in TYPE_MEASURES:
        if m.action is None:
            continue
        typed = judged.filter(action=m.action).filter(m.case_q())
        for r in typed.values(**_dims(group, F("uj"))).annotate(
            n=Count("pk"), ok=Count("pk", filter=_ok_event_q(m.action))
        ):
            r["kind"] = m.num_kind
            out.append(r)

    # Returns per the returning unit, assignments per the receiving unit: the unit is
    # named by code in the event's data, and mapped to its id here.
    codes = unit_codes if unit_codes is not None else _unit_codes()
    ids_to_code = {v: k for k, v in codes.items()}
    coded = base.filter(action__in=("return", "assign")).annotate(
        code=When_(
            When(action="return", then=KT("data__returned_by")),
            default=KT("data__unit"),
            output_field=CharField(),
        ),
    )
    for wanted in (unit_filter, own):
        if wanted is None:
            continue
        if wanted == NO_UNIT:
            coded = coded.filter(code__isnull=True)
        else:
            coded = coded.filter(code=ids_to_code.get(wanted, "\x00none"))
    group_wo_unit = [d for d in group if d != "u"]
    rows = coded.values(**_dims(group_wo_unit, None), code_=F("code"), action_=F("action")).annotate(
        n=Count("pk")
    )
    for r in rows:
        code = r.pop("code_")
        action = r.pop("action_")
        r["kind"] = action
        r["ok"] = 0
        if "u" in group:
            r["u"] = codes.get(code) if code else None
        out.append(r)
    return out


def _ok_event_q(action: str) -> Q:
    """What counts as "ok" for a judged action: a good rating for ratings and follow-ups,
    ``in_time`` for the rest."""
    if JUDGED_ACTIONS[action] in RATED_KINDS:
        return Q(data__rating__in=list(GOOD_RATINGS))
    return Q(data__in_time=True)


def _unit_codes() -> dict[str, int]:
    return dict(Unit.objects.values_list("code", "pk"))


# --- the audit trail: the rows behind a figure -------------------------------------------

PARTS = ("num", "den", "missed")
# The follow-up measures' events: (numerator's actions, denominator's actions).
FOLLOWUP_AUDIT: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "followup_rate": (("followup", "followup_unreachable"), ("feedback",)),
    "followup_satisfaction": (("followup",), ("followup",)),
    "followup_unreachable": (("followup_unreachable",), ("followup", "followup_unreachable")),
    # Not a follow-up measure, but read the same way.
    "direct_answer": (("answered_on_the_spot",), ("accept",)),
}


def audit_items(actor: Actor, filters: Filters, measure: str, part: str, now: dt.datetime) -> QuerySet:
    """The clock rows or events a figure counted (``num``: the numerator, ``den``: the
    denominator, ``missed``: denominator minus numerator), computed from the raw tables
    under the reader's scope. A clock measure returns ``CaseClock`` rows, an event measure
    ``CaseEvent`` rows; each names its case."""
    m = MEASURE_BY_KEY[measure]
    start, end = day_start(filters.start), day_start(filters.end + dt.timedelta(days=1))
    if m.is_clock:
        clocks = _clock_qs(start, end, filters, actor).filter(name=m.clock_name).filter(m.case_q())
        if part == "num":
            clocks = clocks.filter(ok_q())
        elif part == "missed":
            clocks = clocks.filter(late_q(now))
        else:
            clocks = clocks.filter(ok_q() | late_q(now))
        return clocks.select_related("case", "unit").order_by("started_at", "pk")
    base = _scoped(
        CaseEvent.objects.filter(at__gte=start, at__lt=end).filter(_case_filters(filters)),
        actor,
    )
    own = scope_for(actor).unit
    if m.action is not None:
        qs = base.filter(action=m.action).filter(m.case_q())
        ok = _ok_event_q(m.action)
        if part == "num":
            qs = qs.filter(ok)
        elif part == "missed":
            qs = qs.exclude(ok)
        qs = qs.annotate(uj=judged_unit()).filter(_unit_q("uj", filters.unit))
        if own is not None:
            qs = qs.filter(uj=own)
    elif m.key in TIMED_MEASURES:
        qs = base.filter(action=TIMED_MEASURES[m.key])
        if part == "num":
            qs = qs.filter(data__in_time=True)
        elif part == "missed":
            qs = qs.exclude(data__in_time=True)
    elif m.key in FOLLOWUP_AUDIT:
        num, den = FOLLOWUP_AUDIT[m.key]
        qs = base.filter(action__in=num if part == "num" else den)
        if m.key == "followup_satisfaction" and part != "den":
            good = Q(data__rating__in=list(GOOD_RATINGS))
            qs = qs.filter(good) if part == "num" else qs.exclude(good)
        elif part == "missed" and m.key in ("followup_rate", "direct_answer"):
            # Feedbacks whose case has no finished follow-up after them.
            qs = qs.exclude(
                Exists(
                    CaseEvent.objects.filter(
                        case_id=OuterRef("case_id"), action__in=num, at__gte=OuterRef("at")
                    )
                )
            )
        elif part == "missed":
            qs = qs.exclude(action__in=num)
        qs = qs.annotate(uj=judged_unit()).filter(_unit_q("uj", filters.unit))
        if own is not None:
            qs = qs.filter(uj=own)
    elif m.key in ("satisfaction", "reopen"):
        if m.key == "satisfaction":
            qs = base.filter(action="rate")
            if part == "num":
                qs = qs.filter(data__rating__in=list(GOOD_RATINGS))
            elif part == "missed":
                qs = qs.exclude(data__rating__in=list(GOOD_RATINGS))
        else:
            qs = base.filter(action="reopen" if part == "num" else "close")
        qs = qs.annotate(uj=judged_unit()).filter(_unit_q("uj", filters.unit))
        if own is not None:
            qs = qs.filter(uj=own)
    else:
        action = "return" if part == "num" else "assign"
        key = "returned_by" if action == "return" else "unit"
        qs = base.filter(action=action).annotate(code=KT(f"data__{key}"))
        codes = {v: k for k, v in _unit_codes().items()}
        for wanted in (filters.unit, own):
            if wanted is None:
                continue
            if wanted == NO_UNIT:
                qs = qs.filter(code__isnull=True)
            else:
                qs = qs.filter(code=codes.get(wanted, "\x00none"))
    return qs.select_related("case").order_by("at", "pk")


# --- assembling a table --------------------------------------------------------------------


@dataclass
class Tally:
    """Counts and histograms for one unit (or the total), before they become figures."""

    counts: dict[str, list[int]] = field(default_factory=dict)  # kind → [n, ok]
    hists: dict[str, dict[int, int]] = field(default_factory=dict)  # clock → bucket → n

    def add_count(self, kind: str, n: int, ok: int) -> None:
        cell = self.counts.setdefault(kind, [0, 0])
        cell[0] += int(n)
        cell[1] += int(ok)

    def add_hist(self, name: str, bucket: int, n: int) -> None:
        h = self.hists.setdefault(name, {})
        h[int(bucket)] = h.get(int(bucket), 0) + int(n)

    def merge_hist(self, name: str, hist: dict[int, int]) -> None:
        """Adds a whole histogram (bucket → n, ints already)."""
        mine = self.hists.get(name)
        if mine is None:
            self.hists[name] = dict(hist)
            return
        get = mine.get
        for b, n in hist.items():
            mine[b] = get(b, 0) + n

    def absorb(self, other: Tally) -> None:
        for kind, (n, ok) in other.counts.items():
            self.add_count(kind, n, ok)
        for name, h in other.hists.items():
            self.merge_hist(name, h)

    def is_empty(self) -> bool:
        return not any(n or ok for n, ok in self.counts.values()) and not any(
            any(h.values()) for h in self.hists.values()
        )

    def figure(self, m: Measure) -> Figure:
        n_den, ok_den = self.counts.get(m.den_kind, [0, 0])
        n_den += sum(self.counts.get(kind, [0, 0])[0] for kind in m.den_more)
        if m.num_kind == m.den_kind:
            return Figure(m.key, ok_den, n_den)
        n_num = sum(self.counts.get(kind, [0, 0])[0] for kind in (m.num_kind, *m.num_more))
        return Figure(m.key, n_num, n_den)

    def percentile(self, name: str, p: float) -> float | None:
        return buckets.percentile(self.hists.get(name, {}), p)


def tally_by_unit(
    count_rows: Iterable[dict[str, Any]],
    hist_rows: Iterable[dict[str, Any]],
    into: dict[int | None, Tally] | None = None,
) -> dict[int | None, Tally]:
    """Folds rows keyed by ``u`` (unit id or ``None``) into one tally per unit."""
    out = into if into is not None else {}
    for r in count_rows:
        out.setdefault(r["u"], Tally()).add_count(r["kind"], r["n"], r["ok"])
    for r in hist_rows:
        out.setdefault(r["u"], Tally()).add_hist(r["name"], r["bucket"], r["n"])
    return out


def live_tallies(
    actor: Actor | None,
    filters: Filters,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    into: dict[int | None, Tally] | None = None,
) -> dict[int | None, Tally]:
    """Everything in ``[start, end)`` computed from the raw tables (three queries, and the
    units' codes)."""
    group = ("u",)
    counts, hists = clock_rows(start, end, now, group=group, filters=filters, actor=actor)
    counts += event_counts(start, end, group=group, filters=filters, actor=actor)
    return tally_by_unit(counts, hists, into)


__all__ = [
    "CLOCKS",
    "DURATIONS",
    "MEASURES",
    "NO_UNIT",
    "PERCENTILES",
    "TYPE_MEASURES",
    "Figure",
    "Filters",
    "Measure",
    "Scope",
    "Tally",
    "audit_items",
    "clock_rows",
    "event_counts",
    "live_tallies",
    "scope_for",
]
