"""Cases in the admin, read-only; the requester's number shown only as the case page shows
it (full to those who call back, each view recorded); the record of who saw personal data;
and the export of everything held about one phone number (a person's access request)."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from minsheng.accounts.guards import actor_of
from minsheng.accounts.models import Role
from minsheng.core import clock
from minsheng.core.phones import mask_phone

from .errors import Invalid
from .models import Case, CaseEvent, PersonalDataAccess
from .privacy import export_personal_data, reveal_phone


class ReadOnlyEvents(admin.TabularInline):
    model = CaseEvent
    extra = 0
    can_delete = False
    fields = ("at", "action", "actor_label", "from_state", "to_state", "note")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class PhoneForm(forms.Form):
    phone = forms.CharField(label=_("Phone number"), max_length=32)


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    """Cases change only through named actions; the admin shows them read-only. The
    requester is shown apart from the other fields (``change_form.html``), through
    ``reveal_phone``; the follow link's token, which lets its holder act as the requester,
    is not shown at all."""

    list_display = ("number", "title", "state", "matter", "owner_unit", "created_at")
    list_filter = ("state", "channel")
    search_fields = ("number", "title")
    exclude = ("requester_name", "requester_phone", "requester_phone_hash", "public_token")
    inlines = [ReadOnlyEvents]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        case = self.get_object(request, unquote(object_id))
        if case is not None and request.method == "GET" and self.has_view_permission(request, case):
            full = reveal_phone(actor_of(request), case, via="admin")
            phone = case.requester_phone
            extra_context = {
                **(extra_context or {}),
                "requester": {
                    "name": case.requester_name,
                    "phone": phone if full else mask_phone(phone),
                    "erased_at": case.personal_data_erased_at,
                },
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        own = [
            path(
                "personal-data/",
                self.admin_site.admin_view(self.personal_data_view),
                name="cases_case_personal_data",
            )
        ]
        return own + super().get_urls()

    def personal_data_view(self, request: HttpRequest) -> HttpResponse:
        """个人信息查阅: an administrator enters a phone number and downloads, as JSON,
        everything held about it; the export is recorded against each case."""
        actor = actor_of(request)
        if actor.role != Role.ADMIN:
            raise PermissionDenied
        form = PhoneForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                held = export_personal_data(actor, form.cleaned_data["phone"], via="export")
            except Invalid as exc:
                form.add_error("phone", exc.message)
            else:
                response = HttpResponse(
                    json.dumps(held, ensure_ascii=False, indent=2),
                    content_type="application/json; charset=utf-8",
                )
                name = f"personal-data-{held['phone'][-4:]}-{clock.now():%Y%m%d%H%M}.json"
                response["Content-Disposition"] = f'attachment; filename="{name}"'
                return response
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "title": _("Personal data held about a phone number"),
            "opts": self.model._meta,
            "form": form,
        }
        return TemplateResponse(request, "admin/cases/case/personal_data.html", context)


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(admin.ModelAdmin):
    """Who saw a requester's number, or exported what is held about one: read by case,
    person and day; never added, changed or deleted here (nor, below, in the database)."""

    list_display = ("at", "user", "case_number", "field", "via")
    list_filter = ("via", "field", ("user", admin.RelatedOnlyFieldListFilter))
    search_fields = ("case__number", "user__username")
    date_hierarchy = "at"
    list_select_related = ("user", "case")
    fields = ("at", "user", "case", "field", "via")
    readonly_fields = fields

    @admin.display(description=_("case"), ordering="case__number")
    def case_number(self, obj: PersonalDataAccess) -> str:
        return obj.case.number

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
