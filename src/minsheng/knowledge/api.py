"""``POST /api/v1/knowledge/suggest``: up to three knowledge articles for a caller's words,
each with a score, and whether the question is answerable from them (the same shape as
``minsheng suggest-answers`` prints). Signed-in staff (session) or an API token."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import field_validator

from minsheng.accounts.guards import actor_of
from minsheng.cases.schemas import ErrorOut, Input

from .queries import suggest_answers

router = Router(tags=["knowledge"])


class SuggestIn(Input):
    id: str | None = Field(None, max_length=128, description="echoed back")
    text: str = Field(..., max_length=20_000, description="the caller's words")

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value


class ArticleOut(Schema):
    code: str
    title: str
    score: float


class SuggestOut(Schema):
    id: str | None = None
    articles: list[ArticleOut]
    answerable: bool


@router.post("/suggest", response={200: SuggestOut, 403: ErrorOut, 422: dict})
def suggest(request: HttpRequest, payload: SuggestIn):
    """Suggest articles for a request's text (empty text: 422)."""
    if actor_of(request).role is None:
        return Status(403, {"detail": "Only staff with a role may ask the knowledge base."})
    return {"id": payload.id, **suggest_answers(payload.text)}
