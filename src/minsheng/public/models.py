"""Reporting partners (蜂巢共治: riders, couriers and grid workers who report what they see
on their rounds) and the bookkeeping of public reports."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class PartnerKind(models.TextChoices):
    RIDER = "rider", _("Delivery rider")
    COURIER = "courier", _("Courier")
    GRID = "grid", _("Grid worker")


class ReportingPartner(models.Model):
    """A registered reporting partner. They identify by phone number only (no password):
    a report whose phone matches carries the partner's channel and counts for their
    station. Registration proves nothing about the number, so the station's staff confirm
    their partners (``verified``) before recognising them."""

    phone = models.CharField(_("phone"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=64)
    kind = models.CharField(_("kind"), max_length=8, choices=PartnerKind.choices)
    station = models.CharField(
        _("station"), max_length=100, help_text=_("The delivery station, company or grid they belong to.")
    )
    unit = models.ForeignKey(
        "accounts.Unit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="partners",
        verbose_name=_("unit"),
        help_text=_("The community or street whose staff look after this partner."),
    )
    verified = models.BooleanField(_("verified"), default=False)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="partner_kind_valid", condition=models.Q(kind__in=PartnerKind.values)
            ),
        ]
        verbose_name = _("reporting partner")
        verbose_name_plural = _("reporting partners")

    def __str__(self) -> str:
        return f"{self.name} ({self.station})"


class PartnerReport(models.Model):
    """One report by a partner: their history, kept for the station's recognition even if
    the case is later merged or closed."""

    partner = models.ForeignKey(ReportingPartner, on_delete=models.PROTECT, related_name="reports")
    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="partner_report")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.partner_id} → {self.case_id}"


class ReportKey(models.Model):
    """The public form's key: a resubmitted report (double tap, retry after a lost answer)
    returns the case made the first time instead of a second one."""

    key = models.CharField(max_length=64, unique=True)
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.key


class GuessCount(models.Model):
    """Failed look-ups on the public follow page, counted per client and per case number
    (``public.limits.take_guess``). One row per key and window, incremented by a single
    ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` in the database, so that clients racing
    each other (any number of server processes, any cache) never get more guesses than the
    limit. The key is a keyed hash: no address or number is stored."""

    key = models.CharField(max_length=64, unique=True)
    count = models.PositiveIntegerField(default=0)
    started = models.BigIntegerField(db_index=True, help_text="When the window began (Unix seconds).")

    def __str__(self) -> str:
        return f"{self.key[:8]}… {self.count}"
