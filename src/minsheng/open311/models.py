"""Open311 partners' API keys and the requests they sent."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _


def _token() -> str:
    return secrets.token_urlsafe(16)


class ApiKey(models.Model):
    """An Open311 partner's ``api_key`` (开放311接口密钥). Only its SHA-256 is stored, the key
    is shown once (``minsheng createapikey NAME --unit CODE``). Each key belongs to a partner
    unit: the requests it posts are taken in under that unit's name, and a read that sends the
    key is narrowed to its own requests."""

    name = models.CharField(_("name"), max_length=64, unique=True)
    unit = models.ForeignKey(
        "accounts.Unit", on_delete=models.PROTECT, related_name="open311_keys", verbose_name=_("unit")
    )
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("Open311 API key")
        verbose_name_plural = _("Open311 API keys")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class ServiceRequest(models.Model):
    """A case that came in through Open311 (开放311诉求): the key that sent it and the
    ``token`` its client may look the request up by. Only cases with such a row are shown
    through Open311; a hotline caller never agreed to have theirs published."""

    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="open311")
    key = models.ForeignKey(ApiKey, on_delete=models.PROTECT, related_name="requests")
    token = models.CharField(max_length=32, unique=True, default=_token)
    device_id = models.CharField(max_length=64, blank=True)
    account_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["key", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.key_id} → {self.case_id}"
