"""The decision at intake (智能分拨), in one place: where a new case is (its place), what it
is about (its category), whether it repeats an open case (duplicates), who owns it (the
list of matters), and whether it goes there with no human step (零接触派单) or waits for a
dispatcher, with the reasons.

Everything the decision reads is the case's own or the base's (places, the list of
matters, units), except the category, which comes from the classifier a part above plugs
in (``routing`` registers it: the model store, hot reload and training from the city's
cases). With none registered a case without a given category waits for a dispatcher.

:func:`route_many` makes the decision for new cases (a batch, or the batch of one a single
intake is) and sets what it learns on them, reading what the decision needs from the
database a constant number of times for the whole batch (:class:`Lookups`: the matters, the
places, the sub-centres and the open cases a new one may repeat, each in one query), with
places found in memory (the locator and gazetteer of ``places.queries``). ``accept_case``
and ``accept_cases`` store the cases with the decision's record and act on it.

Two new cases of one batch are compared with each other as two cases made one after the
other would be: an earlier item of the batch is an open case for the later ones (a
candidate, or certain and merged into), named in the record by its id and number once it
is written.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rapidfuzz import fuzz

from minsheng.accounts.models import Unit, UnitKind
from minsheng.catalog.models import Matter
from minsheng.places.coords import distance_m
from minsheng.places.models import Place
from minsheng.places.queries import address_match, place_code_at, places_by_code

from . import registry
from .models import Case
from .states import State

# --- what the decision reads -------------------------------------------------------------


CELL_DEG = 0.25  # new points' duplicate boxes within one such cell are searched as one box


class _Open:
    """An open case as the duplicate search reads it (a row, not a model: a batch reads
    thousands), its text normalised once."""

    __slots__ = ("_norm", "address", "created_at", "lat", "lng", "number", "pk", "text")

    def __init__(
        self,
        pk: int,
        number: str,
        text: str,
        lat: float | None,
        lng: float | None,
        address: str,
        created_at: dt.datetime,
    ):
        self.pk, self.number, self.text, self.lat, self.lng = pk, number, text, lat, lng
        self.address, self.created_at = address, created_at
        self._norm: str | None = None

    @property
    def norm(self) -> str:
        if self._norm is None:
            self._norm = _norm(self.text)
        return self._norm


class Lookups:
    """What the decision reads from the database for a set of new cases, each kind read in
    one query for them all and kept for the set (one intake, or a batch): the active
    matters by code with their owner units, the places by code, the sub-centres by town,
    and the open cases each new one may repeat (:meth:`load_open_cases`)."""

    def __init__(self) -> None:
        self._matters: dict[str, Matter | None] = {}
        self._places: dict[str, Place | None] = {}
        self._subcentres: dict[int, Unit | None] = {}
        self._open: dict[int, list[Case | _Open]] | None = None

    def matters(self, codes: Sequence[str | None]) -> dict[str, Matter | None]:
        """The active matters with these codes (``None`` for an unknown code)."""
        missing = {c for c in codes if c and c not in self._matters}
        if missing:
            found = {
                m.code: m
                for m in Matter.objects.select_related("owner_unit")
                .filter(code__in=missing, active=True)
                .order_by()
            }
            for code in missing:
                self._matters[code] = found.get(code)
        return self._matters

    def matter(self, code: str | None) -> Matter | None:
        return self.matters([code]).get(code) if code else None

    def places(self, codes: Sequence[str | None]) -> dict[str, Place | None]:
        missing = {c for c in codes if c and c not in self._places}
        if missing:
            found = places_by_code(missing)
            for code in missing:
                self._places[code] = found.get(code)
        return self._places

    def subcentre(self, town_id: int) -> Unit | None:
        if town_id not in self._subcentres:
            self.load_subcentres([town_id])
        return self._subcentres[town_id]

    def load_subcentres(self, town_ids: Sequence[int]) -> None:
        """The first active sub-centre of each town (in the units' own order)."""
        missing = {t for t in town_ids if t not in self._subcentres}
        if not missing:
            return
        for unit in Unit.objects.filter(kind=UnitKind.SUBCENTRE, place_id__in=missing, active=True).order_by(
            "kind", "code"
        ):
            self._subcentres.setdefault(unit.place_id, unit)  # type: ignore[arg-type]
        for town in missing:
            self._subcentres.setdefault(town, None)

    def load_open_cases(self, cases: Sequence[Case]) -> None:
        """The open cases any of ``cases`` may repeat, in one query: per matter, those made
        within its window of the earliest new case and inside the boxes around the new
        points (boxes in one cell of :data:`CELL_DEG` joined into one), or at one of the new
        addresses; newest first. Each new case then takes its own from these in memory
        (:func:`find_duplicates`), as its own query would."""
        branches: list[Any] = []
        by_matter: dict[int, list[Case]] = {}
        for case in cases:
            m = case.matter
            if m is not None and m.duplicate_window_hours:
                by_matter.setdefault(m.pk, []).append(case)
        columns = ("pk", "number", "text", "lat", "lng", "address", "created_at", "matter_id", "merged_into")
        for group in by_matter.values():
            matter = group[0].matter
            assert matter is not None
            since = min(c.created_at for c in group) - dt.timedelta(hours=matter.duplicate_window_hours)
            radius = float(matter.duplicate_radius_m or 0)
            cells: dict[tuple[int, int], list[float]] = {}
            addresses: set[str] = set()
            for c in group:
                if c.lat is not None and c.lng is not None and radius:
                    lat0, lat1, lng0, lng1 = _box(c, radius)
                    cell = cells.setdefault((math.floor(c.lat / CELL_DEG), math.floor(c.lng / CELL_DEG)), [])
                    if not cell:
                        cell.extend((lat0, lat1, lng0, lng1))
                    else:
                        cell[:] = [
                            min(cell[0], lat0),
                            max(cell[1], lat1),
                            min(cell[2], lng0),
                            max(cell[3], lng1),
                        ]
                elif _norm(c.address):
                    addresses.add(c.address)
            # One SELECT per box, read off the open cases' (matter, lat, lng) index, joined
            # by UNION ALL into one statement. Merged cases are left out here (a condition
            # on merged_into made SQLite read that column's index, nearly every row), and
            # the order is made here (an ORDER BY made it walk the whole table).
            open_ = (
                Case.objects.filter(matter=matter, created_at__gte=since)
                .exclude(state=State.CLOSED)
                .order_by()
            )
            for lat0, lat1, lng0, lng1 in cells.values():
                near = open_.filter(lat__range=(lat0, lat1), lng__range=(lng0, lng1))
                branches.append(near.values_list(*columns))
            if addresses:
                branches.append(open_.filter(address__in=addresses).values_list(*columns))
        self._open = {}
        if not branches:
            return
        found = branches[0].union(*branches[1:], all=True) if len(branches) > 1 else branches[0]
        seen: set[int] = set()
        for row in sorted(found, key=lambda r: (r[6], r[0]), reverse=True):
            if row[8] is None and row[0] not in seen:  # boxes may overlap
                seen.add(row[0])
                self._open.setdefault(row[7], []).append(_Open(*row[:7]))

    def open_cases(self, matter_id: int) -> list[Case | _Open] | None:
        """The open cases of the matter loaded for the set, newest first; ``None`` when not
        loaded (a case asked alone queries its own)."""
        return None if self._open is None else self._open.setdefault(matter_id, [])


# --- place -------------------------------------------------------------------------------


def place_case(case: Case, lookups: Lookups | None = None) -> dict:
    """Set the case's place and town from its point, else from its address; returns how
    it was found (or why not), for the case's routing record."""
    return place_cases([case], lookups or Lookups())[0]


def place_cases(cases: Sequence[Case], lookups: Lookups) -> list[dict]:
    """:func:`place_case` for many cases: each found in memory, their rows read at once."""
    found: list[tuple[str, str | None, tuple[float | None, float | None, dict] | None]] = []
    for case in cases:
        if case.lat is not None and case.lng is not None:
            found.append(("point", place_code_at(case.lat, case.lng), None))
        elif case.address:
            match = address_match(case.address)
            found.append(("address", match[0] if match else None, match[1:] if match else None))
        else:
            found.append(("", None, None))
    places = lookups.places([code for _m, code, _x in found])
    out: list[dict] = []
    for case, (method, code, extra) in zip(cases, found, strict=True):
        place = places.get(code) if code else None
        if method == "point":
            if place is None:
                out.append(
                    {
                        "method": "point",
                        "found": False,
                        "reason": _("The point is outside every boundary of the city."),
                    }
                )
                continue
            case.place, case.town = place, place.town
            out.append({"method": "point", "found": True, "code": place.code})
        elif method == "address":
            if place is None or extra is None:
                out.append(
                    {"method": "address", "found": False, "reason": _("The address matches no known place.")}
                )
                continue
            lat, lng, info = extra
            case.place, case.town = place, place.town
            if lat is not None:
                case.lat, case.lng = lat, lng
            out.append({"method": "address", "found": True, "code": place.code, **info})
        else:
            out.append({"method": None, "found": False, "reason": _("No place: no point and no address.")})
    return out


# --- owner -------------------------------------------------------------------------------


def decide_owner(case: Case, lookups: Lookups | None = None) -> tuple[Unit | None, str]:
    """The unit the list of matters names, with the reason in words; ``None`` and the
    reason when a dispatcher must decide."""
    matter = case.matter
    if matter is None:
        return None, _("No category yet: a dispatcher classifies it.")
    owner = matter.owner_unit
    if owner is not None:
        return owner, _("List of matters: %(code)s → %(unit)s") % {"code": matter.code, "unit": owner.name}
    if case.town_id is None:
        return None, _("Territorial matter but the place is unknown: a dispatcher decides.")
    if lookups is not None:
        sub = lookups.subcentre(case.town_id)
    else:
        sub = Unit.objects.filter(kind=UnitKind.SUBCENTRE, place_id=case.town_id, active=True).first()
    if sub is None:
        town = case.town
        assert town is not None  # town_id is set
        return None, _("No sub-centre for %(town)s.") % {"town": town.name}
    return sub, _("List of matters: %(code)s is territorial → %(unit)s") % {
        "code": matter.code,
        "unit": sub.name,
    }


# --- duplicates (重复工单) ------------------------------------------------------------------
#
# A candidate is an open case of the same matter, within the matter's radius and time
# window, whose text is alike. A match is *certain* (merged with no human step) when the
# same address or the same device reported the same matter within the hour; otherwise the
# dispatcher sees the candidates side by side and decides.

CERTAIN_WINDOW = dt.timedelta(hours=1)
TEXT_MIN = 30.0  # rapidfuzz score (0–100) below which two texts are about different things
NEIGHBOURS_MAX = 200  # the newest open cases near a new one whose texts are compared
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
_M_PER_DEG_LAT = 111_320.0


@dataclass(frozen=True)
class Candidate:
    """An open case a new one may repeat. ``of`` is the open case: its id, or an earlier
    case of the same batch, whose id and number are known once it is written."""

    of: int | Case
    known_number: str
    distance_m: float | None
    text_score: float
    certain: bool

    @property
    def case_id(self) -> int:
        of = self.of
        return of if isinstance(of, int) else of.pk

    @property
    def number(self) -> str:
        return self.known_number if isinstance(self.of, int) else self.of.number

    def as_dict(self) -> dict:
        return {
            "id": self.case_id,
            "number": self.number,
            "distance_m": None if self.distance_m is None else round(self.distance_m, 1),
            "text_score": round(self.text_score, 1),
            "certain": self.certain,
        }


def _norm(text: str) -> str:
    return _NOISE.sub("", text or "")[:500]


def _similarity(x: str, y: str) -> float:
    """0–100: how alike two reports read, normalised (character based: Chinese has no
    spaces)."""
    if not x or not y:
        return 0.0
    return max(
        fuzz.ratio(x, y), fuzz.partial_ratio(x, y) * 0.9, fuzz.token_set_ratio(" ".join(x), " ".join(y)) * 0.8
    )


def _box(case: Case, radius: float) -> tuple[float, float, float, float]:
    """The latitude and longitude ranges within ``radius`` metres of the case's point."""
    assert case.lat is not None and case.lng is not None
    dlat = radius / _M_PER_DEG_LAT
    dlng = radius / (_M_PER_DEG_LAT * max(0.1, math.cos(math.radians(case.lat))))
    return case.lat - dlat, case.lat + dlat, case.lng - dlng, case.lng + dlng


def _neighbours(
    case: Case, matter: Matter, since: dt.datetime, radius: float, lookups: Lookups | None
) -> list[Case | _Open] | None:
    """The newest open cases of the matter near the case (by its point, else at its exact
    address), as the database's filter would answer them; ``None`` when it can have none."""
    by_point = case.lat is not None and case.lng is not None and radius
    if not by_point and not _norm(case.address):
        return None
    pool = lookups.open_cases(matter.pk) if lookups is not None else None
    if pool is None:
        qs = Case.objects.filter(matter=matter, created_at__gte=since, merged_into__isnull=True).exclude(
            state=State.CLOSED
        )
        if case.pk:
            qs = qs.exclude(pk=case.pk)
        if by_point:
            lat0, lat1, lng0, lng1 = _box(case, radius)
            near = qs.filter(lat__range=(lat0, lat1), lng__range=(lng0, lng1))
        else:
            near = qs.filter(address=case.address)
        fields = ("pk", "number", "text", "lat", "lng", "address", "created_at", "channel")
        return list[Case | _Open](near.only(*fields)[:NEIGHBOURS_MAX])
    out: list[Case | _Open] = []
    if by_point:
        lat0, lat1, lng0, lng1 = _box(case, radius)
        for other in pool:
            lat, lng = other.lat, other.lng
            if (
                lat is not None
                and lng is not None
                and lat0 <= lat <= lat1
                and lng0 <= lng <= lng1
                and other.created_at >= since
                and other is not case
            ):
                out.append(other)
                if len(out) == NEIGHBOURS_MAX:
                    break
    else:
        for other in pool:
            if other.address == case.address and other.created_at >= since and other is not case:
                out.append(other)
                if len(out) == NEIGHBOURS_MAX:
                    break
    return out


def find_duplicates(case: Case, *, limit: int = 5, lookups: Lookups | None = None) -> list[Candidate]:
    """Open cases this one may repeat, best first. Needs the case's matter; uses its point
    when it has one, else only a same-address match can be found. With ``lookups`` the
    open cases loaded for a batch are searched in memory (:meth:`Lookups.load_open_cases`)."""
    matter = case.matter
    if matter is None or not matter.duplicate_window_hours:
        return []
    since = case.created_at - dt.timedelta(hours=matter.duplicate_window_hours)
    radius = float(matter.duplicate_radius_m or 0)
    near = _neighbours(case, matter, since, radius, lookups)
    if not near:
        return []
    address = _norm(case.address)
    text = _norm(case.text)
    out: list[Candidate] = []
    for other in near:
        dist = None
        if case.lat is not None and case.lng is not None and other.lat is not None and other.lng is not None:
            dist = distance_m(case.lat, case.lng, other.lat, other.lng)
            if radius and dist > radius:
                continue
        score = _similarity(text, other.norm if isinstance(other, _Open) else _norm(other.text))
        same_address = bool(address) and _norm(other.address) == address
        certain = same_address and case.created_at - other.created_at <= CERTAIN_WINDOW
        if score < TEXT_MIN and not certain:
            continue
        of: int | Case = other.pk if other.pk is not None else other
        out.append(Candidate(of, other.number, dist, score, certain))
    out.sort(key=lambda c: (not c.certain, -c.text_score, c.distance_m or 0.0))
    return out[:limit]


# --- the decision ------------------------------------------------------------------------


class _PossibleDuplicates:
    """The reason "possible duplicate of …", in words once the candidates' numbers are known
    (an earlier case of the same batch has its number only when the batch is written)."""

    def __init__(self, duplicates: list[Candidate]):
        self.duplicates = duplicates

    def __str__(self) -> str:
        return _("Possible duplicate of %(numbers)s.") % {
            "numbers": ", ".join(d.number for d in self.duplicates)
        }


@dataclass
class Decision:
    code: str | None
    confidence: float
    candidates: list[tuple[str, float]]
    method: str  # given | model | keywords | none
    model_version: str = ""
    model_threshold: float = 0.0
    duplicates: list[Candidate] = field(default_factory=list)
    reasons: list[Any] = field(default_factory=list)  # words (``str`` of each once numbers are known)
    auto: bool = False
    place: dict[str, Any] = field(default_factory=dict)  # how the place was found, or why not
    owner: Unit | None = None  # where it goes with no human step, when it may
    owner_reason: str = ""

    @property
    def certain_duplicate(self) -> Candidate | None:
        return next((d for d in self.duplicates if d.certain), None)

    @property
    def in_batch(self) -> bool:
        """Whether a candidate is an earlier case of the same batch (named once written)."""
        return any(not isinstance(d.of, int) for d in self.duplicates)

    @property
    def triage_reasons(self) -> list[str]:
        """Why a dispatcher must look (the owner's reason when only the owner is missing)."""
        return [str(r) for r in self.reasons] or [self.owner_reason]

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "confidence": round(self.confidence, 4),
            "candidates": [{"code": c, "score": round(s, 4)} for c, s in self.candidates],
            "method": self.method,
            "model_version": self.model_version,
            "model_threshold": self.model_threshold,
            "duplicates": [d.as_dict() for d in self.duplicates],
            "reasons": [str(r) for r in self.reasons],
            "auto": self.auto,
        }

    def record(self) -> dict[str, Any]:
        """What the case keeps as ``routing``: why it went where it went."""
        return {**self.as_dict(), "place": self.place}


