"""Open311 GeoReport v2 against a live server, read by a client no one here wrote (the
``georeport`` package from PyPI), in JSON and in XML. The client cannot post, so a partner's
POST goes over plain HTTP with ``requests``."""

from __future__ import annotations

import datetime as dt

import pytest
import requests
from django.core.management import call_command
from georeport import GeoReport

from minsheng.cases import actions
from minsheng.cases.models import Case
from minsheng.cases.states import Channel, State
from minsheng.open311.actions import create_api_key
from minsheng.open311.models import ApiKey, ServiceRequest
from tests.common.factories import City, intake

JURISDICTION = "pinghu.example.gov.cn"
PHONE = "13912340000"
FORMATS = ["json", "xml"]


@pytest.fixture
def open311(transactional_db, city, now, live_server, settings):
    settings.MINSHENG_OPEN311_JURISDICTION = JURISDICTION
    _key, raw = create_api_key("城市管家App", unit_code="sub-east")
    return f"{live_server.url}/open311/v2", raw


def client(root: str, fmt: str, **kw) -> GeoReport:
    return GeoReport(root, jurisdiction=JURISDICTION, output_format=fmt, **kw)


def as_list(value):
    """xmltodict gives one element as a dict and several as a list."""
    return value if isinstance(value, list) else [value]


def post(root: str, fmt: str, key: str | None, **fields) -> requests.Response:
    lat, lng = City.POINTS["east.a"]
    form = {
        "jurisdiction_id": JURISDICTION,
        "service_code": "road.manhole",
        "lat": str(lat),
        "long": str(lng),
        "description": f"人行道井盖松动，踩上去会翻，请联系我 {PHONE}",
        "first_name": "小明",
        "last_name": "王",
        "phone": PHONE,
        "email": "wang@example.org",
        **fields,
    }
    if key is not None:
        form["api_key"] = key
    return requests.post(f"{root}/requests.{fmt}", data=form, timeout=10)


