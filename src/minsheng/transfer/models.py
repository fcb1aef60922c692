"""110 ↔ 12345 two-way transfer (双向移交): the lists the city edits, transfers from 110 to the
hotline, and police matters the hotline hands to 110."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from minsheng.core.fields import EncryptedTextField


class Direction(models.TextChoices):
    TO_HOTLINE = "to_hotline", _("110 to the hotline")  # 110 → 12345 非警务警情
    TO_POLICE = "to_police", _("The hotline to 110")  # 12345 → 110 警务类诉求


class Disposition(models.TextChoices):
    """What happens to a hotline case an item hands to 110."""

    CLOSE = "close", _("Closed as transferred")  # 移交即办结
    HOLD = "hold", _("Held until 110's result")  # 保留工单，待110反馈结果


class TransferCategory(models.Model):
    """A category of a transfer list (移交事项类别), one direction."""

    direction = models.CharField(_("direction"), max_length=16, choices=Direction.choices)
    code = models.SlugField(_("code"), max_length=48)
    name = models.CharField(_("name"), max_length=64)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["direction", "position", "code"]
        verbose_name = _("transfer category")
        verbose_name_plural = _("transfer categories")
        constraints = [
            models.UniqueConstraint(fields=["direction", "code"], name="transfer_category_once"),
            models.CheckConstraint(
                condition=models.Q(direction__in=["to_hotline", "to_police"]),
                name="transfer_category_direction",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} · {self.name}"


class TransferItem(models.Model):
    """One item of a transfer list (移交事项). An item 110 hands to the hotline names the
    matter of the list of matters its case is taken in as (by code, so the two lists are
    loaded in any order); an item the hotline hands to 110 says whether the case is closed as
    transferred or held until 110's result."""

    category = models.ForeignKey(
        TransferCategory, on_delete=models.PROTECT, related_name="items", verbose_name=_("category")
    )
    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=128)
    matter_code = models.CharField(
        _("matter"),
        max_length=64,
        blank=True,
        help_text=_("110 to the hotline: the code of the matter the case is taken in as."),
    )
    disposition = models.CharField(
        _("disposition"),
        max_length=8,
        choices=Disposition.choices,
        default=Disposition.CLOSE,
        help_text=_("The hotline to 110: closed as transferred, or held until 110's result."),
    )
    active = models.BooleanField(_("active"), default=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["category__direction", "category__position", "position", "code"]
        verbose_name = _("transfer item")
        verbose_name_plural = _("transfer items")

    def __str__(self) -> str:
        return self.name

    @property
    def direction(self) -> str:
        return self.category.direction


class IncomingState(models.TextChoices):
    PENDING = "pending", _("Awaiting the centre")  # 待接收
    ACCEPTED = "accepted", _("Accepted into the loop")  # 已接收
    RETURNED = "returned", _("Returned to 110")  # 已退回


class IncomingTransfer(models.Model):
    """A matter 110 handed to the hotline (110 → 12345), known by 110's own reference. The
    centre must decide (accept it as a case, or return it with a reason) by ``due_at``."""

    police_ref = models.CharField(_("110 reference"), max_length=64, unique=True)
    item = models.ForeignKey(TransferItem, on_delete=models.PROTECT, related_name="+", verbose_name=_("item"))
    text = models.TextField(_("what was reported"))
    address = models.CharField(_("address"), max_length=200, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    caller_name = EncryptedTextField(_("caller"), max_length=64, blank=True)
    caller_phone = EncryptedTextField(_("caller's phone"), max_length=20, blank=True)
    sent_at = models.DateTimeField(_("sent by 110 at"))
    received_at = models.DateTimeField(_("received at"))
    due_at = models.DateTimeField(_("decide by"))
    state = models.CharField(
        _("state"), max_length=16, choices=IncomingState.choices, default=IncomingState.PENDING
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("reason for returning"), blank=True)
    case = models.OneToOneField(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="from_110"
    )
    warned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("transfer from 110")
        verbose_name_plural = _("transfers from 110")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=["pending", "accepted", "returned"]),
                name="incoming_transfer_state",
            ),
            models.CheckConstraint(
                condition=~models.Q(state="returned") | ~models.Q(reason=""),
                name="incoming_returned_with_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["due_at"], name="incoming_pending_due", condition=models.Q(state="pending")),
        ]

    def __str__(self) -> str:
        return self.police_ref

    @property
    def in_time(self) -> bool | None:
        """Decided within the clock; ``None`` while pending."""
        return None if self.decided_at is None else self.decided_at <= self.due_at


class ReceiptState(models.TextChoices):
    SENT = "sent", _("Sent, awaiting 110's receipt")  # 已移交，待签收
    RECEIVED = "received", _("Received by 110")  # 110已签收
    DONE = "done", _("110 reported its result")  # 110已反馈结果
    REFUSED = "refused", _("Refused by 110")  # 110不予接收


class OutgoingTransfer(models.Model):
    """A police matter reported through the hotline and handed to 110 (12345 → 110), with
    110's receipt (签收回执) and, for a held case, its result."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="to_110")
    item = models.ForeignKey(TransferItem, on_delete=models.PROTECT, related_name="+", verbose_name=_("item"))
    disposition = models.CharField(_("disposition"), max_length=8, choices=Disposition.choices)
    note = models.TextField(_("note for 110"), blank=True)
    sent_at = models.DateTimeField(_("sent at"))
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    receipt_due_at = models.DateTimeField(_("receipt due by"))
    state = models.CharField(
        _("state"), max_length=16, choices=ReceiptState.choices, default=ReceiptState.SENT
    )
    police_ref = models.CharField(_("110 reference"), max_length=64, blank=True)
    received_at = models.DateTimeField(_("received by 110 at"), null=True, blank=True)
    result = models.TextField(_("110's result"), blank=True)
    result_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-sent_at", "-id"]
        verbose_name = _("transfer to 110")
        verbose_name_plural = _("transfers to 110")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=["sent", "received", "done", "refused"]),
                name="outgoing_transfer_state",
            ),
        ]
        indexes = [
            models.Index(
                fields=["receipt_due_at"], name="outgoing_awaiting_receipt", condition=models.Q(state="sent")
            ),
        ]

    def __str__(self) -> str:
        return f"T{self.pk} · {self.case_id}"

    @property
    def reference(self) -> str:
        """Our reference for 110 (in the message and in its receipt)."""
        return f"T{self.pk}"

    @property
    def in_time(self) -> bool | None:
        return None if self.received_at is None else self.received_at <= self.receipt_due_at


class ReceiptEvent(models.Model):
    """Each receipt 110 sent, by its own id: the same receipt again changes nothing."""

    event_id = models.CharField(max_length=64, unique=True)
    transfer = models.ForeignKey(OutgoingTransfer, on_delete=models.CASCADE, related_name="receipts")
    status = models.CharField(max_length=16)
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["received_at", "id"]

    def __str__(self) -> str:
        return f"{self.event_id}: {self.status}"
