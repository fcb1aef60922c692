from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext, gettext_lazy

from .actions import revoke_tokens
from .models import ApiToken, Profile, RevokedBecause, Unit


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "place", "parent", "active")
    list_filter = ("kind", "active")
    search_fields = ("code", "name")


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "display_name", "role", "unit")
    list_filter = ("role",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "name", "created_at", "expires_at", "last_used_at", "revoked")
    list_filter = ("revoked", "revoked_because")
    search_fields = ("prefix", "user__username", "name")
    readonly_fields = (
        "prefix",
        "key_hash",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked",
        "revoked_at",
        "revoked_because",
    )
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # created by `minsheng createtoken` or on the tokens page: shown once

    @admin.action(description=gettext_lazy("Revoke the selected tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = revoke_tokens(queryset, because=RevokedBecause.ADMIN)
        self.message_user(request, gettext("%(count)d tokens revoked.") % {"count": count})
