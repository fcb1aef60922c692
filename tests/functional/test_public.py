"""The public pages: reporting (anonymous, with a phone, as a partner), photos, the rate
limits and the friction step, following a case, and rating it."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from minsheng.cases import actions
from minsheng.cases.models import Case, CaseEvent
from minsheng.media.models import Photo
from minsheng.public.models import PartnerReport, ReportingPartner
from tests.common.factories import PASSWORD, City

pytestmark = pytest.mark.django_db
REPORT = "/report/"
MANHOLE = "水洞埭路口的窨井盖破了，晚上骑车很危险"


@pytest.fixture(autouse=True)
def _media_and_limits(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.MINSHENG_PUBLIC_RATE_IP = "100/h"
    settings.MINSHENG_PUBLIC_RATE_PHONE = "100/10m"
    settings.MINSHENG_FRICTION_AFTER = 100


def jpeg(name="p.jpg", colour=(90, 90, 90), size=(120, 90)) -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "JPEG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/jpeg")


def form(**kw):
    lat, lng = City.POINTS["east.a"]
    data = {
        "text": MANHOLE,
        "lat": str(lat),
        "lng": str(lng),
        "address": "东城A村路口",
        "name": "",
        "phone": "",
        "key": "",
        "wait": "",
        "website": "",
    }
    data.update(kw)
    return data


def post(client, ip="10.0.0.1", files=None, **kw):
    data = form(**kw)
    if files:
        data["photos"] = files
    return client.post(REPORT, data, REMOTE_ADDR=ip)


def test_the_report_page_is_light_and_has_the_map(client, city):
    r = client.get(REPORT)
    html = r.content.decode()
    assert r.status_code == 200
    assert 'id="map"' in html and "public/vendor/leaflet/leaflet.js" in html
    assert "htmx" not in html  # no framework on the phone page
    assert 'name="key"' in html and 'name="photos"' in html
    assert "//" not in re.sub(
        r"https?://testserver",
        "",
        " ".join(re.findall(r'(?:src|href)="([^"]+)"', html)).replace("data:,", ""),
    )  # no CDN


def test_an_anonymous_report_with_a_photo_and_a_spot(client, city):
    r = post(client, files=[jpeg()], anonymous="on", name="张三", phone="13812345678")
    assert r.status_code == 302
    case = Case.objects.get()
    assert r["Location"] == reverse("public:sent", args=[case.public_token])
    assert case.channel == "app" and case.requester_phone == "" and case.requester_name == ""
    assert (case.lat, case.lng) == City.POINTS["east.a"]
    assert case.place == city.places["east.a"]
    photo = Photo.objects.get(case=case)
    assert photo.source == "report" and photo.uploaded_by is None
    page = client.get(r["Location"]).content.decode()
    assert case.number in page
    assert reverse("web:track_token", args=[case.public_token]) in page
    assert "唯一" in page  # no phone: the link is the only way to follow it


def test_a_report_with_a_phone_is_followed_with_its_last_digits(client, city):
    r = post(client, name="沈师傅", phone="138 5730 1234")
    assert r.status_code == 302
    case = Case.objects.get()
    assert case.requester_phone == "13857301234" and case.requester_name == "沈师傅"
    r = client.post("/track/", {"number": case.number, "digits": "1234"})
    assert r.status_code == 302 and case.public_token in r["Location"]


def test_a_resubmitted_form_makes_one_case(client, city):
    post(client, key="form-key-1")
    post(client, key="form-key-1")
    assert Case.objects.count() == 1


def test_at_most_three_photos_and_nothing_is_lost(client, city):
    r = post(client, files=[jpeg(f"{i}.jpg") for i in range(4)])
    html = r.content.decode()
    assert r.status_code == 422
    assert "最多附 3 张照片" in html
    assert MANHOLE in html  # the typed text is kept
    assert "请重新选择照片" in html
    assert not Case.objects.exists() and not Photo.objects.exists()
    r = post(client, files=[jpeg(f"{i}.jpg") for i in range(3)])
    assert r.status_code == 302
    assert Photo.objects.filter(case=Case.objects.get()).count() == 3


def test_one_bad_photo_refuses_the_whole_report_with_the_reason(client, city):
    bad = SimpleUploadedFile("virus.jpg", b"MZ\x90\x00 not a picture", content_type="image/jpeg")
    r = post(client, files=[jpeg(), bad])
    html = r.content.decode()
    assert r.status_code == 422
    assert "第 2 张照片" in html and "JPEG" in html
    assert MANHOLE in html
    assert not Case.objects.exists() and not Photo.objects.exists()


def test_a_partners_report_carries_the_rider_channel_and_counts_for_the_station(client, city):
    r = client.post(
        "/partners/join/",
        {
            "name": "沈师傅",
            "phone": "13857301234",
            "kind": "rider",
            "station": "美团当湖站",
            "unit": city.units["gr-east.a"].pk,
            "website": "",
        },
    )
    assert r.status_code == 200 and "join-done" in r.content.decode()
    partner = ReportingPartner.objects.get()
    assert (partner.phone, partner.kind, partner.verified) == ("13857301234", "rider", False)
    # Registering the same number again changes nothing and says the same.
    r = client.post(
        "/partners/join/",
        {"name": "冒名", "phone": "13857301234", "kind": "grid", "station": "别处", "website": ""},
    )
    assert r.status_code == 200 and ReportingPartner.objects.get().name == "沈师傅"

    post(client, phone="13857301234", name="沈师傅")
    case = Case.objects.get()
    assert case.channel == "rider"
    assert PartnerReport.objects.get().case == case
    post(client, phone="13900001111", text="路灯不亮了")
    assert Case.objects.get(requester_phone="13900001111").channel == "app"

    # The community's staff see the history; another unit's do not.
    assert client.login(username="village_ea", password=PASSWORD)
    page = client.get(f"/partners/{partner.pk}/")
    assert page.status_code == 200 and case.number in page.content.decode()
    assert "138****1234" in page.content.decode()
    client.post(f"/partners/{partner.pk}/", {"verified": "1"})
    assert ReportingPartner.objects.get().verified
    client.logout()
    assert client.login(username="water", password=PASSWORD)
    assert client.get(f"/partners/{partner.pk}/").status_code == 404


def test_rate_limit_per_address(client, city, settings):
    settings.MINSHENG_PUBLIC_RATE_IP = "3/h"
    for i in range(3):
        assert post(client, ip="10.9.9.9", text=f"第{i}处井盖破损").status_code == 302
    r = post(client, ip="10.9.9.9", text="第4处井盖破损")
    assert r.status_code == 429
    assert "上报次数过多" in r.content.decode()
    assert Case.objects.count() == 3
    assert post(client, ip="10.9.9.10", text="另一处").status_code == 302  # another address


def test_rate_limit_per_phone_across_addresses(client, city, settings):
    settings.MINSHENG_PUBLIC_RATE_PHONE = "2/10m"
    assert post(client, ip="10.1.0.1", phone="13812345678").status_code == 302
    assert post(client, ip="10.1.0.2", phone="138-1234-5678").status_code == 302
    r = post(client, ip="10.1.0.3", phone="13812345678")
    assert r.status_code == 429 and "上报次数过多" in r.content.decode()
    assert Case.objects.count() == 2


def test_friction_step_for_anonymous_bursts(client, city, settings, now):
    settings.MINSHENG_FRICTION_AFTER = 2
    settings.MINSHENG_FRICTION_WAIT = 15
    ip = "10.7.7.7"
    for i in range(2):
        assert post(client, ip=ip, text=f"匿名{i}", anonymous="on").status_code == 302
    # The third anonymous report from the address needs the wait token...
    r = post(client, ip=ip, text="匿名2", anonymous="on")
    assert r.status_code == 429
    assert "请等待 15 秒" in r.content.decode() and "匿名2" in r.content.decode()
    page = client.get(REPORT, REMOTE_ADDR=ip).content.decode()
    assert 'data-wait="15"' in page
    token = re.search(r'name="wait" value="([^"]+)"', page).group(1)
    # ... sent too early it is refused, after the wait it passes, and only once.
    assert post(client, ip=ip, text="匿名2", anonymous="on", wait=token).status_code == 429
    now.advance(seconds=16)
    assert post(client, ip=ip, text="匿名2", anonymous="on", wait=token).status_code == 302
    assert post(client, ip=ip, text="匿名3", anonymous="on", wait=token).status_code == 429
    # A token is tied to the address it was given to.
    other = client.get(REPORT, REMOTE_ADDR="10.8.8.8").content.decode()
    assert "data-wait" not in other
    # A report with a phone number is not slowed (it has its own per-phone limit).
    assert post(client, ip=ip, text="有电话", phone="13812345678").status_code == 302
    assert Case.objects.count() == 4


def test_honeypot_field_refuses(client, city):
    r = post(client, website="http://spam.example")
    assert r.status_code == 422 and not Case.objects.exists()


def test_follow_with_wrong_digits_reveals_nothing(client, city):
    post(client, name="沈师傅", phone="13857301234", address="东城A村路口")
    case = Case.objects.get()
    wrong = client.post("/track/", {"number": case.number, "digits": "9999"})
    missing = client.post("/track/", {"number": "MS2026112399999", "digits": "9999"})
    assert wrong.status_code == missing.status_code == 200
    for r in (wrong, missing):
        html = r.content.decode()
        assert "track-not-found" in html
        for secret in ("沈师傅", "1385730", MANHOLE, "东城A村路口", case.public_token, "住建局"):
            assert secret not in html
    # The same answer for a wrong number and wrong digits (no existence oracle).
    strip = lambda h: re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"|MS\d+', "", h)  # noqa: E731
    assert strip(wrong.content.decode()) == strip(missing.content.decode())


def feedback_given(city):
    from tests.common.factories import intake

    case = intake(city, phone="13857301234")
    roads = city.actor("roads")
    actions.sign_case(roads, case.pk)
    actions.dispatch_case(roads, case.pk, people=["field_roads"])
    return actions.feedback_case(roads, case.pk, note="井盖已更换")


def test_unsatisfied_needs_a_reason_and_reopens_the_case(client, city, now):
    case = feedback_given(city)
    url = reverse("web:track_token", args=[case.public_token])
    r = client.post(url, {"rating": "unsatisfied", "note": "", "version": case.version})
    assert r.status_code == 422
    assert "不满意的原因" in r.content.decode()
    case.refresh_from_db()
    assert case.state == "feedback" and case.rating == ""
    r = client.post(url, {"rating": "unsatisfied", "note": "井盖还是松的", "version": case.version})
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.state == "assigned" and case.reopen_count == 1
    assert case.owner_unit == city.units["roads"]
    tail = list(CaseEvent.objects.filter(case=case).values_list("action", "note"))[-2:]
    assert tail[0] == ("rate", "井盖还是松的")
    assert tail[1][0] == "reopen" and "井盖还是松的" in tail[1][1]


def test_satisfied_rating_does_not_reopen(client, city, now):
    case = feedback_given(city)
    url = reverse("web:track_token", args=[case.public_token])
    r = client.post(url, {"rating": "satisfied", "note": "", "version": case.version})
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.state == "rated" and case.reopen_count == 0


def test_the_follow_page_shows_the_handlings_photos_only(client, city, now):
    from minsheng.field.actions import add_site_photo

    post(client, files=[jpeg("mine.jpg", (1, 2, 3))], phone="13857301234")
    case = Case.objects.get()
    if case.owner_unit is None:
        actions.assign_case(city.actor("dispatcher"), case.pk, unit_id=city.units["roads"].pk)
    roads = city.actor("roads")
    actions.sign_case(roads, case.pk)
    actions.dispatch_case(roads, case.pk, people=["field_roads"])
    site = add_site_photo(city.actor("field_roads"), case.pk, photo=jpeg("site.jpg"), client_key="s1")
    actions.feedback_case(roads, case.pk, note="井盖已更换")
    html = client.get(reverse("web:track_token", args=[case.public_token])).content.decode()
    assert reverse("media:public_thumb", args=[case.public_token, site.pk]) in html
    report_photo = Photo.objects.get(case=case, source="report")
    assert f"/photos/{report_photo.pk}/" not in html
    r = client.get(reverse("media:public_photo", args=[case.public_token, report_photo.pk]))
    assert r.status_code == 404


def test_map_data_is_geojson_of_boundaries_and_roads(client, demo_city):
    r = client.get("/report/map.json")
    assert r.status_code == 200 and "max-age" in r["Cache-Control"]
    data = r.json()
    kinds = {f["properties"]["kind"] for f in data["features"]}
    assert {"city", "street", "town", "community", "road"} <= kinds
    assert any(f["properties"]["name"] == "水洞埭社区" for f in data["features"])
    road = next(f for f in data["features"] if f["properties"]["kind"] == "road")
    assert road["geometry"]["type"] == "LineString"


def test_sent_page_needs_the_token(client, city):
    assert client.get(reverse("public:sent", args=["nope"])).status_code == 404


def test_a_dispatcher_sees_the_photos_at_a_later_time(client, city, now):
    post(client, files=[jpeg()])
    now.advance(days=1)
    case = Case.objects.get()
    assert client.login(username="dispatcher", password=PASSWORD)
    html = client.get(reverse("web:case", args=[case.pk])).content.decode()
    photo = Photo.objects.get()
    assert reverse("media:thumb", args=[photo.pk]) in html
    assert client.get(reverse("media:photo", args=[photo.pk])).status_code == 200
    assert dt.timedelta(days=1) <= now() - case.created_at
