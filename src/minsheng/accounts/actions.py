"""API tokens: creating them (only their hash is kept) and revoking them."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.db.models import QuerySet

from minsheng.core import clock
from minsheng.core.conf import setting

from .models import ApiToken, RevokedBecause, hash_token
from .queries import tokens_visible_to

TOKEN_PREFIX = "ms_"  # noqa: S105  (a visible marker, not a secret)
TOKEN_DAYS = 90  # how long a new token works unless MINSHENG_API_TOKEN_DAYS says otherwise


def token_days() -> int:
    """The lifetime of a new token, in days (``MINSHENG_API_TOKEN_DAYS``, default 90)."""
    return max(1, setting("MINSHENG_API_TOKEN_DAYS", TOKEN_DAYS))


def create_token(user: Any, *, name: str = "", days: int | None = None) -> str:
    """A new token for ``user``, working for ``days`` (default :func:`token_days`). Only its
    hash is kept: show the return value once."""
    lifetime = token_days() if days is None else days
    if lifetime < 1:
        raise ValueError("a token works for at least one day")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    at = clock.now()
    ApiToken.objects.create(
        user=user,
        name=name.strip()[:64],
        prefix=raw[:10],
        key_hash=hash_token(raw),
        created_at=at,
        expires_at=at + dt.timedelta(days=lifetime),
    )
    return raw


def revoke_tokens(tokens: QuerySet[ApiToken], *, because: str) -> int:
    """Revoke every token of ``tokens`` not revoked yet; the number revoked."""
    return tokens.filter(revoked=False).update(revoked=True, revoked_at=clock.now(), revoked_because=because)


def revoke_token(by: Any, token_id: int) -> ApiToken:
    """Revoke one token as the person ``by``: their own, or anyone's for an administrator.
    Raises ``ApiToken.DoesNotExist`` for a token ``by`` may not see (the two look alike)."""
    token = tokens_visible_to(by).get(pk=token_id)
    because = RevokedBecause.OWNER if token.user_id == by.pk else RevokedBecause.ADMIN
    revoke_tokens(ApiToken.objects.filter(pk=token.pk), because=because)
    token.refresh_from_db()
    return token


def revoke_on_password_change(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    """``post_save`` of the user model: a new password revokes every token the user had, as
    it signs out the user's other sessions. Django marks a password set with
    ``set_password()`` until the save; rehashing an unchanged password on sign-in (a new
    hasher or iteration count) does not count."""
    if created or getattr(instance, "_password", None) is None:
        return
    revoke_tokens(ApiToken.objects.filter(user=instance), because=RevokedBecause.PASSWORD)
