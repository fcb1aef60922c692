"""What the API keeps of its own: the body an ``Idempotency-Key`` was first sent with."""

from __future__ import annotations

from django.db import models


class IntakeRequest(models.Model):
    """The fingerprint (a keyed hash, never the body itself) of the intake request that
    first used an ``Idempotency-Key``: the same key with another body is refused."""

    intake_key = models.OneToOneField(
        "cases.IntakeKey", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    fingerprint = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"{self.intake_key_id}: {self.fingerprint[:12]}…"
