"""Finding an API token's owner (and noting when the token was last used), and the tokens
a person may see."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from minsheng.core import clock

from .actors import Actor
from .models import ApiToken, Role, hash_token

TOUCH_EVERY_S = 60


def user_for_token(raw: str) -> Any | None:
    """The active user whose token ``raw`` is, while the token is neither expired nor revoked."""
    at = clock.now()
    token = (
        ApiToken.objects.select_related("user", "user__profile", "user__profile__unit")
        .filter(key_hash=hash_token(raw), revoked=False, expires_at__gt=at, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    # Noted at most once a minute (as a sensor key's): a write, and on its own a commit,
    # on every request would double what an API call costs the database.
    if token.last_used_at is None or (at - token.last_used_at).total_seconds() > TOUCH_EVERY_S:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=at)
    return token.user


def manages_tokens(user: Any) -> bool:
    """An administrator sees and revokes everyone's tokens."""
    return user is not None and user.is_authenticated and Actor.of(user).role == Role.ADMIN


def tokens_visible_to(user: Any) -> QuerySet[ApiToken]:
    """A person's own tokens; every token for an administrator."""
    tokens = ApiToken.objects.select_related("user")
    return tokens if manages_tokens(user) else tokens.filter(user_id=user.pk)
