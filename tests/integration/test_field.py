"""The field worker's phone: arrival with time and position, tasks nearest first, photo
uploads that can be retried, the duty roster and the urgent-at-night rule."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from minsheng.cases import actions
from minsheng.cases.errors import Invalid, NotFound
from minsheng.cases.models import CaseEvent
from minsheng.field import actions as field_actions
from minsheng.field.duty import is_night, on_duty
from minsheng.field.models import Arrival, DutyShift
from minsheng.field.tasks import Position, nav_links, order_nearest
from minsheng.media.models import Photo
from minsheng.notify.models import OutboxMessage
from tests.common.factories import PASSWORD, City, intake

pytestmark = pytest.mark.django_db
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def dispatched(city, point="east.a", text="人行道上井盖破了，很危险", **kw):
    case = intake(city, point=point, text=text, **kw)
    if case.owner_unit is None:  # no place: the dispatcher routes it
        actions.assign_case(city.actor("dispatcher"), case.pk, unit_id=city.units["roads"].pk)
    roads = city.actor("roads")
    actions.sign_case(roads, case.pk)
    return actions.dispatch_case(roads, case.pk, people=["field_roads"])


def jpeg(colour=(10, 120, 200)) -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (120, 80), colour).save(buf, "JPEG")
    return SimpleUploadedFile("site.jpg", buf.getvalue(), content_type="image/jpeg")


def login(client, username):
    assert client.login(username=username, password=PASSWORD)
    return client


# --- arrival ------------------------------------------------------------------------------


def test_arrive_records_time_and_position_as_an_event(city, now):
    case = dispatched(city)
    now.advance(minutes=7)
    worker = city.actor("field_roads")
    arrival = field_actions.arrive(worker, case.pk, lat="30.7251", lng="121.0249", accuracy="12.5")
    assert (arrival.lat, arrival.lng, arrival.accuracy) == (30.7251, 121.0249, 12.5)
    assert arrival.at == now()
    event = CaseEvent.objects.get(case=case, action="arrive")
    assert event.at == now() and event.actor == city.users["field_roads"]
    assert event.data["lat"] == 30.7251 and event.data["lng"] == 121.0249
    assert event.data["accuracy"] == 12.5
    assert event.data["at"] == now().isoformat()
    case.refresh_from_db()
    assert case.state == "dispatched"  # arriving changes no state


def test_a_second_tap_soon_after_returns_the_first_arrival(city, now):
    case = dispatched(city)
    worker = city.actor("field_roads")
    first = field_actions.arrive(worker, case.pk, lat=30.725, lng=121.025)
    now.advance(seconds=40)
    again = field_actions.arrive(worker, case.pk, lat=30.7251, lng=121.0251)
    assert again.pk == first.pk
    assert CaseEvent.objects.filter(case=case, action="arrive").count() == 1
    now.advance(minutes=10)
    later = field_actions.arrive(worker, case.pk, lat=30.7251, lng=121.0251)
    assert later.pk != first.pk


def test_arrive_needs_a_position_and_a_dispatch(city, now):
    case = dispatched(city)
    with pytest.raises(Invalid):
        field_actions.arrive(city.actor("field_roads"), case.pk, lat="", lng="")
    with pytest.raises(Invalid):
        field_actions.arrive(city.actor("field_roads"), case.pk, lat=121.0, lng=30.7)
    with pytest.raises(NotFound):  # not sent to it: cannot see it
        field_actions.arrive(city.actor("field_roads2"), case.pk, lat=30.725, lng=121.025)


def test_arrive_over_http_answers_json_for_the_script(client, city, now):
    case = dispatched(city)
    login(client, "field_roads")
    url = reverse("field:arrive", args=[case.pk])
    r = client.post(
        url, {"lat": "30.7252", "lng": "121.0252", "accuracy": "8"}, headers={"Accept": "application/json"}
    )
    assert r.status_code == 200 and r.json()["ok"]
    r = client.post(url, {"lat": "", "lng": ""}, headers={"Accept": "application/json"})
    assert r.status_code == 422 and r.json()["field"] == "position"
    r = client.post(url, {"lat": "", "lng": ""})  # without the script: the page, with why
    assert r.status_code == 422 and "task-error" in r.content.decode()


# --- tasks nearest first --------------------------------------------------------------------


def test_tasks_are_listed_nearest_first_from_the_browsers_position(client, city, now):
    a = dispatched(city, point="east.a", text="东城A村井盖破损")
    b = dispatched(city, point="west.a", text="西乡A村井盖破损")
    c = dispatched(city, point="east.b", text="东城B村井盖破损")
    none = dispatched(city, point=None, text="某处井盖破损", address="不知道哪里")
    login(client, "field_roads")

    def order(query):
        html = client.get(reverse("field:tasks") + query).content.decode()
        return [int(x) for x in re.findall(r'id="task-(\d+)"', html)]

    lat, lng = City.POINTS["west.a"]
    assert order(f"?lat={lat}&lng={lng}") == [b.pk, a.pk, c.pk, none.pk]
    lat, lng = City.POINTS["east.b"]
    assert order(f"?lat={lat}&lng={lng}") == [c.pk, a.pk, b.pk, none.pk]
    # No position sent: the last one the browser sent is remembered.
    assert order("") == [c.pk, a.pk, b.pk, none.pk]


def test_without_any_position_the_last_arrival_is_used(city, now):
    a = dispatched(city, point="east.a")
    b = dispatched(city, point="west.b")
    worker = city.actor("field_roads")
    field_actions.arrive(worker, b.pk, lat=City.POINTS["west.b"][0], lng=City.POINTS["west.b"][1])
    last = Arrival.objects.filter(user=city.users["field_roads"]).first()
    rows = order_nearest([a, b], Position(last.lat, last.lng, "arrival"))
    assert [r["case"].pk for r in rows] == [b.pk, a.pk]
    assert rows[0]["metres"] < 1


def test_navigation_links_use_gcj02_for_amap_and_wgs84_for_geo(city, now):
    case = dispatched(city)
    links = nav_links(case)
    assert links["geo"].startswith("geo:30.725000,121.025000")
    position = re.search(r"position=([\d.]+)%2C([\d.]+)", links["amap"])
    glng, glat = float(position.group(1)), float(position.group(2))
    # GCJ-02 is shifted by a few hundred metres from WGS-84 in Zhejiang.
    assert 0.001 < abs(glng - 121.025) < 0.01 and 0.001 < abs(glat - 30.725) < 0.01


def test_only_field_workers_open_the_phone_page(client, city):
    login(client, "roads")
    assert client.get(reverse("field:tasks")).status_code == 403


# --- photos and handling ------------------------------------------------------------------


def test_a_retried_photo_upload_with_the_same_key_makes_one_record(client, city, now):
    case = dispatched(city)
    login(client, "field_roads")
    url = reverse("field:photo", args=[case.pk])
    first = client.post(url, {"client_key": "k-123", "photo": jpeg()}, headers={"Accept": "application/json"})
    again = client.post(url, {"client_key": "k-123", "photo": jpeg()}, headers={"Accept": "application/json"})
    assert first.status_code == again.status_code == 200
    assert first.json()["photo"] == again.json()["photo"]
    assert Photo.objects.filter(case=case).count() == 1
    assert CaseEvent.objects.filter(case=case, action="photo").count() == 1
    client.post(url, {"client_key": "k-456", "photo": jpeg()})
    assert Photo.objects.filter(case=case).count() == 2


def test_a_refused_photo_says_why_and_stores_nothing(client, city, now):
    case = dispatched(city)
    login(client, "field_roads")
    bad = SimpleUploadedFile("x.jpg", b"not an image", content_type="image/jpeg")
    r = client.post(
        reverse("field:photo", args=[case.pk]),
        {"client_key": "k", "photo": bad},
        headers={"Accept": "application/json"},
    )
    assert r.status_code == 422 and "JPEG" in r.json()["message"]
    assert not Photo.objects.exists()


def test_mark_handled_with_a_photo_once_even_if_resubmitted(client, city, now):
    case = dispatched(city)
    login(client, "field_roads")
    url = reverse("field:handle", args=[case.pk])
    form = {"client_key": "h-1", "note": "井盖已更换"}
    r = client.post(url, {**form, "photo": jpeg()})
    assert r.status_code == 302
    r = client.post(url, {**form, "photo": jpeg()})  # the answer was lost: sent again
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.state == "handling"
    assert CaseEvent.objects.filter(case=case, action="handle").count() == 1
    assert Photo.objects.filter(case=case, source="field").count() == 1
    page = client.get(reverse("field:task", args=[case.pk])).content.decode()
    assert reverse("media:thumb", args=[Photo.objects.get().pk]) in page


def test_photos_are_served_only_to_those_who_see_the_case(client, city, now):
    case = dispatched(city)
    photo = field_actions.add_site_photo(city.actor("field_roads"), case.pk, photo=jpeg(), client_key="p")
    url = reverse("media:photo", args=[photo.pk])
    login(client, "field_roads")
    r = client.get(url)
    assert r.status_code == 200 and r["Content-Type"] == "image/jpeg"
    assert b"".join(r.streaming_content)[:2] == b"\xff\xd8"
    client.logout()
    login(client, "water")  # another department
    assert client.get(url).status_code == 404
    assert client.get(reverse("media:thumb", args=[photo.pk])).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302  # to the sign-in page
    # The public follow link shows the handling's photos, and only with the right token.
    good = reverse("media:public_photo", args=[case.public_token, photo.pk])
    bad = reverse("media:public_photo", args=["x" * 22, photo.pk])
    assert client.get(good).status_code == 200
    assert client.get(bad).status_code == 404


# --- duty roster ----------------------------------------------------------------------------


def shift(city, user, start, hours=24):
    return DutyShift.objects.create(
        unit=city.units["roads"],
        user=city.users[user],
        starts_at=start,
        ends_at=start + dt.timedelta(hours=hours),
    )


def test_on_duty_and_the_dispatch_form_suggests_them(client, city, now):
    start = now() - dt.timedelta(hours=1)
    shift(city, "field_roads2", start)
    shift(city, "field_roads", start + dt.timedelta(days=1))  # tomorrow
    assert on_duty(city.units["roads"], now()) == [city.users["field_roads2"]]
    case = intake(city)
    actions.sign_case(city.actor("roads"), case.pk)
    login(client, "roads")
    html = client.get(reverse("web:case", args=[case.pk])).content.decode()
    suggest = re.search(r'id="duty-suggest-\d+".*?</div></div>', html, re.S).group(0)
    assert 'value="field_roads2" checked' in suggest
    assert 'value="field_roads"' not in suggest.replace('value="field_roads2"', "")


def test_roster_page_adds_and_removes_shifts_of_the_own_unit_only(client, city, now):
    login(client, "roads")
    r = client.post(
        reverse("field:roster"),
        {"user": city.users["field_roads"].pk, "day": "2026-11-24", "time": "08:00", "hours": "24"},
    )
    assert r.status_code == 302
    s = DutyShift.objects.get()
    assert s.unit == city.units["roads"]
    assert s.starts_at == dt.datetime(2026, 11, 24, 8, 0, tzinfo=SHANGHAI)
    assert s.ends_at - s.starts_at == dt.timedelta(hours=24)
    # Overlap for the same person is refused; someone of another unit cannot be put on.
    r = client.post(
        reverse("field:roster"), {"user": city.users["field_roads"].pk, "day": "2026-11-24", "time": "20:00"}
    )
    assert r.status_code == 422
    r = client.post(reverse("field:roster"), {"user": city.users["water"].pk, "day": "2026-11-25"})
    assert r.status_code == 422
    client.logout()
    login(client, "water")
    r = client.post(reverse("field:roster"), {"remove": s.pk})
    assert r.status_code == 403 and DutyShift.objects.filter(pk=s.pk).exists()
    client.logout()
    login(client, "field_roads")
    assert client.get(reverse("field:roster")).status_code == 403


def test_an_urgent_case_at_night_goes_to_the_people_on_duty(city, now):
    from minsheng.core import clock

    night = dt.datetime(2026, 11, 23, 23, 30, tzinfo=SHANGHAI)
    clock.set_now(night)
    assert is_night(night)
    shift(city, "field_roads", night - dt.timedelta(hours=15))
    case = intake(city, urgent=True)
    assert case.owner_unit == city.units["roads"]
    told = OutboxMessage.objects.filter(kind="urgent_on_duty", case=case)
    assert [m.user for m in told] == [city.users["field_roads"]]
    assert told.get().context["number"] == case.number
    # Not urgent, or urgent by day: only the unit's usual message.
    calm = intake(city, urgent=False)
    assert not OutboxMessage.objects.filter(kind="urgent_on_duty", case=calm).exists()
    clock.set_now(dt.datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI))
    day = intake(city, urgent=True)
    assert not OutboxMessage.objects.filter(kind="urgent_on_duty", case=day).exists()


def test_re_assignment_at_night_tells_the_new_units_people_on_duty(city, now):
    from minsheng.core import clock

    clock.set_now(dt.datetime(2026, 11, 24, 3, 0, tzinfo=SHANGHAI))
    water_worker = city.users["water"]
    DutyShift.objects.create(
        unit=city.units["water"],
        user=water_worker,
        starts_at=clock.now() - dt.timedelta(hours=2),
        ends_at=clock.now() + dt.timedelta(hours=20),
    )
    case = intake(city, urgent=True)
    actions.assign_case(city.actor("dispatcher"), case.pk, unit_id=city.units["water"].pk)
    told = OutboxMessage.objects.filter(kind="urgent_on_duty", case=case)
    assert [m.user for m in told] == [water_worker]
