"""The outbox (发件箱): every message the system owes someone, written in the same
transaction as the change that caused it and delivered later by the worker.

Around it: per-channel delivery records (so a partly failed fan-out never re-sends to the
channels that already got it), the in-app notifications behind the bell (铃铛), each
unit's group robots and webhooks, and the message templates administrators edit.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.template import Template, TemplateSyntaxError
from django.utils.translation import gettext_lazy as _

from minsheng.core import clock
from minsheng.core.fields import BlindIndexField, EncryptedTextField

from . import addresses


class Audience(models.TextChoices):
    UNIT = "unit", _("Unit")
    USER = "user", _("User")
    REQUESTER = "requester", _("Requester")


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    PARKED = "parked", _("Parked after repeated failures")


class OutboxMessage(models.Model):
    """One message owed to one audience. ``pending`` until every channel that applies has
    taken it; ``parked`` after too many failed attempts (never dropped: an administrator
    sees it and retries it).

    A worker claims a batch by setting ``claimed_until``/``claimed_by`` in a short
    transaction, so claims never overlap across worker processes; a worker that dies leaves
    its claim to expire, after which another worker takes the message again.
    """

    kind = models.CharField(_("kind"), max_length=48)
    audience = models.CharField(_("audience"), max_length=16, choices=Audience.choices)
    unit = models.ForeignKey(
        "accounts.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The requester's number for an SMS: personal data, encrypted at rest like the case's.
    phone = EncryptedTextField(max_length=20, blank=True)
    phone_hash = BlindIndexField(of="phone", db_default="")
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="outbox"
    )
    context = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # The lease: who holds the message now and until when (null: nobody).
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    claimed_by = models.CharField(_("claimed by"), max_length=120, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="outbox_pending_due",
                condition=models.Q(status="pending"),
            ),
            models.Index(
                fields=["created_at"],
                name="outbox_parked",
                condition=models.Q(status="parked"),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} → {self.audience}"


class DeliveryStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Delivery(models.Model):
    """What one channel did with one message. A row with status ``sent`` means "never send
    this message through this channel again": a retry after a partial failure only goes to
    the channels that have not taken it yet."""

    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(_("channel"), max_length=64)
    status = models.CharField(_("status"), max_length=16, choices=DeliveryStatus.choices)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        ordering = ["message_id", "channel"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(fields=["message", "channel"], name="delivery_once_per_channel"),
        ]

    def __str__(self) -> str:
        return f"#{self.message_id} via {self.channel}: {self.status}"


class Notification(models.Model):
    """An in-app notification behind the bell. Unique per (user, message), so a message
    delivered twice (a worker killed before it recorded the delivery) shows once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="notifications")
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"))
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(fields=["user", "message"], name="notification_once_per_user"),
        ]
        indexes = [
            # The bell's count on every page: one index-only count per request.
            models.Index(
                fields=["user"], name="notification_unread", condition=models.Q(read_at__isnull=True)
            ),
            models.Index(fields=["user", "-created_at"], name="notification_user_recent"),
        ]

    def __str__(self) -> str:
        return self.title


class ChannelKind(models.TextChoices):
    DINGTALK = "dingtalk", _("DingTalk group robot")  # 钉钉自定义机器人
    ZZD = "zzd", _("Zhezhengding group robot")  # 浙政钉群机器人
    WECOM = "wecom", _("WeCom group robot")  # 企业微信群机器人
    WEBHOOK = "webhook", _("Webhook (signed JSON POST)")


class UnitChannel(models.Model):
    """A unit's own group robot or webhook: every message to the unit is posted there too.

    DingTalk/浙政钉: the robot's webhook URL (with ``access_token``) and its 加签 secret
    (``SEC…``). WeCom: the robot's webhook URL (``…/webhook/send?key=…``); the secret may
    hold the key instead. Webhook: the receiver's URL and the HMAC secret it checks.
    """

    unit = models.ForeignKey(
        "accounts.Unit",
        on_delete=models.CASCADE,
        related_name="notify_channels",
        verbose_name=_("unit"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=ChannelKind.choices)
    name = models.CharField(
        _("name"), max_length=64, blank=True, help_text=_("For people: which group this is.")
    )
    # Both are secrets (the URL of a group robot carries its token): encrypted at rest, and
    # the admin never writes them back into a page.
    url = EncryptedTextField(_("URL"), max_length=500, validators=[URLValidator(schemes=["http", "https"])])
    secret = EncryptedTextField(_("secret"), max_length=200, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["unit_id", "kind", "id"]
        verbose_name = _("unit channel")
        verbose_name_plural = _("unit channels")

    def __str__(self) -> str:
        return f"{self.unit} · {self.get_kind_display()}{f' · {self.name}' if self.name else ''}"

    @property
    def key(self) -> str:
        """The delivery key: stable for the life of this channel row."""
        return f"{self.kind}:{self.pk}"

    def clean(self) -> None:
        if not self.url.lower().startswith(("https://", "http://")):
            raise ValidationError({"url": _("Only http(s) URLs can be used.")})
        if (why := addresses.refusal(self.url)) is not None:
            raise ValidationError(
                {
                    "url": _("This URL points inside the network (%(why)s); use a public address.")
                    % {"why": why}
                }
            )
        if self.kind == ChannelKind.WEBHOOK and not self.secret:
            raise ValidationError({"secret": _("A webhook needs a secret to sign its requests.")})


class MessageTemplate(models.Model):
    """The text of one kind of message, in Django template syntax, edited by
    administrators. The defaults ship in ``notify/defaults.py`` and are seeded by a data
    migration; a kind without a row falls back to its default."""

    kind = models.CharField(_("kind"), max_length=48, unique=True)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"))
    updated_at = models.DateTimeField(_("updated at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["kind"]
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")

    def __str__(self) -> str:
        return self.kind

    def save(self, *args, **kwargs) -> None:
        self.updated_at = clock.now()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        for field in ("title", "body"):
            try:
                Template(getattr(self, field))
            except TemplateSyntaxError as exc:
                raise ValidationError({field: str(exc)}) from exc
