"""The admin and personal data: the case page shows a requester's number only with a record
of the view, the records have a page of their own, a channel's secrets never reach the page,
what administrators change is audited where nobody can rewrite it, and a person's access
request is answered from a page."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from minsheng.cases.models import PersonalDataAccess
from minsheng.cases.privacy import reveal_phone
from minsheng.notify.models import UnitChannel
from tests.common.factories import PASSWORD, intake

pytestmark = pytest.mark.django_db

PHONE = "13812345678"


def staff_client(city, name: str, *, superuser: bool = False, perms: tuple[str, ...] = ()) -> Client:
    user = city.users[name]
    user.is_staff, user.is_superuser = True, superuser
    user.save()
    for codename in perms:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    c = Client()
    assert c.login(username=user.username, password=PASSWORD)
    return c


# --- the admin's case page -------------------------------------------------------------------


def test_the_admin_case_page_shows_the_phone_only_with_a_record_of_the_view(city, now):
    case = intake(city)
    admin = staff_client(city, "admin", superuser=True)
    body = admin.get(reverse("admin:cases_case_change", args=[case.pk])).content.decode()
    assert PHONE in body
    row = PersonalDataAccess.objects.get()
    assert (row.user, row.case_id, row.via) == (city.users["admin"], case.pk, "admin")
    # Nor does it hand out the requester's secret follow link.
    assert case.public_token not in body


def test_staff_who_do_not_call_back_see_it_masked_in_the_admin(city, now):
    case = intake(city)
    leader = staff_client(city, "leader", perms=("view_case",))
    response = leader.get(reverse("admin:cases_case_change", args=[case.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "138****5678" in body and PHONE not in body
    assert not PersonalDataAccess.objects.exists()


# --- the record of who saw what ----------------------------------------------------------------


def test_the_administrator_reads_who_saw_personal_data_by_case_user_and_date(city, now):
    first, second = intake(city), intake(city, point="west.a", category="water.sewage")
    reveal_phone(city.actor("operator"), first, via="web")
    reveal_phone(city.actor("dispatcher"), second, via="api")
    admin = staff_client(city, "admin", superuser=True)
    page = reverse("admin:cases_personaldataaccess_changelist")

    body = admin.get(page).content.decode()
    assert first.number in body and second.number in body
    body = admin.get(page, {"user__id__exact": city.users["dispatcher"].pk}).content.decode()
    assert second.number in body and first.number not in body
    body = admin.get(page, {"q": first.number}).content.decode()
    assert first.number in body and second.number not in body
    day = timezone.localtime(now()).date()
    body = admin.get(
        page, {"at__year": day.year, "at__month": day.month, "at__day": day.day}
    ).content.decode()
    assert first.number in body
    # A record is read, never changed, added or deleted, even by a superuser.
    row = PersonalDataAccess.objects.get(case=first)
    assert (
        admin.post(
            reverse("admin:cases_personaldataaccess_delete", args=[row.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert admin.get(reverse("admin:cases_personaldataaccess_add")).status_code == 403
    assert PersonalDataAccess.objects.count() == 2


# --- channel secrets ---------------------------------------------------------------------------


def test_a_channels_secret_and_token_never_reach_the_admin_page(city):
    from auditlog.models import LogEntry

    channel = UnitChannel.objects.create(
        unit=city.units["roads"],
        kind="dingtalk",
        url="https://oapi.dingtalk.com/robot/send?access_token=TOKEN123",
        secret="SECabc123",
    )
    admin = staff_client(city, "admin", superuser=True)
    change = reverse("admin:notify_unitchannel_change", args=[channel.pk])
    body = admin.get(change).content.decode()
    assert "TOKEN123" not in body and "SECabc123" not in body
    assert "oapi.dingtalk.com" in body  # where it points is shown

    # Left empty, both are kept; a new secret replaces the old.
    form = {
        "unit": city.units["roads"].pk,
        "kind": "dingtalk",
        "name": "值班群",
        "url": "",
        "secret": "",
        "active": "on",
    }
    assert admin.post(change, form).status_code == 302
    channel.refresh_from_db()
    assert (channel.name, channel.secret) == ("值班群", "SECabc123")
    assert channel.url.endswith("access_token=TOKEN123")
    assert admin.post(change, {**form, "secret": "SECnew456"}).status_code == 302
    channel.refresh_from_db()
    assert channel.secret == "SECnew456"

    # What changed is audited, the secret itself masked.
    entries = list(LogEntry.objects.get_for_object(channel))
    assert any(e.actor == city.users["admin"] and "secret" in e.changes_dict for e in entries)
    assert "SECnew456" not in json.dumps([e.changes for e in entries]) and "SECabc123" not in json.dumps(
        [e.changes for e in entries]
    )


# --- what administrators change is audited ---------------------------------------------------------


def test_what_an_administrator_changes_is_audited_and_the_audit_cannot_be_rewritten(city):
    from auditlog.models import LogEntry

    unit = city.units["water"]
    admin = staff_client(city, "admin", superuser=True)
    response = admin.post(
        reverse("admin:accounts_unit_change", args=[unit.pk]),
        {
            "code": unit.code,
            "name": "水务集团（供水）",
            "kind": unit.kind,
            "place": "",
            "parent": "",
            "active": "on",
        },
        REMOTE_ADDR="10.1.2.3",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )
    assert response.status_code == 302
    [entry] = [e for e in LogEntry.objects.get_for_object(unit) if e.action == LogEntry.Action.UPDATE]
    assert entry.actor == city.users["admin"] and entry.action == LogEntry.Action.UPDATE
    assert entry.changes_dict["name"] == ["水务集团", "水务集团（供水）"]
    assert entry.remote_addr == "10.1.2.3"  # the address the server saw, not a header the client wrote

    with pytest.raises(DatabaseError), transaction.atomic():
        LogEntry.objects.filter(pk=entry.pk).update(changes={})
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic():
            LogEntry.objects.filter(pk=entry.pk).delete()
    assert LogEntry.objects.get(pk=entry.pk).changes_dict["name"][1] == "水务集团（供水）"
    # The audit has its page, read-only.
    body = admin.get(reverse("admin:auditlog_logentry_changelist")).content.decode()
    assert "水务集团（供水）" in body


def test_a_change_made_with_an_api_token_is_audited_as_the_tokens_owner(city):
    """The API reads its token after the audit's middleware ran: the change is still theirs."""
    from auditlog.models import LogEntry
    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpResponse
    from django.test import RequestFactory

    from minsheng.accounts.actions import create_token
    from minsheng.api.api import TokenAuth
    from minsheng.core.audit import AuditMiddleware

    owner = city.users["admin"]
    unit = city.units["water"]

    def view(request):
        assert TokenAuth()(request) == owner
        unit.name = "水务集团（接口）"
        unit.save()
        return HttpResponse()

    request = RequestFactory().post("/api/v1/", HTTP_AUTHORIZATION=f"Bearer {create_token(owner)}")
    request.user = AnonymousUser()
    assert AuditMiddleware(view)(request).status_code == 200
    [entry] = [e for e in LogEntry.objects.get_for_object(unit) if e.action == LogEntry.Action.UPDATE]
    assert entry.actor == owner and entry.changes_dict["name"][1] == "水务集团（接口）"


# --- a person's access request, from the admin --------------------------------------------------------


def test_the_administrator_exports_what_is_held_about_a_phone_number(city, now):
    case = intake(city, name="张三")
    admin = staff_client(city, "admin", superuser=True)
    page = reverse("admin:cases_case_personal_data")
    assert admin.get(page).status_code == 200
    response = admin.post(page, {"phone": "138 1234 5678"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert [c["number"] for c in data["cases"]] == [case.number]
    assert data["cases"][0]["requester"] == {"name": "张三", "phone": PHONE}
    assert PersonalDataAccess.objects.filter(via="export", user=city.users["admin"], case=case).exists()
    # A bad number is refused on the form, with nothing recorded.
    assert "phone" in admin.post(page, {"phone": "12345"}).content.decode()
    assert PersonalDataAccess.objects.count() == 1


def test_the_export_page_is_for_administrators_only(city, now):
    intake(city)
    leader = staff_client(city, "leader", perms=("view_case",))
    assert leader.post(reverse("admin:cases_case_personal_data"), {"phone": PHONE}).status_code == 403
    assert not PersonalDataAccess.objects.exists()
