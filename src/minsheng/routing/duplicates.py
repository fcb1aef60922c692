"""Finding the open case a new report repeats (重复工单).

A candidate is an open case of the same matter, within the matter's radius and time window,
whose text is alike. A match is *certain* (merged with no human step) when the same address
or the same device reported the same matter within the hour; otherwise the dispatcher sees
the candidates side by side and decides.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass

from rapidfuzz import fuzz

from minsheng.cases.models import Case
from minsheng.cases.states import State
from minsheng.places.coords import distance_m

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
