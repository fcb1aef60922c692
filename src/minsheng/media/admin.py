from django.contrib import admin

from .models import Photo


@admin.register(Photo)
class PhotoAdmin(admin.ModelAdmin):
    """Read-only: photos come in only through the named action, cleaned."""

    list_display = ("id", "case", "source", "width", "height", "size", "created_at")
    list_filter = ("source",)
    readonly_fields = (
        "case",
        "uploaded_by",
        "source",
        "client_key",
        "file",
        "thumbnail",
        "content_type",
        "width",
        "height",
        "size",
        "sha256",
        "created_at",
    )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
