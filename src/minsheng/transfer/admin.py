from django.contrib import admin

from .models import IncomingTransfer, OutgoingTransfer, TransferCategory, TransferItem


class ItemInline(admin.TabularInline):
    model = TransferItem
    extra = 0
    fields = ("code", "name", "matter_code", "disposition", "active", "position")


@admin.register(TransferCategory)
class TransferCategoryAdmin(admin.ModelAdmin):
    """The city edits its two transfer lists here: categories and their items."""

    list_display = ("name", "code", "direction", "position")
    list_filter = ("direction",)
    inlines = [ItemInline]


@admin.register(TransferItem)
class TransferItemAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "category", "matter_code", "disposition", "active")
    list_filter = ("category__direction", "active", "disposition")
    search_fields = ("name", "code")


@admin.register(IncomingTransfer)
class IncomingTransferAdmin(admin.ModelAdmin):
    """Read-only: transfers change only through the centre's decisions."""

    list_display = ("police_ref", "item", "state", "received_at", "due_at", "decided_at")
    list_filter = ("state",)
    search_fields = ("police_ref",)
    exclude = ("caller_name", "caller_phone")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OutgoingTransfer)
class OutgoingTransferAdmin(admin.ModelAdmin):
    list_display = ("reference", "case", "item", "disposition", "state", "sent_at", "received_at")
    list_filter = ("state", "disposition")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
