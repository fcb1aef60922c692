"""The bell's count of a person's unread notifications; the messages sent to one phone number."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from .models import Notification, OutboxMessage


def unread_count(user: Any) -> int:
    """The bell's number: this person's unread notifications (0 when not signed in)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def messages_to_phone(phone: str) -> QuerySet[OutboxMessage]:
    """Every message owed or sent to this number (national digits), found through the
    number's keyed hash: the outbox holds it encrypted."""
    return OutboxMessage.objects.filter(phone=phone).select_related("case").order_by("created_at", "id")
