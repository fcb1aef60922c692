"""The knowledge base's API. Signed-in staff (session) or an API token.

* ``POST /api/v1/knowledge/suggest``: up to three knowledge articles for a caller's words,
  each with a score, and whether the question is answerable from them (the same shape as
  ``minsheng suggest-answers`` prints).
* ``POST /api/v1/knowledge/answer``: answered on the spot (直接答复): a case closed at once
  with the article and its version on its timeline, the answer sent by SMS on request
  (``actions.answer_on_the_spot``); 201 with the case's id and number."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import field_validator

from minsheng.accounts.guards import actor_of
from minsheng.cases.schemas import ErrorOut, Input, InvalidOut
from minsheng.cases.states import Channel

from .actions import answer_on_the_spot
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


class AnswerIn(Input):
    text: str = Field(..., max_length=20_000, description="the caller's words")
    article_code: str = Field(..., max_length=32, description="the article the operator answered from")
    phone: str = Field("", max_length=32, description="the caller's phone (needed to send the answer by SMS)")
    name: str = Field("", max_length=64, description="the caller's name")
    channel: str = Field(Channel.HOTLINE.value, max_length=16, description="where the request came from")
    send_sms: bool = Field(False, description="send the article's answer to the phone by SMS")


class AnsweredOut(Schema):
    id: int
    number: str
    state: str
    article: str
    version: int
    sms: bool


@router.post("/answer", response={201: AnsweredOut, 403: ErrorOut, 422: InvalidOut})
def answer(request: HttpRequest, payload: AnswerIn):
    """Answered on the spot: record the request as a case closed at once with the article
    (a field the action refuses: 422 naming it, nothing written)."""
    case = answer_on_the_spot(
        actor_of(request),
        text=payload.text,
        article_code=payload.article_code,
        phone=payload.phone,
        name=payload.name,
        channel=payload.channel,
        send_sms=payload.send_sms,
    )
    routing = case.routing
    return Status(
        201,
        {
            "id": case.pk,
            "number": case.number,
            "state": case.state,
            "article": routing["article"],
            "version": routing["version"],
            "sms": payload.send_sms,
        },
    )
