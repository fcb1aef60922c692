"""The city's follow-up rules (回访规则) in the admin: the one rule set with a rule per
matter inline, and the follow-ups themselves to look up (read-only: they change only
through the queue's actions)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from minsheng.core import clock

from .models import FollowUp, MatterRule, RuleSet


class MatterRuleInline(admin.TabularInline):
    model = MatterRule
    extra = 1
    autocomplete_fields = ["matter"]


@admin.register(RuleSet)
class RuleSetAdmin(admin.ModelAdmin):
    inlines = [MatterRuleInline]
    filter_horizontal = ["supervised_units"]
    readonly_fields = ["updated_at", "updated_by"]
    list_display = [
        "__str__",
        "default_share",
        "supervised_cases",
        "delay_hours",
        "attempts",
        "interval_minutes",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not RuleSet.objects.exists()  # one row

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: RuleSet, form: Any, change: bool) -> None:
        obj.updated_at = clock.now()
        obj.updated_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    list_display = ["case", "state", "reason", "due_at", "attempts", "outcome", "via", "finished_at"]
    list_filter = ["state", "reason", "outcome", "via"]
    search_fields = ["case__number"]
    list_select_related = ["case"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
