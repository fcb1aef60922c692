from django.contrib import admin

from .models import PollState, ProvincialCase


@admin.register(ProvincialCase)
class ProvincialCaseAdmin(admin.ModelAdmin):
    """Which case is which of the provincial platform's (read-only)."""

    list_display = ("province_id", "case", "via", "received_at")
    list_filter = ("via",)
    search_fields = ("province_id", "case__number")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PollState)
class PollStateAdmin(admin.ModelAdmin):
    list_display = ("cursor", "polled_at", "ok_at", "failures", "last_error")

    def has_add_permission(self, request):
        return False
