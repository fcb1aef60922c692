"""The city's warning rules per matter (预警规则) and the topics to look up."""

from __future__ import annotations

from django.contrib import admin

from .models import Topic, WarningRule


@admin.register(WarningRule)
class WarningRuleAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "window_minutes",
        "min_count",
        "max_chance",
        "weeks",
        "deadline_hours",
        "active",
    ]
    autocomplete_fields = ["matter"]
    list_filter = ["active"]


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["title", "state", "owner_unit", "count", "expected", "raised_at", "deadline"]
    list_filter = ["state"]
    search_fields = ["title"]
    readonly_fields = [f.name for f in Topic._meta.fields]

    def has_add_permission(self, request, obj=None) -> bool:  # topics come from the detector
        return False
