"""The city's weights and ranking policy (考核办法) in the admin."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import MeasureWeight, RankingPolicy


@admin.register(MeasureWeight)
class MeasureWeightAdmin(admin.ModelAdmin):
    list_display = ["measure", "weight"]
    list_editable = ["weight"]


@admin.register(RankingPolicy)
class RankingPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "tier_a",
        "tier_b",
        "tier_c",
        "red_size",
        "red_from",
        "yellow_size",
        "yellow_under",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not RankingPolicy.objects.exists()  # one row

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
