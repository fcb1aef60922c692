"""Administrators see every message owed, find the parked ones, retry them, configure each
unit's robots and webhooks (and test them), and edit the message texts."""

from __future__ import annotations

import urllib.parse
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from minsheng.core import clock
from minsheng.core.phones import mask_phone

from . import delivery
from .channels import ChannelError, Rendered, for_unit_channel
from .defaults import COMMON_VARIABLES, DEFAULT_TEMPLATES, VARIABLES
from .models import (
    Delivery,
    MessageTemplate,
    Notification,
    OutboxMessage,
    OutboxStatus,
    UnitChannel,
)


class AttentionFilter(admin.SimpleListFilter):
    """What needs a person: parked messages, and pending ones that have already failed."""

    title = _("needs attention")
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [("parked", _("Parked")), ("failing", _("Pending, failed before"))]

    def queryset(self, request, queryset):
        if self.value() == "parked":
            return queryset.filter(status=OutboxStatus.PARKED)
        if self.value() == "failing":
            return queryset.filter(status=OutboxStatus.PENDING, attempts__gt=0)
        return queryset


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    fields = readonly_fields = ("channel", "status", "attempts", "sent_at", "last_error", "updated_at")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(OutboxMessage)
class OutboxAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "kind",
        "audience",
        "recipient",
        "status",
        "attempts",
        "next_attempt_at",
        "short_error",
        "created_at",
        "sent_at",
    )
    list_filter = (AttentionFilter, "status", "kind", "audience")
    search_fields = ("kind", "case__number", "unit__name", "last_error")
    list_select_related = ("unit", "user", "case")
    date_hierarchy = "created_at"
    actions = ["retry_messages"]
    inlines = [DeliveryInline]
    # The outbox is a record: only the worker and the retry action change it.
    readonly_fields = (
        "kind",
        "audience",
        "unit",
        "user",
        "masked_phone",
        "case",
        "context",
        "status",
        "attempts",
        "next_attempt_at",
        "last_attempt_at",
        "last_error",
        "created_at",
        "sent_at",
        "claimed_until",
        "claimed_by",
    )
    exclude = ("phone",)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("recipient"))
    def recipient(self, obj: OutboxMessage) -> str:
        if obj.unit_id:
            return str(obj.unit)
        if obj.user_id:
            return str(obj.user)
        return self.masked_phone(obj)

    @admin.display(description=_("phone"))
    def masked_phone(self, obj: OutboxMessage) -> str:
        return mask_phone(obj.phone)

    @admin.display(description=_("last error"))
    def short_error(self, obj: OutboxMessage) -> str:
        return obj.last_error[:80] + ("…" if len(obj.last_error) > 80 else "")

    @admin.action(description=_("Retry now (fresh count of attempts)"))
    def retry_messages(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = delivery.retry(queryset)
        self.message_user(
            request,
            ngettext("%(count)d message put back in line.", "%(count)d messages put back in line.", count)
            % {"count": count},
            messages.SUCCESS,
        )


def _where(url: str) -> str:
    """Where a channel's URL points, without its query (which carries the robot's token)."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


class UnitChannelForm(forms.ModelForm):
    """The URL and the secret are written, never read back: the page shows where the URL
    points and whether a secret is set, and leaving either empty keeps what is stored."""

    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https", required=False)
    secret = forms.CharField(
        label=_("secret"), max_length=200, required=False, widget=forms.PasswordInput(render_value=False)
    )
    clear_secret = forms.BooleanField(label=_("Remove the secret"), required=False)

    class Meta:
        model = UnitChannel
        fields = ("unit", "kind", "name", "url", "secret", "active")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        held = self.instance if self.instance.pk else None
        self.initial["url"] = self.initial["secret"] = ""
        if held is not None:
            self.fields["url"].help_text = _("Now: %(where)s… Leave empty to keep it.") % {
                "where": _where(held.url)
            }
            self.fields["secret"].help_text = (
                _("A secret is set. Leave empty to keep it.") if held.secret else _("No secret is set.")
            )
        else:
            self.fields["url"].required = True

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        return url or (self.instance.url if self.instance.pk else "")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("clear_secret"):
            data["secret"] = ""
        elif not data.get("secret") and self.instance.pk:
            data["secret"] = self.instance.secret
        return data


@admin.register(UnitChannel)
class UnitChannelAdmin(admin.ModelAdmin):
    form = UnitChannelForm
    list_display = ("unit", "kind", "name", "host", "active")
    list_filter = ("kind", "active")
    search_fields = ("unit__name", "name")
    list_select_related = ("unit",)
    actions = ["send_test"]

    @admin.display(description=_("host"))
    def host(self, obj: UnitChannel) -> str:
        # The full URL carries the robot's token: the list shows only where it points.
        return urllib.parse.urlsplit(obj.url).netloc

    @admin.action(description=_("Send a test message"))
    def send_test(self, request: HttpRequest, queryset: QuerySet) -> None:
        probe = OutboxMessage(
            pk=0,
            kind="test",
            audience="unit",
            context={},
            created_at=clock.now(),
            next_attempt_at=clock.now(),
        )
        text = Rendered(title="民声测试消息", body="这是一条测试消息，收到说明本群机器人配置正确。")
        for ch in queryset.select_related("unit"):
            probe.unit = ch.unit
            try:
                for_unit_channel(ch).send(text, probe)
            except ChannelError as exc:
                self.message_user(request, f"{ch}: {exc}", messages.ERROR)
            else:
                self.message_user(
                    request, _("%(channel)s: test message taken.") % {"channel": ch}, messages.SUCCESS
                )


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    list_display = ("kind", "title", "updated_at")
    search_fields = ("kind", "title", "body")
    readonly_fields = ("variables", "updated_at")
    fields = ("kind", "title", "body", "variables", "updated_at")
    actions = ["reset_to_default"]

    @admin.display(description=_("variables"))
    def variables(self, obj: MessageTemplate) -> str:
        names = (*VARIABLES.get(obj.kind, ()), *COMMON_VARIABLES)
        return format_html_join(" ", "<code>{{{{ {} }}}}</code>", ((n,) for n in names))

    @admin.action(description=_("Reset to the shipped text"))
    def reset_to_default(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = 0
        for template in queryset:
            if template.kind in DEFAULT_TEMPLATES:
                template.title, template.body = DEFAULT_TEMPLATES[template.kind]
                template.save()
                count += 1
        self.message_user(
            request,
            ngettext("%(count)d template reset.", "%(count)d templates reset.", count) % {"count": count},
        )


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("title", "user", "created_at", "read_at")
    list_filter = ("read_at",)
    search_fields = ("title", "user__username")
    list_select_related = ("user",)
    readonly_fields = ("user", "message", "title", "body", "url", "created_at", "read_at")

    def has_add_permission(self, request):
        return False
