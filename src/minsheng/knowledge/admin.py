from django.contrib import admin

from .models import Article, ArticleVersion


class VersionInline(admin.TabularInline):
    model = ArticleVersion
    fk_name = "article"
    extra = 0
    can_delete = False
    fields = ("number", "action", "author_label", "at", "note", "title", "valid_until")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    """Read-only: articles change through the knowledge pages' named actions, which keep
    the version history and the review (the owner drafts, the centre publishes)."""

    list_display = ("code", "title", "owner_unit", "matter", "state", "version", "valid_until")
    list_filter = ("state", "owner_unit")
    search_fields = ("code", "title", "answer")
    inlines = [VersionInline]
    readonly_fields = (
        "code",
        "title",
        "answer",
        "keywords",
        "owner_unit",
        "matter",
        "valid_until",
        "state",
        "version",
        "live",
        "created_at",
        "updated_at",
        "reminded_for",
    )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
