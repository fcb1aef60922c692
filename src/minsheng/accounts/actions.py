"""Creating API tokens (only their hash is kept)."""

from __future__ import annotations

import secrets
from typing import Any

from .models import ApiToken, hash_token

TOKEN_PREFIX = "ms_"  # noqa: S105  (a visible marker, not a secret)


def create_token(user: Any) -> str:
    """A new token for ``user``. Only its hash is kept: show the return value once."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, prefix=raw[:10], key_hash=hash_token(raw))
    return raw
