"""``POST /api/v1/cases/batch``: many requests in one call, for partner platforms, 110
transfers and migrations (issue #15).

``{"cases": [up to 500 bodies as for POST /api/v1/cases, each with an optional
"idempotency_key"]}`` is answered ``200`` with ``{"results": [{"index", "status", "id",
"number", "errors"}]}`` in the order sent: ``201`` for a case made (or, for a key already
used with the same body, the case it made then), ``422`` with the fields at fault for an item
refused, ``409`` for a key whose case has left the caller's scope. One refused item never
fails the others; every ``201`` is committed and routed before the answer
(:func:`minsheng.cases.actions.accept_cases`).
"""

from __future__ import annotations

import hmac
from typing import Any

from django.http import HttpRequest
from ninja import Field, Schema
from pydantic import ValidationError as PydanticValidationError

from minsheng.accounts.guards import actor_of
from minsheng.cases import actions
from minsheng.cases.errors import CaseError, Invalid
from minsheng.cases.models import Case, IntakeKey
from minsheng.cases.schemas import Body, CaseIn
from minsheng.cases.scoping import visible_cases

from .idempotency import fingerprint
from .models import IntakeRequest

KEY_MAX = 128
OTHER_BODY = "this key was already used with a different request body; use a new key"


class BatchCaseIn(CaseIn):
    idempotency_key: str | None = Field(
        None,
        min_length=1,
        max_length=KEY_MAX,
        description="Makes retrying this item safe, as the Idempotency-Key header does for one case.",
    )


class BatchIn(Body):
    # Each item is read on its own (``BatchCaseIn``): one that is not even an object is
    # refused alone.
    cases: list[Any] = Field(
        ..., max_length=actions.BATCH_MAX, description="Up to 500 bodies as for POST /api/v1/cases."
    )


class BatchResult(Schema):
    index: int
    status: int = Field(description="201 made (or made before under this key), 422 refused, 409 out of scope")
    id: int | None = None
    number: str | None = None
    errors: list[dict[str, Any]] | None = None


class BatchOut(Schema):
    results: list[BatchResult]


def _made(index: int, case: Case) -> dict[str, Any]:
    return {"index": index, "status": 201, "id": case.pk, "number": case.number}


def _refused(index: int, errors: list[dict[str, Any]], status: int = 422) -> dict[str, Any]:
    return {"index": index, "status": status, "errors": errors}


def _field_error(index: int, exc: CaseError) -> list[dict[str, Any]]:
    field = exc.field.split(".") if isinstance(exc, Invalid) else []
    return [{"loc": ["body", "cases", index, *field], "msg": exc.message, "type": "value_error"}]


def _intake(item: BatchCaseIn) -> actions.Intake:
    requester = item.requester
    return actions.Intake(
        channel=item.channel,
        text=item.text,
        lat=item.lat,
        lng=item.lng,
        address=item.address,
        category=item.category,
        urgent=item.urgent,
        crs=item.crs,
        requester_name=requester.name if requester else "",
        requester_phone=requester.phone if requester else "",
    )


def _print(item: BatchCaseIn) -> str:
    """The same fingerprint as the single intake's, of the body without its key."""
    return fingerprint(CaseIn.model_validate(item.model_dump(exclude={"idempotency_key"})))


def create_cases(request: HttpRequest, payload: BatchIn) -> dict[str, Any]:
    """受理 in bulk: up to 500 cases, each answered on its own (``results``, in order).
    Registered on the cases router in ``api.py``."""
    actor = actor_of(request)
    results: list[dict[str, Any] | None] = [None] * len(payload.cases)
    parsed: list[tuple[int, BatchCaseIn]] = []
    for index, raw in enumerate(payload.cases):
        try:
            parsed.append((index, BatchCaseIn.model_validate(raw)))
        except PydanticValidationError as exc:
            errors = [
                {"loc": ["body", "cases", index, *e["loc"]], "msg": e["msg"], "type": e["type"]}
                for e in exc.errors(include_url=False, include_context=False, include_input=False)
            ]
            results[index] = _refused(index, errors)
    # Keys already used by this caller: answered as the single intake answers a retry.
    keyed = [item.idempotency_key for _, item in parsed if item.idempotency_key]
    prior: dict[str, IntakeKey] = {}
    prints: dict[int, str] = {}
    seen: dict[int, Case] = {}
    if keyed and actor.user is not None:
        prior = {k.key: k for k in IntakeKey.objects.filter(user=actor.user, key__in=keyed)}
        records = IntakeRequest.objects.filter(intake_key__in=prior.values())
        prints = dict(records.values_list("intake_key_id", "fingerprint"))
        theirs = Case.objects.filter(pk__in=[k.case_id for k in prior.values()])
        seen = {c.pk: c for c in visible_cases(actor, theirs)}
    todo: list[tuple[int, BatchCaseIn]] = []
    first_print: dict[str, str] = {}  # a new key's body's fingerprint, by the first item using it
    for index, item in parsed:
        key = prior.get(item.idempotency_key or "")
        if key is None:
            new_key = item.idempotency_key
            if new_key and actor.user is not None:
                # The same new key twice in one batch: the same body is the same case (the
                # intake answers the first item's), another body is refused.
                print_ = _print(item)
                held = first_print.setdefault(new_key, print_)
                if not hmac.compare_digest(held, print_):
                    results[index] = _refused(
                        index, _field_error(index, Invalid("idempotency_key", OTHER_BODY))
                    )
                    continue
            todo.append((index, item))
            continue
        earlier = prints.get(key.pk)
        if earlier is not None and not hmac.compare_digest(earlier, _print(item)):
            results[index] = _refused(index, _field_error(index, Invalid("idempotency_key", OTHER_BODY)))
        elif key.case_id in seen:
            results[index] = _made(index, seen[key.case_id])
        else:
            results[index] = _refused(index, [], status=409)

    def remember(made: list[tuple[int, Case]]) -> None:
        """The new keys' fingerprints, in the transaction that wrote their cases (one
        query for the keys, one INSERT)."""
        if actor.user is None:
            return
        bodies = {todo[pos][1].idempotency_key: todo[pos][1] for pos, _case in made}
        bodies.pop(None, None)
        if not bodies:
            return
        rows = IntakeKey.objects.filter(user=actor.user, key__in=list(bodies))
        IntakeRequest.objects.bulk_create(
            [IntakeRequest(intake_key=row, fingerprint=first_print[row.key]) for row in rows]
        )

    answers = actions.accept_cases(
        actor,
        [_intake(item) for _, item in todo],
        keys=[item.idempotency_key for _, item in todo],
        then=remember,
    )
    for (index, _item), got in zip(todo, answers, strict=True):
        if isinstance(got, Case):
            results[index] = _made(index, got)
        else:
            results[index] = _refused(index, _field_error(index, got), status=got.status)
    return {"results": results}
