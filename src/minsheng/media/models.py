"""Photos attached to a case (照片): by the requester with the report, by field workers on
site, by a joint group. Only the cleaned copy is stored (re-encoded, no EXIF/GPS); the
original upload is never written anywhere."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PhotoSource(models.TextChoices):
    REPORT = "report", _("With the report")
    FIELD = "field", _("On site")
    GROUP = "group", _("Joint group")


# What a requester sees on the follow page: the work done, not what other people sent
# (a merged duplicate's requester must not see the first requester's pictures).
PUBLIC_SOURCES = (PhotoSource.FIELD, PhotoSource.GROUP)


class Photo(models.Model):
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="photos")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source = models.CharField(_("source"), max_length=8, choices=PhotoSource.choices)
    # Chosen by the client before the first try, so that a retried upload (weak
    # connection, the answer lost) returns the photo stored the first time.
    client_key = models.CharField(max_length=64, blank=True)
    file = models.FileField(max_length=200)
    thumbnail = models.FileField(max_length=200)
    content_type = models.CharField(max_length=32)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)  # of the stored (cleaned) file
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "client_key"],
                name="photo_client_key_unique",
                condition=~models.Q(client_key=""),
            ),
            models.CheckConstraint(
                name="photo_source_valid", condition=models.Q(source__in=PhotoSource.values)
            ),
        ]
        verbose_name = _("photo")
        verbose_name_plural = _("photos")

    def __str__(self) -> str:
        return f"photo {self.pk} of case {self.case_id}"
