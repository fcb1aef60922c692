"""Units (单位) and the people who work in them, with their role and API tokens."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


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


class ApiToken(models.Model):
    """A personal API token; only its SHA-256 is stored, the token is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"
