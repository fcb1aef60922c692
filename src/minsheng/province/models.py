"""The provincial platform connector (上下级平台): which of our cases is which of the
platform's (id mapping), and where polling has got to."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Via(models.TextChoices):
    WEBHOOK = "webhook", _("Webhook")
    POLL = "poll", _("Polling")


class ProvincialCase(models.Model):
    """One case the provincial platform sent down, by its own id: the same id again is the
    same case, whichever way it came."""

    province_id = models.CharField(_("provincial id"), max_length=64, unique=True)
    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="provincial")
    via = models.CharField(_("came by"), max_length=8, choices=Via.choices)
    received_at = models.DateTimeField(_("received at"))
    province_due_at = models.DateTimeField(_("due at the province"), null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("provincial case")
        verbose_name_plural = _("provincial cases")

    def __str__(self) -> str:
        return self.province_id


class PollState(models.Model):
    """Where polling the platform has got to (one row): its cursor, advanced only once every
    case of a page is taken, so a failed pass asks for the same page again."""

    cursor = models.CharField(max_length=200, blank=True)
    polled_at = models.DateTimeField(null=True, blank=True)
    ok_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    failures = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("polling state")

    def __str__(self) -> str:
        return self.cursor or "—"
