"""The bell's count of a person's unread notifications."""

from __future__ import annotations

from typing import Any

from .models import Notification


def unread_count(user: Any) -> int:
    """The bell's number: this person's unread notifications (0 when not signed in)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
