"""The command centre's screen in Chromium at the wall's 1920×1080 and a laptop's 1366×768:
the city centre sees both towns, a sub-centre only its own; the map draws the open cases,
the trend chart draws, a new case reaches the live feed within 5 seconds, and a figure
opens its cases."""

from __future__ import annotations

import re

import pytest

from tests.common.factories import intake
from tests.functional.browser import BROWSER_MARKS, playwright, sign_in

pytestmark = BROWSER_MARKS

SIZES = [{"width": 1920, "height": 1080}, {"width": 1366, "height": 768}]


@pytest.mark.parametrize("size", SIZES, ids=["1920", "1366"])
def test_the_city_and_a_subcentre_each_see_their_own_screen(
    transactional_db, city, live_server, browser, size
):
    east = intake(city, point="east.a")
    west = intake(city, point="west.a", channel="app", text="西乡村口井盖缺失")
    expect = playwright.expect
    ctx = browser.new_context(viewport=size, locale="zh-CN")
    page = ctx.new_page()
    sign_in(page, live_server.url, "dispatcher")
    page.goto(f"{live_server.url}/command/")
    expect(page.locator("h1")).to_contain_text("指挥中心")
    expect(page.locator("#cc-territory")).to_have_text("测试市")
    expect(page.locator("#cc-open strong").first).to_have_text("2")
    heat = page.locator("#cc-heat thead")
    expect(heat).to_contain_text("东城街道")
    expect(heat).to_contain_text("西乡镇")
    expect(page.locator("#cc-map")).to_have_attribute("data-ready", "1", timeout=10_000)
    expect(page.locator("#cc-trend")).to_have_attribute("data-ready", "1")
    feed = page.locator("#cc-feed")
    expect(feed).to_contain_text(east.number)
    expect(feed).to_contain_text(west.number)
    # Everything fits the screen: no panel pushes the page beyond the viewport.
    assert page.evaluate("document.documentElement.scrollHeight") <= size["height"] + 1
    # A new case reaches the feed within 5 seconds, without reloading.
    third = intake(city, point="east.b", text="路灯不亮")
    expect(feed).to_contain_text(third.number, timeout=5_000)
    # A figure opens its cases: the app channel's month count, then the search lists them.
    page.locator("#cc-channels tr[data-channel='app'] td a").last.click()
    page.wait_for_url(re.compile(r"/cases/\?"))
    expect(page.locator("#results")).to_contain_text(west.number)
    expect(page.locator("#results")).not_to_contain_text(east.number)
    ctx.close()

    ctx = browser.new_context(viewport=size, locale="zh-CN")
    page = ctx.new_page()
    sign_in(page, live_server.url, "sub_east")
    page.goto(f"{live_server.url}/command/")
    expect(page.locator("#cc-territory")).to_have_text("东城街道")
    expect(page.locator("#cc-open strong").first).to_have_text("2")
    expect(page.locator("#cc-heat thead")).not_to_contain_text("西乡镇")
    expect(page.locator("#cc-feed")).to_contain_text(east.number)
    expect(page.locator("#cc-feed")).not_to_contain_text(west.number)
    expect(page.locator("#cc-map")).to_have_attribute("data-ready", "1", timeout=10_000)
    ctx.close()
