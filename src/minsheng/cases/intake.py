"""The decision at intake (智能分拨), in one place: where a new case is (its place), what it
is about (its category), whether it repeats an open case (duplicates), who owns it (the
list of matters), and whether it goes there with no human step (零接触派单) or waits for a
dispatcher, with the reasons.

Everything the decision reads is the case's own or the base's (places, the list of
matters, units), except the category, which comes from the classifier a part above plugs
in (``routing`` registers it: the model store, hot reload and training from the city's
cases). With none registered a case without a given category waits for a dispatcher.

:func:`route` makes the decision for a new case and sets what it learns on the case;
``accept_case`` stores the case with the decision's record and acts on it.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rapidfuzz import fuzz

from minsheng.accounts.models import Unit, UnitKind
from minsheng.catalog.models import Matter
from minsheng.places.coords import distance_m
from minsheng.places.queries import locate_address, locate_point

from . import registry
from .models import Case
from .states import State

# --- place -------------------------------------------------------------------------------


def place_case(case: Case) -> dict:
    """Set the case's place and town from its point, else from its address; returns how
    it was found (or why not), for the case's routing record."""
    if case.lat is not None and case.lng is not None:
        place = locate_point(case.lat, case.lng)
        if place is None:
            return {
                "method": "point",
                "found": False,
                "reason": _("The point is outside every boundary of the city."),
            }
        case.place, case.town = place, place.town
        return {"method": "point", "found": True, "code": place.code}
    if case.address:
        match = locate_address(case.address)
        if match is None:
            return {"method": "address", "found": False, "reason": _("The address matches no known place.")}
        place, lat, lng, info = match
        case.place, case.town = place, place.town
        if lat is not None:
            case.lat, case.lng = lat, lng
        return {"method": "address", "found": True, "code": place.code, **info}
    return {"method": None, "found": False, "reason": _("No place: no point and no address.")}


# --- owner -------------------------------------------------------------------------------


def decide_owner(case: Case) -> tuple[Unit | None, str]:
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
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
_M_PER_DEG_LAT = 111_320.0


@dataclass(frozen=True)
class Candidate:
    case_id: int
    number: str
    distance_m: float | None
    text_score: float
    certain: bool

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


def text_similarity(a: str, b: str) -> float:
    """0–100: how alike two reports read (character based: Chinese has no spaces)."""
    x, y = _norm(a), _norm(b)
    if not x or not y:
        return 0.0
    return max(
        fuzz.ratio(x, y), fuzz.partial_ratio(x, y) * 0.9, fuzz.token_set_ratio(" ".join(x), " ".join(y)) * 0.8
    )


def find_duplicates(case: Case, *, limit: int = 5) -> list[Candidate]:
    """Open cases this one may repeat, best first. Needs the case's matter; uses its point
    when it has one, else only a same-address match can be found."""
    matter = case.matter
    if matter is None or not matter.duplicate_window_hours:
        return []
    since = case.created_at - dt.timedelta(hours=matter.duplicate_window_hours)
    qs = Case.objects.filter(matter=matter, created_at__gte=since, merged_into__isnull=True).exclude(
        state=State.CLOSED
    )
    if case.pk:
        qs = qs.exclude(pk=case.pk)
    radius = float(matter.duplicate_radius_m or 0)
    address = _norm(case.address)
    if case.lat is not None and case.lng is not None and radius:
        dlat = radius / _M_PER_DEG_LAT
        dlng = radius / (_M_PER_DEG_LAT * max(0.1, math.cos(math.radians(case.lat))))
        near = qs.filter(
            lat__range=(case.lat - dlat, case.lat + dlat), lng__range=(case.lng - dlng, case.lng + dlng)
        )
    elif address:
        near = qs.filter(address=case.address)
    else:
        return []
    out: list[Candidate] = []
    for other in near.only("pk", "number", "text", "lat", "lng", "address", "created_at", "channel")[:200]:
        dist = None
        if case.lat is not None and case.lng is not None and other.lat is not None and other.lng is not None:
            dist = distance_m(case.lat, case.lng, other.lat, other.lng)
            if radius and dist > radius:
                continue
        score = text_similarity(case.text, other.text)
        same_address = bool(address) and _norm(other.address) == address
        certain = same_address and case.created_at - other.created_at <= CERTAIN_WINDOW
        if score < TEXT_MIN and not certain:
            continue
        out.append(Candidate(other.pk, other.number, dist, score, certain))
    out.sort(key=lambda c: (not c.certain, -c.text_score, c.distance_m or 0.0))
    return out[:limit]


# --- the decision ------------------------------------------------------------------------


@dataclass
class Decision:
    code: str | None
    confidence: float
    candidates: list[tuple[str, float]]
    method: str  # given | model | keywords | none
    model_version: str = ""
    model_threshold: float = 0.0
    duplicates: list[Candidate] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    auto: bool = False
    place: dict[str, Any] = field(default_factory=dict)  # how the place was found, or why not
    owner: Unit | None = None  # where it goes with no human step, when it may
    owner_reason: str = ""

    @property
    def certain_duplicate(self) -> Candidate | None:
        return next((d for d in self.duplicates if d.certain), None)

    @property
    def triage_reasons(self) -> list[str]:
        """Why a dispatcher must look (the owner's reason when only the owner is missing)."""
        return self.reasons or [self.owner_reason]

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "confidence": round(self.confidence, 4),
            "candidates": [{"code": c, "score": round(s, 4)} for c, s in self.candidates],
            "method": self.method,
            "model_version": self.model_version,
            "model_threshold": self.model_threshold,
            "duplicates": [d.as_dict() for d in self.duplicates],
            "reasons": self.reasons,
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


def decide(case: Case, decision: Decision, place_reason: str | None) -> Decision:
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
        decision.duplicates = find_duplicates(case)
        if decision.duplicates and not decision.certain_duplicate:
            decision.reasons.append(
                _("Possible duplicate of %(numbers)s.")
                % {"numbers": ", ".join(d.number for d in decision.duplicates)}
            )
    if decision.method != "given" and not settings.MINSHENG_AUTO_DISPATCH and not decision.reasons:
        decision.reasons.append(_("Zero-touch dispatch is off: a dispatcher confirms."))
    decision.auto = not decision.reasons
    return decision


def route(case: Case, given: Matter | None, predicted: tuple[Any, float] | None = None) -> Decision:
    """The whole decision for a new case (``created_at``, text, point or address set):
    sets its place, town and matter, and answers the decision with the candidates, the
    reasons a dispatcher must look, and the owner when it may go there with no human step."""
    place = place_case(case)
    decision = categorise(case, given, predicted)
    if case.matter is None and decision.code:
        case.matter = Matter.objects.filter(code=decision.code, active=True).first()
    decide(case, decision, place.get("reason"))
    decision.place = place
    if decision.auto and decision.certain_duplicate is None:
        decision.owner, decision.owner_reason = decide_owner(case)
    return decision
