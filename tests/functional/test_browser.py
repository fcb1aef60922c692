"""One case through the loop in a real browser (headless Chromium, Debian's build):
operator intake → the department signs, dispatches, feeds back → the requester rates on
the public page at phone size → the operator closes it, with JavaScript off to prove the
pages work without it. Asserts what a person sees."""

from __future__ import annotations

import re

from tests.functional.browser import BROWSER_MARKS, DESKTOP, PHONE, playwright, sign_in, sign_out

pytestmark = BROWSER_MARKS


def test_one_case_through_the_loop(transactional_db, city, live_server, browser, tmp_path):
    base = live_server.url
    expect = playwright.expect

    # --- the operator registers a request (category owned by a department) -----------
    ctx = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = ctx.new_page()
    sign_in(page, base, "operator")
    expect(page.locator("h1")).to_contain_text("登记诉求")
    page.fill("#id_text", "人行道上的窨井盖破了一角，晚上很危险")
    page.select_option("#id_channel", "rider")
    page.select_option("#id_category", "road.manhole")
    page.fill("#id_address", "东城A村人行道")
    page.fill("#id_lat", "30.725")
    page.fill("#id_lng", "121.025")
    page.fill("#id_requester_name", "沈师傅")
    page.fill("#id_requester_phone", "13857301234")
    page.click("button:has-text('登记')")
    number = page.locator("#created-number").inner_text().strip()
    assert re.fullmatch(r"MS\d{13}", number)
    expect(page.locator(".created")).to_contain_text("已派单，待签收")
    expect(page.locator(".created")).to_contain_text("住建局")
    sign_out(page)

    # --- the department signs (one click in the inbox, swapped by HTMX) ---------------
    sign_in(page, base, "roads")
    expect(page.locator("h1")).to_contain_text("单位待办")
    row = page.locator("tr", has_text=number)
    row.locator("button:has-text('签收')").click()
    expect(page.locator("tr.row-ok")).to_contain_text("已签收。")
    expect(page.locator("tr.row-ok")).to_contain_text("已签收，待派遣")

    # --- ... dispatches people and feeds back on the case page ----------------------
    page.click(f"a:has-text('{number}')")
    expect(page.locator(".case-head")).to_contain_text("已签收，待派遣")
    page.check("input[name=worker][value=field_roads]")
    page.fill("#people-dispatch", "抢修二班")
    page.click("form.action-dispatch button")
    expect(page.locator(".case-head .badge")).to_have_text("已派遣")
    expect(page.locator("#case-panel .msg-success")).to_have_text("已派遣人员。")
    page.fill("#note-feedback", "井盖已更换，恢复通行")
    page.click("form.action-feedback button")
    expect(page.locator(".case-head .badge")).to_have_text("已反馈，待评价")
    timeline = page.locator("ol.timeline")
    for label in ("受理", "派单", "签收", "派遣", "反馈诉求人"):
        expect(timeline).to_contain_text(label)
    sign_out(page)
    ctx.close()

    # --- the requester rates it on the public page, on a phone -----------------------
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    p = phone.new_page()
    p.goto(f"{base}/track/")
    p.fill("#id_number", number)
    p.fill("#id_digits", "9999")
    p.click("button:has-text('查询进度')")
    expect(p.locator("#track-not-found")).to_contain_text("未找到对应的工单")
    p.fill("#id_number", number)
    p.fill("#id_digits", "1234")
    p.click("button:has-text('查询进度')")
    expect(p.locator("#progress-words")).to_have_text("承办单位已答复办理结果，请您评价是否满意。")
    expect(p.locator("#feedback-text")).to_contain_text("井盖已更换，恢复通行")
    assert p.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    p.screenshot(path=str(tmp_path / "track-phone.png"), full_page=True)
    p.click("label:has-text('满意') >> nth=0")
    p.click("button:has-text('提交评价')")
    expect(p.locator(".msg-success")).to_contain_text("您的评价已记录")
    expect(p.locator("#progress-words")).to_have_text("感谢您的评价，工单即将办结。")
    phone.close()

    # --- the operator closes it, with JavaScript off: plain POST and redirect --------
    nojs = browser.new_context(viewport=DESKTOP, java_script_enabled=False, locale="zh-CN")
    page = nojs.new_page()
    sign_in(page, base, "operator")
    page.goto(f"{base}/cases/?q={number}")
    page.click(f"a:has-text('{number}')")
    expect(page.locator(".case-head .badge")).to_have_text("已评价")
    expect(page.locator(".phone-full")).to_have_text("13857301234")
    page.click("form.action-close button")
    expect(page.locator(".messages")).to_contain_text("工单已办结。")
    expect(page.locator(".case-head .badge")).to_have_text("已办结")
    expect(page.locator("ol.timeline")).to_contain_text("评价")
    expect(page.locator("ol.timeline")).to_contain_text("办结")
    expect(page.locator(".rating")).to_have_text("满意")
    nojs.close()


def test_dispatcher_workbench_fits_a_1366_screen(transactional_db, city, live_server, browser, tmp_path):
    from tests.common.factories import intake

    for i in range(3):
        intake(city, category="neighbor.dispute", point=None, text=f"待分类的诉求 {i}")
    ctx = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = ctx.new_page()
    sign_in(page, live_server.url, "dispatcher")
    expect = playwright.expect
    expect(page.locator("h1")).to_contain_text("派单队列")
    expect(page.locator(".tabs a.active")).to_contain_text("待派单")
    expect(page.locator(".tabs a.active .count")).to_have_text("3")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # Keyboard: the first focusable thing is the skip link, then the brand.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    # Tabs swap over HTMX and keep the address bar in step.
    page.click(".tabs a:has-text('即将超时')")
    expect(page.locator(".tabs a.active")).to_contain_text("即将超时")
    assert "tab=breaching" in page.url
    page.screenshot(path=str(tmp_path / "queue.png"))
    ctx.close()
