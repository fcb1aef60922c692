"""Requesters' personal data on the way out: who is shown the full phone number, and the
record of every time someone is (``PersonalDataAccess``). Numbers themselves are checked
and masked by :mod:`minsheng.core.phones`."""

from __future__ import annotations

from minsheng.accounts.actors import Actor
from minsheng.core import clock

from .models import Case, PersonalDataAccess
from .scoping import sees_full_phone


def reveal_phone(actor: Actor, case: Case, *, via: str) -> bool:
    """Whether ``actor`` is shown ``case``'s full phone number now (the roles who call
    back, within their scope). Each time a person is, the view is written down, ``via``
    naming where (``"web"``, ``"api"``). Pages and the API call this before presenting
    the case; presenters only mask or not."""
    full = bool(case.requester_phone) and sees_full_phone(actor, case)
    if full and actor.user is not None:
        PersonalDataAccess.objects.create(user=actor.user, case=case, via=via, at=clock.now())
    return full
