"""Writing to the outbox (call ``enqueue`` only inside the transaction of the change being
told), and the bell's count of a person's unread notifications."""

from __future__ import annotations

from typing import Any

from minsheng.core import clock

from .models import Audience, Notification, OutboxMessage


def enqueue(
    kind: str,
    *,
    case: Any = None,
    unit: Any = None,
    user: Any = None,
    phone: str = "",
    context: dict[str, Any] | None = None,
) -> OutboxMessage:
    if unit is not None:
        audience = Audience.UNIT
    elif user is not None:
        audience = Audience.USER
    else:
        audience = Audience.REQUESTER
    at = clock.now()
    return OutboxMessage.objects.create(
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


def unread_count(user: Any) -> int:
    """The bell's number: this person's unread notifications (0 when not signed in)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
