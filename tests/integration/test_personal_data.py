"""Requesters' personal data at rest (PIPL, 等保 2.0 level 3): encrypted with keys from the
environment and rotated without losing a record, found by phone through a keyed hash, the
record of who saw it append-only, erased once a closed case has kept it for the city's
period, and exported whole for a person who asks what is held about their number."""

from __future__ import annotations

import hashlib
import io
import json

import pytest
from django.core.exceptions import FieldError
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from minsheng.cases import actions
from minsheng.cases.filters import CaseFilter
from minsheng.cases.models import Case, CaseEvent, PersonalDataAccess
from minsheng.cases.privacy import reveal_phone
from minsheng.notify.models import OutboxMessage, UnitChannel
from minsheng.worker.loop import run_pass
from tests.common.factories import intake

pytestmark = pytest.mark.django_db

PHONE = "13812345678"


def raw(table: str, column: str, pk: int) -> str:
    """What the database itself holds, read around the ORM."""
    with connection.cursor() as cur:
        cur.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cur.fetchone()[0]


def closed_case(city, **kw) -> Case:
    case = intake(city, **kw)
    roads = city.actor("roads")
    actions.sign_case(roads, case.pk)
    actions.dispatch_case(roads, case.pk, people=["field_roads"])
    actions.feedback_case(roads, case.pk, note="井盖已更换")
    actions.rate_case(city.actor("operator"), case.pk, rating="satisfied")
    return actions.close_case(city.actor("operator"), case.pk)


# --- encrypted at rest -----------------------------------------------------------------------


def test_name_and_phone_are_encrypted_at_rest_and_read_back_plain(city, now):
    case = intake(city, phone="138 1234 5678", name="张三")
    stored = raw("cases_case", "requester_name", case.pk) + raw("cases_case", "requester_phone", case.pk)
    assert "张三" not in stored and PHONE not in stored and "5678" not in stored
    case = Case.objects.get(pk=case.pk)
    assert case.requester_name == "张三" and case.requester_phone == PHONE


def test_the_number_an_sms_goes_to_is_encrypted_in_the_outbox(city, now):
    case = intake(city)
    message = OutboxMessage.objects.filter(case=case).exclude(phone="").first()
    assert message is not None and message.phone == PHONE
    assert PHONE not in raw("notify_outboxmessage", "phone", message.pk)


def test_channel_secrets_are_encrypted_at_rest(city):
    channel = UnitChannel.objects.create(
        unit=city.units["roads"],
        kind="dingtalk",
        url="https://oapi.dingtalk.com/robot/send?access_token=TOKEN123",
        secret="SECabc123",
    )
    assert "TOKEN123" not in raw("notify_unitchannel", "url", channel.pk)
    assert "SECabc123" not in raw("notify_unitchannel", "secret", channel.pk)
    channel = UnitChannel.objects.get(pk=channel.pk)
    assert channel.secret == "SECabc123" and channel.url.endswith("TOKEN123")


# --- found by phone through a keyed hash -----------------------------------------------------


def test_a_case_is_found_by_phone_through_a_keyed_hash(city, now, settings):
    mine = intake(city, phone=PHONE)
    intake(city, phone="13900001111", point="west.a", category="water.sewage")
    assert list(Case.objects.filter(requester_phone=PHONE)) == [mine]
    # The one case search finds it by the number as a person types it.
    found = CaseFilter({"q": "138-1234-5678"}, queryset=Case.objects.all()).qs
    assert list(found) == [mine]
    # Keyed: a list of guessed numbers cannot be checked against the column without the key.
    stored = raw("cases_case", "requester_phone_hash", mine.pk)
    assert stored and stored != hashlib.sha256(PHONE.encode()).hexdigest()
    settings.MINSHENG_INDEX_KEYS = "some-other-key"
    assert not Case.objects.filter(requester_phone=PHONE).exists()


def test_searching_inside_an_encrypted_column_is_refused_not_silently_empty(city, now):
    intake(city)
    with pytest.raises(FieldError):
        list(Case.objects.filter(requester_phone__contains="5678"))
    with pytest.raises(FieldError):
        list(Case.objects.filter(requester_name="张三"))  # no index kept: nothing to search by
    assert Case.objects.exclude(requester_name="").count() == 1


# --- keys from the environment, rotated --------------------------------------------------------


