"""Writing to the outbox: call ``enqueue`` only inside the transaction of the change being
told (a change to a case writes it through the case kernel's ``Change.notify``)."""

from __future__ import annotations

from typing import Any

from minsheng.core import clock

from .models import Audience, OutboxMessage


def message(
    kind: str,
    *,
    case: Any = None,
    unit: Any = None,
    user: Any = None,
    phone: str = "",
    context: dict[str, Any] | None = None,
) -> OutboxMessage:
    """The message :func:`enqueue` writes, not yet written (:func:`enqueue_many`)."""
    if unit is not None:
        audience = Audience.UNIT
    elif user is not None:
        audience = Audience.USER
    else:
        audience = Audience.REQUESTER
    at = clock.now()
    return OutboxMessage(
        kind=kind,
        audience=audience,
        unit=unit,
        user=user,
        phone=phone,
        case=case,
        context=context or {},
        created_at=at,
        next_attempt_at=at,
    )


def enqueue(
    kind: str,
    *,
    case: Any = None,
    unit: Any = None,
    user: Any = None,
    phone: str = "",
    context: dict[str, Any] | None = None,
) -> OutboxMessage:
    made = message(kind, case=case, unit=unit, user=user, phone=phone, context=context)
    made.save(force_insert=True)
    return made


def enqueue_many(messages: list[OutboxMessage]) -> list[OutboxMessage]:
    """Messages made by :func:`message`, written in one statement (a batch of new cases),
    under the same rule as :func:`enqueue`: inside the transaction of the change told."""
    return OutboxMessage.objects.bulk_create(messages)


def erase_phones(case: Any) -> int:
    """Forget the requester's number on every message about ``case`` (the retention rule,
    in the transaction of the case's erasure). A message not yet sent stays undelivered by
    SMS: nobody is left to send it to."""
    return OutboxMessage.objects.filter(case=case).exclude(phone="").update(phone="", phone_hash="")
