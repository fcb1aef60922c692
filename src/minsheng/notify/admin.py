from django.contrib import admin

from .models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxAdmin(admin.ModelAdmin):
    list_display = ("kind", "audience", "unit", "status", "attempts", "created_at")
    list_filter = ("status", "kind")
