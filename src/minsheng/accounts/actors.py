"""Who is acting: a signed-in user with a role and unit, the requester, or the system."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from .models import Profile, Role, Unit


@dataclass(frozen=True)
class Actor:
    user: Any  # django User or None
    role: str | None
    unit: Unit | None
    label: str

    @classmethod
    def of(cls, user: Any) -> Actor:
        """The actor for a signed-in user. A user without a profile has no role and can do
        nothing but sign in; a superuser without one acts as administrator."""
        profile: Profile | None = getattr(user, "profile", None) if user is not None else None
        if profile is None:
            role = Role.ADMIN if getattr(user, "is_superuser", False) else None
            return cls(user=user, role=role, unit=None, label=user.get_username())
        name = profile.display_name or user.get_username()
        return cls(user=user, role=profile.role, unit=profile.unit, label=name)

    @classmethod
    def requester(cls) -> Actor:
        return cls(user=None, role=None, unit=None, label=_("Requester"))

    @classmethod
    def system(cls, label: str = "") -> Actor:
        return cls(user=None, role="system", unit=None, label=label or _("System"))

    @property
    def is_system(self) -> bool:
        return self.role == "system"

    @property
    def is_requester(self) -> bool:
        return self.role is None and self.user is None
