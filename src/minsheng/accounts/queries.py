"""Finding an API token's owner (and noting when the token was last used)."""

from __future__ import annotations

from typing import Any

from minsheng.core import clock

from .models import ApiToken, hash_token


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
