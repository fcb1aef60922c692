"""The routing decision for one case at intake: category, place, duplicates, and whether
it goes to its unit with no human step (零接触派单)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from minsheng.cases.models import Case
from minsheng.catalog.models import Matter

from . import classifier
from .duplicates import Candidate, find_duplicates


@dataclass
class Decision:
    code: str | None
    confidence: float
    candidates: list[tuple[str, float]]
    method: str  # given | model | keywords
    model_version: str = ""
    model_threshold: float = 0.0
    duplicates: list[Candidate] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    auto: bool = False

    @property
    def certain_duplicate(self) -> Candidate | None:
        return next((d for d in self.duplicates if d.certain), None)

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


def categorise(case: Case, given: Matter | None) -> Decision:
    """The operator's category when given; otherwise the classifier's best guess, which is
    stored on the case either way so that a dispatcher's correction becomes training data."""
    if given is not None:
        return Decision(code=given.code, confidence=1.0, candidates=[(given.code, 1.0)], method="given")
    p, model_threshold = classifier.classify(case.text)
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


def classify_text(text: str) -> dict[str, Any]:
    """The classifier's answer for a text alone (no place, no duplicates): what
    ``minsheng classify`` and ``POST /api/v1/classify`` return. ``auto`` says whether the
    confidence reaches the threshold for zero-touch dispatch."""
    p, model_threshold = classifier.classify(text)
    matter = Matter.objects.filter(code=p.code, active=True).only("auto_threshold").first()
    city_threshold = matter.auto_threshold if matter else 1.0
    return {
        "code": p.code,
        "confidence": round(float(p.confidence), 4),
        "candidates": [{"code": c, "score": round(float(s), 4)} for c, s in p.candidates],
        "auto": p.method == "model" and float(p.confidence) >= max(city_threshold, model_threshold),
    }