def categorise(case: Case, given: Matter | None, predicted: tuple[Any, float] | None = None) -> Decision:
    """The operator's category when given; otherwise the classifier's best guess (or the one
    ``predicted`` for the case's text, batch intake classifying many texts in one pass), which
    is stored on the case either way so that a dispatcher's correction becomes training data."""
    if given is not None:
        return Decision(code=given.code, confidence=1.0, candidates=[(given.code, 1.0)], method="given")
    classify = registry.classifier()
    if classify is None:
        return Decision(code=None, confidence=0.0, candidates=[], method="none")
    p, model_threshold = predicted if predicted is not None else classify(case.text)
    return Decision(
        code=p.code,
        confidence=float(p.confidence),
        candidates=[(c, float(s)) for c, s in p.candidates],
        method=p.method,
        model_version=str(getattr(p, "model_version", "")),
        model_threshold=model_threshold,
    )


def decide(
    case: Case, decision: Decision, place_reason: str | None, lookups: Lookups | None = None
) -> Decision:
    """Fill in duplicates, the reasons a human must look, and ``auto``."""
    matter = case.matter
    if matter is None:
        decision.reasons.append(_("No category could be determined."))
    elif decision.method != "given":
        # The city's threshold for the matter, raised where the model's own held-out
        # evaluation says it needs more confidence for that matter.
        threshold = max(matter.auto_threshold, decision.model_threshold)
        if decision.confidence < threshold:
            decision.reasons.append(
                _("Low confidence: %(code)s at %(conf).0f%% (threshold %(thr).0f%%).")
                % {"code": matter.code, "conf": decision.confidence * 100, "thr": threshold * 100}
            )
    if case.place_id is None:
        decision.reasons.append(place_reason or _("No place: no point and no known address."))
    if matter is not None:
        decision.duplicates = find_duplicates(case, lookups=lookups)
        if decision.duplicates and not decision.certain_duplicate:
            decision.reasons.append(_PossibleDuplicates(decision.duplicates))
    if decision.method != "given" and not settings.MINSHENG_AUTO_DISPATCH and not decision.reasons:
        decision.reasons.append(_("Zero-touch dispatch is off: a dispatcher confirms."))
    decision.auto = not decision.reasons
    return decision


