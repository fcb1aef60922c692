"""Creating API tokens and finding their owner."""

from __future__ import annotations

import secrets
from typing import Any

from minsheng.core import clock

from .models import ApiToken, hash_token

TOKEN_PREFIX = "ms_"  # noqa: S105  (a visible marker, not a secret)


def create_token(user: Any) -> str:
    """A new token for ``user``. Only its hash is kept: show the return value once."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, prefix=raw[:10], key_hash=hash_token(raw))
    return raw


def user_for_token(raw: str) -> Any | None:
    token = (
        ApiToken.objects.select_related("user", "user__profile", "user__profile__unit")
        .filter(key_hash=hash_token(raw), revoked=False, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=clock.now())
    return token.user
