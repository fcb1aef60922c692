"""Units (单位) and the people who work in them, with their role and API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from minsheng.core import clock


class UnitKind(models.TextChoices):
    CENTRE = "centre", _("City command centre")
    SUBCENTRE = "subcentre", _("Sub-centre")
    DEPARTMENT = "department", _("Line department")
    GRASSROOTS = "grassroots", _("Village/community")


class Unit(models.Model):
    """A unit that receives cases: the city centre, a town/street sub-centre (分中心),
    a line department (条), or a village/community (块)."""

    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=64, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=UnitKind.choices)
    place = models.ForeignKey(
        "places.Place", null=True, blank=True, on_delete=models.PROTECT, related_name="units"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind", "code"]
        verbose_name = _("unit")
        verbose_name_plural = _("units")

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OPERATOR = "operator", _("Hotline operator")
    CITY_DISPATCHER = "city_dispatcher", _("City dispatcher")
    SUBCENTRE_DISPATCHER = "subcentre_dispatcher", _("Sub-centre dispatcher")
    HANDLER = "handler", _("Department handler")
    FIELD_WORKER = "field_worker", _("Field worker")
    LEADER = "leader", _("Leader")
    ADMIN = "admin", _("Administrator")


class Profile(models.Model):
    """What a user is in the loop: one role, and the unit it works for."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="staff")
    display_name = models.CharField(_("display name"), max_length=64, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(name="profile_role_valid", condition=models.Q(role__in=Role.values)),
        ]

    def __str__(self) -> str:
        return f"{self.display_name or self.user.get_username()} ({self.get_role_display()})"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class TokenState(models.TextChoices):
    ACTIVE = "active", _("Active")
    EXPIRED = "expired", _("Expired")
    REVOKED = "revoked", _("Revoked")


class RevokedBecause(models.TextChoices):
    OWNER = "owner", _("Revoked by its owner")
    ADMIN = "admin", _("Revoked by an administrator")
    PASSWORD = "password", _("The password changed")


class ApiToken(models.Model):
    """A personal API token; only its SHA-256 is stored, the token is shown once. It works
    until ``expires_at`` and stops for good when revoked (by its owner, an administrator, or
    a change of its user's password)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=64, blank=True, help_text=_("What the token is for."))
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), default=clock.now)
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked = models.BooleanField(_("revoked"), default=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_because = models.CharField(
        _("revoked because"), max_length=16, choices=RevokedBecause.choices, blank=True
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    def state(self, at: dt.datetime) -> TokenState:
        if self.revoked:
            return TokenState.REVOKED
        return TokenState.ACTIVE if at < self.expires_at else TokenState.EXPIRED