def error_of(response: requests.Response, fmt: str) -> dict:
    if fmt == "json":
        [err] = response.json()
        return err
    import xmltodict

    err = xmltodict.parse(response.content)["errors"]["error"]
    return {"code": int(err["code"]), "description": err["description"]}


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_list_of_matters_is_served_as_services(open311, fmt):
    root, _ = open311
    services = as_list(client(root, fmt).get_service_list())
    by_code = {s["service_code"]: s for s in services}
    assert set(by_code) == {"road.manhole", "water.sewage", "neighbor.dispute"}
    manhole = by_code["road.manhole"]
    assert manhole["service_name"] == "窨井盖"
    assert manhole["group"] == "住建局"
    assert str(manhole["metadata"]).lower() == "false"
    assert manhole["type"] == "realtime"
    definition = client(root, fmt).get_service_definition("road.manhole")
    assert definition["service_code"] == "road.manhole"
    assert not definition["attributes"]  # the list of matters holds no extra questions


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_unknown_service_and_a_foreign_jurisdiction_are_404_in_the_standard_shape(open311, fmt):
    root, _ = open311
    missing = requests.get(f"{root}/services/road.nothing.{fmt}", timeout=10)
    assert missing.status_code == 404
    assert error_of(missing, fmt)["code"] == 404
    assert "road.nothing" in error_of(missing, fmt)["description"]
    foreign = requests.get(f"{root}/services.{fmt}", params={"jurisdiction_id": "elsewhere"}, timeout=10)
    assert foreign.status_code == 404 and error_of(foreign, fmt)["code"] == 404


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_posted_request_becomes_a_case_through_intake_and_reads_back_without_personal_data(open311, fmt):
    root, key = open311
    sent = post(root, fmt, key)
    assert sent.status_code == 201, sent.text
    if fmt == "json":
        [made] = sent.json()
    else:
        import xmltodict

        made = xmltodict.parse(sent.content)["service_requests"]["request"]
    case = Case.objects.get()
    assert made["service_request_id"] == case.number
    # Taken in like any request: its matter, clocks, the requester kept for the call back,
    # and the partner unit named on the case's log.
    assert case.channel == Channel.APP and case.matter.code == "road.manhole"
    assert case.requester_phone == PHONE and case.requester_name == "王小明"
    assert set(case.clocks.values_list("name", flat=True)) >= {"feedback", "resolve"}
    accepted = case.events.get(action="accept")
    assert accepted.actor_unit.code == "sub-east" and "城市管家App" in accepted.actor_label

    got = client(root, fmt).get_service_request(case.number)
    assert got["service_request_id"] == case.number
    assert got["status"] == "open"
    assert got["service_code"] == "road.manhole" and got["service_name"] == "窨井盖"
    assert float(got["lat"]) == pytest.approx(case.lat)
    resolve = case.clocks.get(name="resolve")
    expected = dt.datetime.fromisoformat(got["expected_datetime"])
    assert expected == resolve.due_at and expected.utcoffset() == dt.timedelta(hours=8)

    listed = as_list(client(root, fmt).get_service_requests(status="open"))
    assert [r["service_request_id"] for r in listed] == [case.number]
    # Nothing of the requester's: not the name, not the phone (masked in the text), not the mail.
    for url in (f"{root}/requests.{fmt}", f"{root}/requests/{case.number}.{fmt}"):
        body = requests.get(url, timeout=10).text
        assert PHONE not in body and "王小明" not in body and "小明" not in body
        assert "wang@example.org" not in body
        assert "139****0000" in body


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_token_finds_the_request(open311, fmt):
    root, key = open311
    sent = post(root, "json", key)
    [made] = sent.json()
    found = requests.get(f"{root}/tokens/{made['token']}.{fmt}", timeout=10)
    assert found.status_code == 200
    assert made["service_request_id"] in found.text
    assert requests.get(f"{root}/tokens/nope.{fmt}", timeout=10).status_code == 404


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("api_key", [None, "o311_wrong"])
def test_a_post_without_a_working_api_key_is_403_and_writes_nothing(open311, fmt, api_key):
    root, _ = open311
    sent = post(root, fmt, api_key)
    assert sent.status_code == 403
    assert error_of(sent, fmt) == {"code": 403, "description": error_of(sent, fmt)["description"]}
    assert "api_key" in error_of(sent, fmt)["description"]
    assert not Case.objects.exists() and not ServiceRequest.objects.exists()


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"service_code": "road.nothing"}, "service_code"),
        ({"phone": "12"}, "phone"),
        ({"lat": "", "long": "", "address_string": ""}, "lat"),
        ({"lat": "north"}, "lat"),
        ({"description": "  "}, "description"),
    ],
)
def test_bad_input_is_400_naming_the_parameter_and_writes_nothing(open311, fields, named):
    root, key = open311
    sent = post(root, "json", key, **fields)
    assert sent.status_code == 400, sent.text
    [err] = sent.json()
    assert err["code"] == 400 and err["description"].startswith(f"{named}:")
    assert not Case.objects.exists() and not ServiceRequest.objects.exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_status_notes_follow_the_case_and_updates_since_a_time(open311, fmt, city, now):
    root, key = open311
    [made] = post(root, "json", key).json()
    case = Case.objects.get()
    dispatcher, roads = city.actor("dispatcher"), city.actor("roads")
    now.advance(minutes=5)
    since = now()
    actions.assign_case(dispatcher, case.pk, unit_id=city.units["roads"].pk)
    actions.sign_case(roads, case.pk)
    actions.dispatch_case(roads, case.pk, people=["field_roads"])
    actions.handle_case(city.actor("field_roads"), case.pk, note="内部备注：找王小明核实")
    now.advance(hours=2)
    actions.feedback_case(roads, case.pk, note="井盖已更换，恢复通行。")

    got = client(root, fmt).get_service_request(made["service_request_id"])
    assert got["status"] == "open"
    assert got["status_notes"] == "井盖已更换，恢复通行。"
    assert got["agency_responsible"] == "住建局"

    now.advance(hours=1)
    closing = now()
    actions.rate_case(city.actor("operator"), case.pk, rating="satisfied")
    actions.close_case(city.actor("operator"), case.pk)
    assert client(root, fmt).get_service_request(made["service_request_id"])["status"] == "closed"
    closed = as_list(client(root, fmt).get_service_requests(status="closed"))
    assert [r["service_request_id"] for r in closed] == [case.number]

    answer = requests.get(
        f"{root}/servicerequestupdates.{fmt}", params={"start_date": since.isoformat()}, timeout=10
    )
    assert answer.status_code == 200
    if fmt == "json":
        updates = answer.json()
    else:
        import xmltodict

        updates = as_list(xmltodict.parse(answer.content)["service_request_updates"]["request_update"])
    # accept came before `since`; the case's own steps after it, in order, with FixMyStreet's words.
    assert [u["status"] for u in updates] == [
        "OPEN",
        "ACTION_SCHEDULED",
        "ACTION_SCHEDULED",
        "IN_PROGRESS",
        "FIXED",
        "CLOSED",
    ]
    assert all(u["service_request_id"] == case.number for u in updates)
    assert "住建局" in updates[0]["description"]
    assert updates[4]["description"] == "井盖已更换，恢复通行。"
    assert "王小明" not in answer.text  # an internal note is never shown
    later = requests.get(
        f"{root}/servicerequestupdates.json", params={"start_date": closing.isoformat()}, timeout=10
    ).json()
    assert [u["status"] for u in later] == ["CLOSED"]


def test_a_hotline_case_is_not_published_through_open311(open311, city):
    root, _ = open311
    case = intake(city, phone=PHONE)
    assert requests.get(f"{root}/requests/{case.number}.json", timeout=10).status_code == 404
    assert requests.get(f"{root}/requests.json", timeout=10).json() == []


def test_createapikey_shows_the_key_once_keeps_its_hash_and_revokes(open311, capsys):
    root, _ = open311
    call_command("createapikey", "网格通", unit="sub-west")
    raw = capsys.readouterr().out.strip()
    stored = ApiKey.objects.get(name="网格通")
    assert raw.startswith("o311_") and raw not in stored.key_hash and stored.unit.code == "sub-west"
    assert post(root, "json", raw).status_code == 201
    assert Case.objects.get().events.get(action="accept").actor_unit.code == "sub-west"
    call_command("createapikey", "网格通", unit="sub-west", revoke=True)
    assert post(root, "json", raw).status_code == 403
    assert Case.objects.get().state != State.CLOSED  # the earlier one stands
