from django.contrib import admin

from .models import ChangeRequest, GroupMember, GroupMessage, JointGroup


class MemberInline(admin.TabularInline):
    model = GroupMember
    extra = 0
    can_delete = False
    fields = ("unit", "role", "task", "due_at", "signed_at", "done_at", "waived_at", "removed_at")
    readonly_fields = fields


@admin.register(JointGroup)
class JointGroupAdmin(admin.ModelAdmin):
    """Read-only: groups change only through the named actions, which keep the case's log."""

    list_display = ("id", "case", "lead_unit", "state", "formed_at", "closed_at")
    list_filter = ("state",)
    inlines = [MemberInline]
    readonly_fields = (
        "case",
        "lead_unit",
        "formed_by",
        "formed_unit",
        "formed_at",
        "note",
        "state",
        "closed_at",
    )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(GroupMessage)
class GroupMessageAdmin(admin.ModelAdmin):
    list_display = ("id", "group", "author_label", "unit", "created_at")
    readonly_fields = ("group", "author", "author_label", "unit", "text", "created_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ChangeRequest)
class ChangeRequestAdmin(admin.ModelAdmin):
    list_display = ("id", "group", "unit", "status", "created_at", "answered_at")
    list_filter = ("status",)
    readonly_fields = (
        "group",
        "unit",
        "requested_by",
        "reason",
        "status",
        "created_at",
        "answered_at",
        "answered_by",
        "answer",
    )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
