from django.contrib import admin

from .models import ApiKey, ServiceRequest


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are made by ``minsheng createapikey`` (the raw key is shown once); here they are
    read and revoked (set ``revoked_at``)."""

    list_display = ("name", "unit", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")
    search_fields = ("name", "prefix")

    def has_add_permission(self, request):
        return False


@admin.register(ServiceRequest)
class ServiceRequestAdmin(admin.ModelAdmin):
    list_display = ("case", "key", "created_at")
    readonly_fields = ("case", "key", "token", "device_id", "account_id", "created_at")
    list_select_related = ("case", "key")
