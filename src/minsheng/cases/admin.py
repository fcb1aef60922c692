from django.contrib import admin

from .models import Case, CaseEvent


class ReadOnlyEvents(admin.TabularInline):
    model = CaseEvent
    extra = 0
    can_delete = False
    fields = ("at", "action", "actor_label", "from_state", "to_state", "note")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    """Cases change only through named actions; the admin shows them read-only."""

    list_display = ("number", "title", "state", "matter", "owner_unit", "created_at")
    list_filter = ("state", "channel")
    search_fields = ("number", "title")
    inlines = [ReadOnlyEvents]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
