"""The bell's unread count on every page.

Add ``"minsheng.notify.context_processors.unread"`` to the template context processors.
The count is lazy: a page that never shows the bell runs no query, and a page that does
runs one count on a partial index (unread rows only).
"""

from __future__ import annotations

from typing import Any

from django.utils.functional import SimpleLazyObject

from .queries import unread_count


def unread(request: Any) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {"notify_unread": SimpleLazyObject(lambda: unread_count(user))}
