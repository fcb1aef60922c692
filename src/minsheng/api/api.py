"""JSON API v1 (OpenAPI at /api/v1/docs). It translates HTTP to named actions and back."""

from functools import wraps
from typing import Any, cast

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest
from ninja import NinjaAPI, Router, Status
from ninja.errors import HttpError, ValidationError
from ninja.params import HeaderEx, P
from ninja.security import HttpBearer, SessionAuth
from pydantic.json_schema import models_json_schema

from minsheng.accounts.actors import Actor
from minsheng.accounts.guards import ANY_ROLE, actor_of, signed_in
from minsheng.accounts.queries import user_for_token
from minsheng.cases import actions
from minsheng.cases.errors import CaseError, Conflict, Invalid
from minsheng.cases.models import Case, CaseEvent, IntakeKey
from minsheng.cases.presenters import case_detail
from minsheng.cases.privacy import reveal_phone
from minsheng.cases.queries import as_made, get_visible_case
from minsheng.cases.schemas import (
    ActionIn,
    CaseAction,
    CaseIn,
    CaseOut,
    ErrorOut,
    EventOut,
    InvalidOut,
)
from minsheng.core import audit

from . import batch, case_lists, idempotency
from .errors import database_unavailable


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = user_for_token(token)
        if user is not None:
            request.user = user
            audit.attribute_to(user)  # what the request changes is audited as theirs
        return user


def _staff_only(view: Any) -> Any:
    """The documentation (``/docs`` and ``openapi.json``) is for signed-in staff: a stranger
    goes to the sign-in page, a signed-in user without a role is refused."""

    @signed_in(ANY_ROLE)
    @wraps(view)
    def inner(request: HttpRequest, actor: Actor, *args: Any, **kwargs: Any) -> Any:
        return view(request, *args, **kwargs)

    return inner


# What the API itself answers to any operation, besides what each operation declares: a
# missing or wrong credential, a request that does not fit the operation's parameters or body
# (its JSON unreadable too), and a lost database. The document names them on every operation
# they can reach, so that a client (and schemathesis) meets no undocumented status.
UNAUTHENTICATED = {
    "description": "No valid credential (token, session, key or signature).",
    "model": ErrorOut,
}
INVALID = {
    "description": "The request does not fit: each field named with what is wrong.",
    "model": InvalidOut,
}
UNAVAILABLE = {
    "description": "The database is briefly unavailable: retry after Retry-After seconds.",
    "model": ErrorOut,
    "headers": {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}},
}


class MinshengAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: Any = None) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        _, defs = models_json_schema(
            [(ErrorOut, "validation"), (InvalidOut, "validation")],
            ref_template="#/components/schemas/{model}",
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, definition in defs.get("$defs", {}).items():
            components.setdefault(name, definition)
        for operations in schema["paths"].values():
            for operation in operations.values():
                responses = operation["responses"]
                if operation.get("security"):
                    responses.setdefault(401, _response(UNAUTHENTICATED))
                if operation.get("parameters") or operation.get("requestBody"):
                    responses.setdefault(422, _response(INVALID))
                responses.setdefault(503, _response(UNAVAILABLE))
        return schema


def _response(spec: dict[str, Any]) -> dict[str, Any]:
    answer = {
        "description": spec["description"],
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{spec['model'].__name__}"}}
        },
    }
    if "headers" in spec:
        answer["headers"] = spec["headers"]
    return answer


api = MinshengAPI(
    title="Minsheng API",
    version="1",
    description="Minsheng (民声): cases from intake to rating.",
    auth=[TokenAuth(), SessionAuth()],
    urls_namespace="api-v1",
    docs_decorator=_staff_only,
)


@api.exception_handler(CaseError)
def _case_error(request: HttpRequest, exc: CaseError):
    if isinstance(exc, Invalid):
        body: dict[str, Any] = {
            "detail": [{"loc": ["body", *exc.field.split(".")], "msg": exc.message, "type": "value_error"}]
        }
    elif isinstance(exc, Conflict):
        body = {"detail": exc.message, "state": exc.state, "version": exc.version}
    else:
        body = {"detail": exc.message}
    return api.create_response(request, body, status=exc.status)


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def _database_unavailable(request: HttpRequest, exc: Exception):
    """The database is down or the connection dropped: 503 with Retry-After (JSON)."""
    return database_unavailable(exc)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError):
    """django-ninja answers a body it cannot parse with 400; Minsheng answers bad input with
    422 naming where (here the whole body), one status for every refusal of what was sent."""
    if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
        detail = [{"loc": ["body"], "msg": "the body is not valid JSON", "type": "json_invalid"}]
        return api.create_response(request, {"detail": detail}, status=422)
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError):
    """Name the field as intake's own checks do, ``["body", "text"]``, not with the view's
    parameter name in between (``["body", "payload", "text"]``): one shape for clients."""
    detail = []
    for error in exc.errors:
        loc = list(error.get("loc", ()))
        if len(loc) >= 2 and loc[0] == "body" and loc[1] == "payload":
            del loc[1]
        detail.append({**error, "loc": loc})
    return api.create_response(request, {"detail": detail}, status=422)


def _detail(actor: Actor, case: Case) -> dict[str, Any]:
    """``CaseOut`` for this caller; showing the full phone number is recorded first."""
    return case_detail(actor, case, full_phone=reveal_phone(actor, case, via="api"))


