from django.contrib import admin

from .models import Enterprise, EnterpriseCase, EnterpriseMatter


@admin.register(Enterprise)
class EnterpriseAdmin(admin.ModelAdmin):
    list_display = ("name", "credit_code", "service_officer", "created_at")
    search_fields = ("name", "credit_code")
    readonly_fields = ("credit_code", "created_at")


@admin.register(EnterpriseMatter)
class EnterpriseMatterAdmin(admin.ModelAdmin):
    list_display = ("matter",)


@admin.register(EnterpriseCase)
class EnterpriseCaseAdmin(admin.ModelAdmin):
    list_display = ("case", "enterprise", "created_at")
    readonly_fields = ("case", "enterprise", "created_at")
