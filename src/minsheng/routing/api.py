"""``POST /api/v1/classify``: the classifier's answer for one text."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Field, Router, Schema

from .classifier import classify_text

router = Router(tags=["routing"])


class ClassifyIn(Schema):
    text: str = Field(..., max_length=20_000)


class CandidateOut(Schema):
    code: str
    score: float


class ClassifyOut(Schema):
    id: str | None = None
    code: str
    confidence: float
    candidates: list[CandidateOut]
    auto: bool


@router.post("", response=ClassifyOut)
def classify(request: HttpRequest, payload: ClassifyIn):
    """Predict the list-of-matters code of a request text, with the top 3 candidates."""
    return {"id": None, **classify_text(payload.text)}