router = Router(tags=["cases"])
# IntakeKey.key is a CharField with its max_length set.
IDEMPOTENCY_KEY_MAX = cast(int, IntakeKey._meta.get_field("key").max_length)
IdempotencyKey = HeaderEx[
    str | None,
    P(
        alias=idempotency.HEADER,
        max_length=IDEMPOTENCY_KEY_MAX,
        description="Makes retries safe: a retry answers the case as you may see it now (409 once it "
        "has left your scope); the same key with another body is refused (422).",
    ),
]


@router.post("", response={201: CaseOut, 403: ErrorOut, 409: ErrorOut, 422: InvalidOut})
def create_case(
    request: HttpRequest,
    payload: CaseIn,
    idempotency_key: IdempotencyKey = None,
):
    """受理: register a request. Send ``Idempotency-Key`` to make retries safe."""
    actor = actor_of(request)
    requester = payload.requester
    data = actions.Intake(
        channel=payload.channel,
        text=payload.text,
        lat=payload.lat,
        lng=payload.lng,
        address=payload.address,
        category=payload.category,
        urgent=payload.urgent,
        crs=payload.crs,
        requester_name=requester.name if requester else "",
        requester_phone=requester.phone if requester else "",
    )
    key = idempotency_key or None
    if key is None:
        # One commit: the case, and the record of its full phone number shown to its maker,
        # written in the intake's own transaction (which opens once the case is routed, so
        # it holds only writes); the answer is built from the case in memory, not read again.
        shown: list[bool] = []
        case = actions.accept_case(
            actor, data, then=lambda c: shown.append(reveal_phone(actor, c, via="api"))
        )
        return Status(201, case_detail(actor, as_made(case), full_phone=shown[0]))
    if "\x00" in key:
        raise ValidationError(
            [{"loc": ["header", idempotency.HEADER], "type": "value_error", "msg": "must not contain NUL"}]
        )
    answer = idempotency.accept_once(actor, data, payload, key)
    if answer.case is None:
        return Status(
            409, {"detail": "This Idempotency-Key was used for a case that is no longer in your scope."}
        )
    # A new case is shown to the one who made it (from memory); a retry only as the caller
    # may see it now.
    if not answer.replayed:
        return Status(201, _detail(actor, as_made(answer.case)))
    return Status(201, _detail(actor, get_visible_case(actor, answer.case.pk)))


router.get("", response=case_lists.CasePage, summary="List Cases")(case_lists.list_cases)
router.post("/batch", response={200: batch.BatchOut, 403: ErrorOut, 422: InvalidOut}, summary="Create Cases")(
    batch.create_cases
)


@router.get("/{case_id}", response={200: CaseOut, 404: ErrorOut})
def get_case(request: HttpRequest, case_id: int):
    actor = actor_of(request)
    return _detail(actor, get_visible_case(actor, case_id))


@router.get("/{case_id}/events", response={200: list[EventOut], 404: ErrorOut})
def case_events(request: HttpRequest, case_id: int):
    case = get_visible_case(actor_of(request), case_id)
    events = CaseEvent.objects.filter(case=case).select_related("actor_unit")
    return [
        {
            "id": e.pk,
            "at": e.at,
            "action": e.action,
            "actor": e.actor_label,
            "unit": e.actor_unit.name if e.actor_unit else None,
            "from_state": e.from_state,
            "to_state": e.to_state,
            "note": e.note,
            "data": e.data,
        }
        for e in events
    ]


def _call_action(actor: Actor, case_id: int, action: str, body: ActionIn) -> Case:
    common = {"expected_version": body.version}
    if action == "assign":
        return actions.assign_case(
            actor, case_id, unit_id=body.unit, category=body.category, note=body.note, **common
        )
    if action == "dispatch":
        return actions.dispatch_case(actor, case_id, people=body.people, note=body.note, **common)
    if action == "rate":
        if body.rating is None:
            raise Invalid("rating", "rating is required")
        return actions.rate_case(actor, case_id, rating=body.rating, note=body.note, **common)
    if action == "extend":
        if body.days is None:
            raise Invalid("days", "days is required")
        return actions.request_extension(actor, case_id, days=body.days, note=body.note, **common)
    if action == "approve_extension":
        return actions.approve_extension(actor, case_id, approved=body.approved, note=body.note, **common)
    if action == "merge":
        if body.into is None:
            raise Invalid("into", "into is required")
        return actions.merge_case(actor, case_id, into=body.into, note=body.note, **common)
    return actions.ACTION_FUNCTIONS[action](actor, case_id, note=body.note, **common)


@router.post(
    "/{case_id}/actions/{action}",
    response={200: CaseOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: InvalidOut},
)
def act(request: HttpRequest, case_id: int, action: CaseAction, payload: ActionIn):
    """Every action of the loop: assign, sign, return, dispatch, handle, feedback, rate,
    close, reopen, extend, approve_extension, supervise, merge."""
    actor = actor_of(request)
    case = _call_action(actor, case_id, action, payload)
    return _detail(actor, get_visible_case(Actor.system(), case.pk))


api.add_router("/cases", router)
api.add_router("/cases", "minsheng.groups.api.router")
api.add_router("/sensors", "minsheng.sensors.api.router")
api.add_router("/classify", "minsheng.routing.api.router")
api.add_router("/knowledge", "minsheng.knowledge.api.router")
api.add_router("/calls", "minsheng.calls.api.router")
api.add_router("/transfer", "minsheng.transfer.api.router")
api.add_router("/province", "minsheng.province.api.router")
