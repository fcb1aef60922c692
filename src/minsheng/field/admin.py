from django.contrib import admin

from .models import Arrival, DutyShift


@admin.register(DutyShift)
class DutyShiftAdmin(admin.ModelAdmin):
    list_display = ("unit", "user", "starts_at", "ends_at", "note")
    list_filter = ("unit",)
    date_hierarchy = "starts_at"
    autocomplete_fields = ()
    raw_id_fields = ("user",)


@admin.register(Arrival)
class ArrivalAdmin(admin.ModelAdmin):
    """Read-only: arrivals are recorded by the ``arrive`` action, with the case's event."""

    list_display = ("case", "user", "at", "lat", "lng", "accuracy")
    readonly_fields = ("case", "user", "at", "lat", "lng", "accuracy")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
