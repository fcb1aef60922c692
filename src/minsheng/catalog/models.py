"""The list of matters (事项清单): category → responsible unit → time limits."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Matter(models.Model):
    """One matter of the city's list. ``owner_unit`` empty means territory (块): the
    sub-centre of the case's town/street receives it."""

    code = models.CharField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=128)
    owner_unit = models.ForeignKey(
        "accounts.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="matters"
    )
    keywords = models.JSONField(_("keywords"), default=list, blank=True)
    sign_minutes = models.PositiveIntegerField(_("sign limit (minutes)"), default=1)
    dispatch_minutes = models.PositiveIntegerField(_("dispatch limit (minutes)"), default=5)
    feedback_hours = models.PositiveIntegerField(_("feedback limit (hours)"), default=24)
    resolve_working_days = models.PositiveIntegerField(_("resolve limit (working days)"), default=5)
    urgent_resolve_hours = models.PositiveIntegerField(_("urgent resolve limit (hours)"), default=24)
    response_minutes = models.PositiveIntegerField(_("sensor response limit (minutes)"), default=15)
    warn_share = models.FloatField(_("warn at share of limit"), default=0.8)
    auto_threshold = models.FloatField(_("auto-dispatch confidence threshold"), default=0.85)
    duplicate_radius_m = models.PositiveIntegerField(_("duplicate radius (m)"), default=0)
    duplicate_window_hours = models.PositiveIntegerField(_("duplicate window (hours)"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("matter")
        verbose_name_plural = _("matters")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_territorial(self) -> bool:
        return self.owner_unit_id is None
