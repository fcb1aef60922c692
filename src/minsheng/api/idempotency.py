"""``Idempotency-Key`` on intake (``POST /api/v1/cases``), the HTTP side of
:func:`minsheng.cases.actions.accept_case`'s idempotency.

* The first request with a key makes the case; the key and a fingerprint of its body (a
  keyed hash of the body as parsed, so key order and defaults spelled out do not count) are
  written in the same transaction.
* A retry with the same key and body answers the case as the caller may see it *now*
  (``201``, as ``GET`` shows it), or ``409`` with nothing of the case once it has left the
  caller's scope: a key is no way around :func:`minsheng.cases.scoping.visible_cases`.
* The same key with another body is refused (``422`` naming the header): it is a client's
  bug, and taking it for the first request would lose the second.

Keys belong to the user, as in ``IntakeKey``; a key made before fingerprints were kept
answers as a retry.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass

from django.utils.crypto import salted_hmac
from ninja import Schema
from ninja.errors import ValidationError

from minsheng.accounts.actors import Actor
from minsheng.cases import actions
from minsheng.cases.models import Case, IntakeKey
from minsheng.cases.scoping import visible_cases

from .models import IntakeRequest

HEADER = "Idempotency-Key"
SALT = "minsheng.api.idempotency"


@dataclass(frozen=True)
class Answer:
    """The case to show, or ``None`` for a retry the caller may no longer see."""

    case: Case | None
    replayed: bool


def fingerprint(payload: Schema) -> str:
    canonical = json.dumps(payload.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return salted_hmac(SALT, canonical, algorithm="sha256").hexdigest()


def _refuse_other_body() -> ValidationError:
    return ValidationError(
        [
            {
                "loc": ["header", HEADER],
                "type": "value_error",
                "msg": "this key was already used with a different request body; use a new key",
            }
        ]
    )


def _replay(actor: Actor, key: IntakeKey, print_: str) -> Answer:
    record = IntakeRequest.objects.filter(intake_key=key).first()
    if record is not None and not hmac.compare_digest(record.fingerprint, print_):
        raise _refuse_other_body()
    seen = visible_cases(actor, Case.objects.filter(pk=key.case_id)).first()
    return Answer(case=seen, replayed=True)


def accept_once(actor: Actor, data: actions.Intake, payload: Schema, key: str) -> Answer:
    """Intake under ``key`` for ``actor`` (a signed-in user): the new case, or the answer to
    a retry (see the module)."""
    print_ = fingerprint(payload)
    prior = IntakeKey.objects.filter(user=actor.user, key=key).first()
    if prior is not None:
        return _replay(actor, prior, print_)
    written: list[tuple[IntakeKey, bool]] = []

    def remember(case: Case) -> None:
        """The body's fingerprint, in the intake's own transaction (which opens once the
        case is routed)."""
        row = IntakeKey.objects.get(user=actor.user, key=key)
        _, made = IntakeRequest.objects.get_or_create(intake_key=row, defaults={"fingerprint": print_})
        written.append((row, made))

    case = actions.accept_case(actor, data, idempotency_key=key, then=remember)
    if not written:  # another request with this key made its case first
        return _replay(actor, IntakeKey.objects.get(user=actor.user, key=key), print_)
    row, made = written[0]
    if made:
        return Answer(case=case, replayed=False)
    return _replay(actor, row, print_)  # another request with this key got there first