def route_many(
    cases: Sequence[Case],
    given: Sequence[Matter | None],
    predicted: Sequence[tuple[Any, float] | None],
    lookups: Lookups | None = None,
) -> list[Decision]:
    """The whole decision for new cases made together (``created_at``, text, point or
    address set), in their order: sets each one's place, town and matter, and answers its
    decision with the candidates, the reasons a dispatcher must look, and the owner when it
    may go there with no human step. What the decision reads from the database is read
    once for all of them (:class:`Lookups`), and each case sees the earlier ones as open
    cases it may repeat, as if each had been made after the one before. A case whose
    earlier duplicate is certain is merged into it, so it is no candidate for the later
    ones."""
    lookups = lookups or Lookups()
    places = place_cases(cases, lookups)
    decisions = [categorise(c, g, p) for c, g, p in zip(cases, given, predicted, strict=True)]
    matters = lookups.matters([d.code for c, d in zip(cases, decisions, strict=True) if c.matter is None])
    for case, decision in zip(cases, decisions, strict=True):
        if case.matter is None and decision.code:
            case.matter = matters.get(decision.code)
    many = len(cases) > 1
    if many:
        lookups.load_open_cases(cases)
        lookups.load_subcentres([c.town_id for c in cases if c.town_id is not None])
    for case, decision, place in zip(cases, decisions, places, strict=True):
        decide(case, decision, place.get("reason"), lookups if many else None)
        decision.place = place
        if decision.auto and decision.certain_duplicate is None:
            decision.owner, decision.owner_reason = decide_owner(case, lookups)
        if many and case.matter is not None and decision.certain_duplicate is None:
            # An open case for the items after it: newest first, as the query would order it.
            pool = lookups.open_cases(case.matter.pk)
            if pool is not None:
                pool.insert(0, case)
    return decisions