def test_keys_rotate_without_losing_a_record(city, now, settings):
    from minsheng.core import crypto

    old, new = crypto.generate_key(), crypto.generate_key()
    settings.MINSHENG_DATA_KEYS, settings.MINSHENG_INDEX_KEYS = old, "index-old"
    case = intake(city, name="张三")
    channel = UnitChannel.objects.create(
        unit=city.units["roads"], kind="webhook", url="https://hooks.example.com/in", secret="s3cret-value"
    )
    message = OutboxMessage.objects.filter(case=case).exclude(phone="").first()
    before = raw("cases_case", "requester_phone", case.pk)

    # The new keys go in front; the old ones still open and find what they wrote.
    settings.MINSHENG_DATA_KEYS, settings.MINSHENG_INDEX_KEYS = f"{new},{old}", "index-new,index-old"
    assert Case.objects.get(pk=case.pk).requester_phone == PHONE
    assert Case.objects.filter(requester_phone=PHONE).exists()
    out = io.StringIO()
    call_command("rotatekeys", stdout=out)
    assert "cases.Case" in out.getvalue()

    # After the rotation the old keys can go.
    settings.MINSHENG_DATA_KEYS, settings.MINSHENG_INDEX_KEYS = new, "index-new"
    assert raw("cases_case", "requester_phone", case.pk) != before
    case = Case.objects.get(pk=case.pk)
    assert (case.requester_name, case.requester_phone) == ("张三", PHONE)
    assert Case.objects.filter(requester_phone=PHONE).get() == case
    assert OutboxMessage.objects.get(pk=message.pk).phone == PHONE
    assert OutboxMessage.objects.filter(phone=PHONE).exists()
    assert UnitChannel.objects.get(pk=channel.pk).secret == "s3cret-value"

    # And a key nobody configured opens nothing.
    settings.MINSHENG_DATA_KEYS = old
    with pytest.raises(crypto.InvalidToken):
        Case.objects.get(pk=case.pk)


# --- who saw it: append-only -------------------------------------------------------------------


def test_the_record_of_who_saw_a_phone_number_cannot_be_rewritten(city, now):
    case = intake(city)
    assert reveal_phone(city.actor("operator"), case, via="web")
    row = PersonalDataAccess.objects.get()
    with pytest.raises(DatabaseError), transaction.atomic():
        PersonalDataAccess.objects.filter(pk=row.pk).update(user=city.users["leader"])
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic():
            PersonalDataAccess.objects.filter(pk=row.pk).delete()
    assert PersonalDataAccess.objects.get().user == city.users["operator"]


# --- retention ---------------------------------------------------------------------------------


def test_a_closed_case_loses_its_personal_data_after_the_citys_period(city, now, settings):
    settings.MINSHENG_PERSONAL_DATA_DAYS = 30
    case = closed_case(city, name="张三")
    still_open = intake(city, phone="13900001111", point="west.a", category="water.sewage")

    now.advance(days=29)
    run_pass(now())
    assert Case.objects.get(pk=case.pk).requester_phone == PHONE

    now.advance(days=2)
    result = run_pass(now())
    assert result.erased == 1
    case = Case.objects.get(pk=case.pk)
    assert (case.requester_name, case.requester_phone) == ("", "")
    assert raw("cases_case", "requester_phone_hash", case.pk) == ""
    assert case.personal_data_erased_at == now()
    assert set(OutboxMessage.objects.filter(case=case).values_list("phone", flat=True)) == {""}
    assert not Case.objects.filter(requester_phone=PHONE).exists()
    # The timeline says so, written by the system through the kernel.
    erased = CaseEvent.objects.get(case=case, action="personal_data_erased")
    assert erased.actor is None and erased.at == now()
    assert set(erased.data["fields"]) == {"requester_name", "requester_phone"}
    # Open cases keep theirs; a second pass finds nothing more to do.
    assert Case.objects.get(pk=still_open.pk).requester_phone == "13900001111"
    assert run_pass(now()).erased == 0
    assert CaseEvent.objects.filter(action="personal_data_erased").count() == 1


def test_a_city_that_sets_no_period_keeps_personal_data(city, now, settings):
    settings.MINSHENG_PERSONAL_DATA_DAYS = 0
    case = closed_case(city)
    now.advance(days=3650)
    assert run_pass(now()).erased == 0
    assert Case.objects.get(pk=case.pk).requester_phone == PHONE


# --- a person's access request -------------------------------------------------------------


def test_everything_held_about_one_phone_number_is_exported(city, now):
    first = intake(city, name="张三")
    second = intake(city, phone="138 1234 5678", text="路灯不亮", point="west.a", category="water.sewage")
    other = intake(city, phone="13900001111", text="别人的事", point="east.b")
    reveal_phone(city.actor("operator"), first, via="web")
    out = io.StringIO()
    call_command("personaldata", "138-1234-5678", "--user", "admin", stdout=out)
    data = json.loads(out.getvalue())

    assert data["phone"] == PHONE
    cases = {c["number"]: c for c in data["cases"]}
    assert set(cases) == {first.number, second.number}
    assert cases[first.number]["requester"] == {"name": "张三", "phone": PHONE}
    assert cases[second.number]["text"] == "路灯不亮"
    assert cases[first.number]["timeline"][0]["action"] == "accept"
    assert cases[first.number]["seen_by"][0]["via"] == "web"
    assert {m["case"] for m in data["messages"]} == {first.number, second.number}
    assert other.number not in out.getvalue() and "别人的事" not in out.getvalue()
    # The export is itself an access to personal data, on record.
    exported = PersonalDataAccess.objects.filter(via="export", user=city.users["admin"])
    assert {row.case_id for row in exported} == {first.pk, second.pk}


def test_only_an_administrator_exports_personal_data(city, now):
    intake(city)
    with pytest.raises(CommandError):
        call_command("personaldata", PHONE, "--user", "operator", stdout=io.StringIO())
    assert not PersonalDataAccess.objects.exists()
