"""A person's access request (PIPL art. 45): ``minsheng personaldata`` answers everything held
about one phone number, from every part that holds one: the cases they made, the messages sent
to them, their registration as a reporting partner, and the calls they made to the hotline."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command

from minsheng.calls.models import Call, CallbackTask, CallState
from minsheng.core import clock
from minsheng.public.models import ReportingPartner
from tests.common.factories import intake

pytestmark = pytest.mark.django_db

PHONE = "13812345678"


def export(phone: str = PHONE) -> tuple[dict, str]:
    out = io.StringIO()
    call_command("personaldata", phone, "--user", "admin", stdout=out)
    return json.loads(out.getvalue()), out.getvalue()


def test_the_export_holds_the_persons_cases_messages_and_partner_registration(city, now):
    case = intake(city, name="沈师傅")
    ReportingPartner.objects.create(
        phone=PHONE, name="沈师傅", kind="rider", station="东城站", created_at=clock.now()
    )
    ReportingPartner.objects.create(
        phone="13900001111", name="别人", kind="rider", station="西乡站", created_at=clock.now()
    )
    held, text = export("138 1234 5678")
    assert [c["number"] for c in held["cases"]] == [case.number]
    assert held["messages"], "the SMS sent to the requester is listed"
    assert held["reporting_partner"]["station"] == "东城站"
    assert "西乡站" not in text and "别人" not in text


def test_the_export_holds_the_calls_from_that_number(city, now):
    missed = Call.objects.create(
        call_id="cti-7781", caller=PHONE, state=CallState.MISSED, rang_at=clock.now(), ended_at=clock.now()
    )
    Call.objects.create(call_id="cti-9999", caller="13900001111", state=CallState.ENDED)
    Call.objects.create(
        call_id="cti-7790",
        caller=PHONE,
        state=CallState.ENDED,
        rang_at=clock.now(),
        recording_url="https://cti.example.org/r/cti-7790.wav",
    )
    CallbackTask.objects.create(
        phone=PHONE, missed_at=missed.ended_at, due_at=missed.ended_at + dt.timedelta(minutes=30)
    )
    CallbackTask.objects.create(
        phone="13900001111", missed_at=clock.now(), due_at=clock.now(), note="别人的回拨"
    )
    held, text = export()
    assert [c["call_id"] for c in held["calls"]["calls"]] == ["cti-7781", "cti-7790"]
    first, second = held["calls"]["calls"]
    assert first["state"] == "missed" and first["rang_at"] == missed.rang_at.isoformat()
    assert second["recording_url"] == "https://cti.example.org/r/cti-7790.wav"
    [owed] = held["calls"]["callbacks"]
    assert owed["state"] == "open" and owed["missed_at"] == missed.ended_at.isoformat()
    assert "cti-9999" not in text and "别人的回拨" not in text
