"""On phones, in headless Chromium (390×844): a rider reports a broken manhole cover with a
photo and a spot tapped on the map; the field worker sent to it records the arrival (with
the phone's position) and marks it handled with a photo; the requester reads the feedback
on the follow page, sees the photo of the work, and rates it."""

from __future__ import annotations

import io
import re

from PIL import ExifTags, Image

from minsheng.cases import actions
from minsheng.cases.models import Case, CaseEvent
from minsheng.media.models import Photo
from minsheng.public.actions import register_partner
from tests.functional.browser import BROWSER_MARKS, PHONE, playwright, sign_in

pytestmark = BROWSER_MARKS
SPOT = (30.725, 121.025)  # inside 东城A村 of the test city


def photo_file(path, colour, *, gps=False):
    image = Image.new("RGB", (640, 480), colour)
    exif = Image.Exif()
    if gps:
        exif[ExifTags.IFD.GPSInfo] = {1: "N", 2: (30.0, 43.0, 30.0), 3: "E", 4: (121.0, 1.0, 30.0)}
    buf = io.BytesIO()
    image.save(buf, "JPEG", exif=exif.tobytes())
    path.write_bytes(buf.getvalue())
    return str(path)


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_rider_reports_field_worker_handles_requester_rates(
    transactional_db, city, live_server, browser, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    base = live_server.url
    expect = playwright.expect
    register_partner(
        phone="13857301234",
        name="沈师傅",
        kind="rider",
        station="美团当湖站",
        unit_id=city.units["gr-east.a"].pk,
    )

    # --- the rider reports, on the phone -------------------------------------------------
    rider = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    p = rider.new_page()
    p.goto(f"{base}/report/")
    p.fill("#id_text", "水洞埭路口的窨井盖破了一角，晚上骑车很危险")
    p.wait_for_selector("#map[data-ready='1']", state="attached")
    p.locator("#map").scroll_into_view_if_needed()
    point = p.evaluate(
        f"(() => {{ const m = document.getElementById('map').minshengMap;"
        f" m.invalidateSize(); m.setView([{SPOT[0]}, {SPOT[1]}], 15, {{animate: false}});"
        f" const pt = m.latLngToContainerPoint([{SPOT[0]}, {SPOT[1]}]);"
        f" return [pt.x, pt.y]; }})()"
    )
    box = p.locator("#map").bounding_box()
    p.mouse.click(box["x"] + point[0], box["y"] + point[1])
    expect(p.locator("#spot")).to_contain_text("已选位置")
    lat, lng = float(p.input_value("#id_lat")), float(p.input_value("#id_lng"))
    assert abs(lat - SPOT[0]) < 0.0005 and abs(lng - SPOT[1]) < 0.0005
    p.set_input_files("#photos", photo_file(tmp_path / "manhole.jpg", (70, 70, 70), gps=True))
    p.fill("#id_name", "沈师傅")
    p.fill("#id_phone", "13857301234")
    assert no_sideways_scroll(p)
    p.set_viewport_size({"width": 360, "height": 740})  # the smallest phones served
    assert no_sideways_scroll(p)
    p.set_viewport_size(PHONE)
    p.screenshot(path=str(tmp_path / "report-phone.png"), full_page=True)
    p.click("#send")
    expect(p.locator("#case-number")).to_have_text(re.compile(r"MS\d{13}"))
    number = p.locator("#case-number").inner_text().strip()
    follow = p.locator("#follow-link").get_attribute("href")
    case = Case.objects.get(number=number)
    assert case.channel == "rider" and case.place == city.places["east.a"]
    reported = Photo.objects.get(case=case, source="report")
    with reported.file.open("rb") as f:
        assert not Image.open(f).getexif()  # GPS and all EXIF gone

    # --- the unit routes it and sends the field worker (set up through the actions) ------
    if case.owner_unit is None:
        actions.assign_case(
            city.actor("dispatcher"), case.pk, unit_id=city.units["roads"].pk, category="road.manhole"
        )
    roads = city.actor("roads")
    actions.sign_case(roads, case.pk)
    actions.dispatch_case(roads, case.pk, people=["field_roads"])

    # --- the field worker arrives and marks it handled with a photo ----------------------
    worker = browser.new_context(
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        geolocation={"latitude": 30.72505, "longitude": 121.02495, "accuracy": 9},
        permissions=["geolocation"],
    )
    w = worker.new_page()
    sign_in(w, base, "field_roads")
    w.goto(f"{base}/m/")
    expect(w.locator(f"#task-{case.pk}")).to_contain_text("窨井盖")
    expect(w.locator(f"#task-{case.pk} a[href^='https://uri.amap.com/marker']")).to_have_count(1)
    expect(w.locator(f"#task-{case.pk} a[href^='geo:30.725']")).to_have_count(1)
    assert no_sideways_scroll(w)
    w.set_viewport_size({"width": 360, "height": 740})
    assert no_sideways_scroll(w)
    w.set_viewport_size(PHONE)
    w.click(f"#task-{case.pk} a.task")
    w.click("#arrive-btn")
    expect(w.locator("#arrived")).to_contain_text("您已于")
    arrival = CaseEvent.objects.get(case=case, action="arrive")
    assert abs(arrival.data["lat"] - 30.72505) < 1e-6 and arrival.data["accuracy"] == 9
    w.fill("#note-handle", "已更换新井盖，周边设置了警示")
    w.set_input_files("#photo-handle", photo_file(tmp_path / "fixed.jpg", (30, 160, 60), gps=True))
    w.click("#handle-btn")
    expect(w.locator(".m-msg")).to_contain_text("已标记处置")
    expect(w.locator("#photos img")).to_have_count(2)
    expect(w.locator("#task-state")).to_have_text("办理中")
    assert no_sideways_scroll(w)
    w.screenshot(path=str(tmp_path / "field-phone.png"), full_page=True)
    worker.close()

    # --- the unit feeds back (through the actions) --------------------------------------
    actions.feedback_case(roads, case.pk, note="井盖已更换，恢复通行")

    # --- the requester follows the link, sees the result and the photo, rates it ---------
    p.goto(follow)
    expect(p.locator("#feedback-text")).to_contain_text("井盖已更换，恢复通行")
    expect(p.locator("#handling-photos img")).to_have_count(1)
    p.locator("#handling-photos img").scroll_into_view_if_needed()
    # A function, not an expression: Playwright polls an expression with eval, which the
    # page's Content-Security-Policy (no 'unsafe-eval') refuses.
    p.wait_for_function(
        "() => { const i = document.querySelector('#handling-photos img');"
        " return i.complete && i.naturalWidth > 0; }"
    )
    assert no_sideways_scroll(p)
    p.click("label:has-text('满意') >> nth=0")
    p.click("button:has-text('提交评价')")
    expect(p.locator(".msg-success")).to_contain_text("您的评价已记录")
    rider.close()
    case.refresh_from_db()
    assert case.state == "rated" and case.rating == "satisfied"
    assert [
        e
        for e in case.events.values_list("action", flat=True)
        if e in ("accept", "photo", "arrive", "handle", "feedback", "rate")
    ] == ["accept", "photo", "arrive", "photo", "handle", "feedback", "rate"]


def test_the_wait_step_opens_the_send_button_after_the_wait(
    transactional_db, city, live_server, browser, settings, tmp_path
):
    """After a burst of anonymous reports the form waits a few seconds before it can be
    sent: no puzzle, the button counts down and then works."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.MINSHENG_FRICTION_AFTER = 0  # every anonymous report waits, for the test
    settings.MINSHENG_FRICTION_WAIT = 2
    expect = playwright.expect
    ctx = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    p = ctx.new_page()
    p.goto(f"{live_server.url}/report/")
    expect(p.locator("#wait-note")).to_be_visible()
    expect(p.locator("#send")).to_be_disabled()
    p.fill("#id_text", "路灯不亮了")
    p.check("#id_anonymous")
    expect(p.locator("#send")).to_be_enabled(timeout=5000)
    p.click("#send")
    expect(p.locator("#case-number")).to_have_text(re.compile(r"MS\d{13}"))
    assert Case.objects.get().requester_phone == ""
    ctx.close()
