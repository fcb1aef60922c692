"""The field worker's records (派驻力量): arrivals on site with time and position, the
unit's duty roster (值班表), and the keys that make a retried submission harmless."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Arrival(models.Model):
    """到场: a dispatched person reached the spot. The position is the phone's (WGS-84),
    with its accuracy in metres; the case's log has the same as an ``arrive`` event."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="arrivals")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="arrivals")
    at = models.DateTimeField()
    lat = models.FloatField()
    lng = models.FloatField()
    accuracy = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["user", "-at"])]
        verbose_name = _("arrival")
        verbose_name_plural = _("arrivals")

    def __str__(self) -> str:
        return f"{self.user_id} at case {self.case_id} {self.at:%Y-%m-%d %H:%M}"


class DutyShift(models.Model):
    """值班: one person of a unit on duty from ``starts_at`` to ``ends_at`` (typically a
    24-hour shift). Dispatch suggests them; urgent cases at night go to them."""

    unit = models.ForeignKey("accounts.Unit", on_delete=models.CASCADE, related_name="shifts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shifts")
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["unit", "starts_at", "ends_at"])]
        constraints = [
            models.CheckConstraint(
                name="shift_ends_after_start", condition=models.Q(ends_at__gt=models.F("starts_at"))
            ),
        ]
        verbose_name = _("duty shift")
        verbose_name_plural = _("duty shifts")

    def __str__(self) -> str:
        return f"{self.user} @ {self.unit} {self.starts_at:%Y-%m-%d %H:%M}"


class SubmissionKey(models.Model):
    """A form's key from the field worker's phone: a resubmitted "mark handled" (the
    answer was lost on a weak connection) is recognised and not recorded twice."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=64)
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="field_submission_key_unique")]

    def __str__(self) -> str:
        return self.key
