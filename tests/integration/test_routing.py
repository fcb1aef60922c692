"""Zero-touch routing on the demo city: classify, place, find duplicates, dispatch."""

import pytest
from django.contrib.auth import get_user_model

from minsheng.accounts.actors import Actor
from minsheng.cases import actions
from minsheng.cases.actions import Intake
from minsheng.cases.errors import Invalid
from minsheng.cases.models import CaseClock, CaseEvent
from minsheng.cases.states import State
from minsheng.places.coords import wgs84_to_bd09, wgs84_to_gcj02

pytestmark = pytest.mark.django_db

# A point inside 水洞埭社区 (当湖街道), where seed 000's rider saw the broken cover.
SHUIDONGDAI = (30.7195, 121.0001)


@pytest.fixture
def zero_touch(settings, demo_city):
    settings.MINSHENG_AUTO_DISPATCH = True


def _actor(username):
    return Actor.of(get_user_model().objects.get(username=username))


def _report(text, point=SHUIDONGDAI, channel="rider", **kw):
    lat, lng = point if point else (None, None)
    return actions.accept_case(
        _actor("operator"),
        Intake(channel=channel, text=text, lat=lat, lng=lng, requester_phone=kw.pop("phone", ""), **kw),
    )


def test_riders_manhole_report_routes_itself_and_a_second_report_merges(zero_touch, now):
    first = _report(
        "晚上送餐路过，人行道上的窨井盖破了一个角，下面黑洞洞的，很危险",
        address="当湖街道水洞埭社区新华路口",
        phone="13857301234",
    )
    assert first.state == State.ASSIGNED
    assert first.matter.code == "road.manhole"
    assert first.owner_unit.name == "住建局"
    assert (first.place.name, first.town.name) == ("水洞埭社区", "当湖街道")
    assert first.routing["auto"] is True and first.routing["method"] == "model"
    running = {c.name for c in CaseClock.objects.filter(case=first, met_at__isnull=True)}
    assert {"sign", "feedback", "resolve"} <= running

    now.advance(minutes=20)
    second = _report(
        "新华路口那个井盖坏了，有人差点踩空", address="当湖街道水洞埭社区新华路口", phone="13900001111"
    )
    assert second.state == State.CLOSED and second.merged_into_id == first.pk
    assert CaseEvent.objects.filter(case=first, action="merged_in").exists()


def test_nearby_similar_report_is_suggested_not_merged(zero_touch, now):
    first = _report("人行道上的窨井盖破了，晚上很危险")
    now.advance(hours=3)
    nearby = (SHUIDONGDAI[0] + 0.0002, SHUIDONGDAI[1])  # about 22 m north
    second = _report("这里的井盖破损了，请尽快处理", point=nearby)
    assert second.state == State.ACCEPTED
    assert [d["number"] for d in second.routing["duplicates"]] == [first.number]
    assert any("duplicate" in r.lower() or "重复" in r for r in second.routing["reasons"])
    merged = actions.merge_case(_actor("dispatcher"), second.pk, into=first.pk)
    assert merged.merged_into_id == first.pk


def test_low_confidence_waits_in_triage_with_the_reason(zero_touch, now):
    case = _report("东西坏了，麻烦来看一下", channel="hotline")
    assert case.state == State.ACCEPTED
    assert case.routing["auto"] is False and case.routing["reasons"]
    triage = CaseEvent.objects.get(case=case, action="triage")
    assert triage.data["reasons"] == case.routing["reasons"]


def test_point_outside_the_city_goes_to_the_dispatcher_with_the_reason(zero_touch, now):
    case = _report("人行道上的窨井盖破了", point=(31.23, 121.47))  # Shanghai
    assert case.state == State.ACCEPTED and case.place is None
    assert case.routing["place"]["found"] is False
    assert case.routing["place"]["reason"] in case.routing["reasons"]


def test_address_alone_places_the_case(zero_touch, now):
    case = _report(
        "路灯不亮了好几天了", point=None, channel="hotline", address="浙江省嘉兴市平湖市当湖街道水洞埭社区"
    )
    assert case.place is not None and case.place.name == "水洞埭社区"
    assert case.routing["place"]["method"] == "address"


@pytest.mark.parametrize("convert,crs", [(wgs84_to_gcj02, "gcj02"), (wgs84_to_bd09, "bd09")])
def test_map_app_coordinates_are_converted(zero_touch, now, convert, crs):
    lat, lng = convert(*SHUIDONGDAI)
    case = _report("人行道上的窨井盖破了", point=(lat, lng), crs=crs)
    assert abs(case.lat - SHUIDONGDAI[0]) < 1e-5 and abs(case.lng - SHUIDONGDAI[1]) < 1e-5
    assert case.place.name == "水洞埭社区"


def test_swapped_coordinates_are_a_clear_error(demo_city, now):
    with pytest.raises(Invalid) as err:
        _report("井盖破了", point=(121.0001, 30.7195))
    assert err.value.field == "lat" and "swapped" in err.value.message


def test_zero_touch_off_records_the_decision_but_waits(demo_city, now):
    case = _report("人行道上的窨井盖破了一个角，很危险")
    assert case.state == State.ACCEPTED
    assert case.routing["code"] == "road.manhole"


def test_case_page_shows_why_and_duplicates_side_by_side_with_one_click_merge(zero_touch, now):
    from django.test import Client

    first = _report("人行道上的窨井盖破了，晚上很危险")
    now.advance(hours=3)
    second = _report("这里的井盖破损了，请尽快处理", point=(SHUIDONGDAI[0] + 0.0002, SHUIDONGDAI[1]))
    client = Client()
    client.force_login(get_user_model().objects.get(username="dispatcher"))
    page = client.get(f"/cases/{second.pk}/").content.decode()
    assert "road.manhole" in page and first.number in page
    assert "这里的井盖破损了" in page and "人行道上的窨井盖破了" in page
    r = client.post(f"/cases/{second.pk}/act/merge/", {"into": first.number, "version": second.version})
    assert r.status_code in (200, 302)
    second.refresh_from_db()
    assert second.merged_into_id == first.pk
