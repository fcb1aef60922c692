from django.contrib import admin

from .models import Matter


@admin.register(Matter)
class MatterAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "owner_unit", "resolve_working_days", "auto_threshold", "active")
    list_filter = ("active", "owner_unit")
    search_fields = ("code", "name")
