"""A caller's number on the way out, as ``cases.privacy`` does for a requester's: lists
show it masked; the roles who call back are shown the full number where they need it (the
callback they are about to make, the intake form pre-filled from a call), and each time
they are, the view is written to ``CallerNumberAccess``."""

from __future__ import annotations

from minsheng.accounts.actors import Actor
from minsheng.core import clock

from . import rules
from .models import Call, CallerNumberAccess


def sees_full_number(actor: Actor) -> bool:
    return actor.role in rules.CALLBACK_ROLES


def reveal_caller(actor: Actor, call: Call, *, via: str) -> bool:
    """Whether ``actor`` is shown ``call``'s full number now; if so, the view is recorded
    (``via``: ``"callback"``, ``"intake"``)."""
    full = bool(call.caller) and sees_full_number(actor)
    if full and actor.user is not None:
        CallerNumberAccess.objects.create(user=actor.user, call=call, via=via, at=clock.now())
    return full
