"""Typical cases (典型案例): a closed case told to the public as an example of the loop."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TypicalState(models.TextChoices):
    NOMINATED = "nominated", _("Nominated")  # 推荐
    PREPARED = "prepared", _("Prepared, awaiting approval")  # 编辑
    PUBLISHED = "published", _("Published")  # 发布
    WITHDRAWN = "withdrawn", _("Withdrawn")


class TypicalCase(models.Model):
    """One closed case on its way to the public page. ``title`` and ``story`` are the
    editor's words with personal data removed (:mod:`.redact`); the public page shows them,
    the matter, the town, the dates and the two photos, and nothing else of the case."""

    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="+")
    state = models.CharField(
        _("state"), max_length=16, choices=TypicalState.choices, default=TypicalState.NOMINATED
    )
    reason = models.TextField(_("why it is typical"), blank=True)
    nominated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    nominated_at = models.DateTimeField()
    title = models.CharField(_("public title"), max_length=80, blank=True)
    story = models.TextField(_("the story"), blank=True)
    before_photo = models.ForeignKey(
        "media.Photo", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    after_photo = models.ForeignKey(
        "media.Photo", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    prepared_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-published_at", "-nominated_at", "-id"]
        indexes = [models.Index(fields=["state", "-published_at"], name="typical_state_published")]
        constraints = [
            models.CheckConstraint(
                name="typical_state_valid", condition=models.Q(state__in=TypicalState.values)
            ),
        ]
        verbose_name = _("typical case")
        verbose_name_plural = _("typical cases")

    def __str__(self) -> str:
        return self.title or f"#{self.case_id}"
