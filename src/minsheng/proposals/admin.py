from django.contrib import admin

from .models import Proposal, ProposalKind


@admin.register(ProposalKind)
class ProposalKindAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "contact_days", "reply_months", "co_unit_days", "verdict_days")


@admin.register(Proposal)
class ProposalAdmin(admin.ModelAdmin):
    list_display = ("number", "title", "kind", "proposer", "public", "handed_over_at", "verdict")
    list_filter = ("kind", "public", "verdict")
    search_fields = ("number", "title", "proposer")
    readonly_fields = (
        "case",
        "handed_over_at",
        "contacted_at",
        "replied_at",
        "verdict",
        "verdict_at",
        "rounds",
    )
