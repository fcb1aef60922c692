"""A joint group (一键组群) closes a case, in a real browser (headless Chromium, Debian's
build): the city dispatcher forms a group with a lead and two assisting units in one
action; each assisting unit finds its part in its inbox, signs it, writes in the shared
thread (one with a photo) and marks it done; the lead signs, sends people, writes the
consolidated feedback and closes the case. Asserts what each person sees."""

from __future__ import annotations

import io

from PIL import Image

from tests.common.factories import intake
from tests.functional.browser import BROWSER_MARKS, DESKTOP, playwright, sign_in, sign_out

pytestmark = BROWSER_MARKS


def photo_file(path) -> str:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (40, 90, 160)).save(buf, format="JPEG")
    path.write_bytes(buf.getvalue())
    return str(path)


def do_part(
    page, base: str, user: str, number: str, message: str, result: str, photo: str | None = None
) -> None:
    """An assisting unit: inbox → its part → sign → a message in the thread → done."""
    expect = playwright.expect
    sign_in(page, base, user)
    page.click("a[role=tab]:has-text('联合处置任务')")
    row = page.locator("table.group-parts tr", has_text=number)
    expect(row.locator(".part-state")).to_have_text("待签收")
    row.locator("a.btn:has-text('打开')").click()
    panel = page.locator("#group-panel")
    expect(panel).to_contain_text("本单位任务")
    panel.locator("form.group-sign button").click()
    expect(page.locator("#case-panel .msg-success")).to_have_text("本单位任务已签收。")
    mine = page.locator("#group-panel tr.member-mine .part-state")
    expect(mine).to_have_text("已签收，办理中")
    page.fill("#text-message", message)
    if photo:
        page.set_input_files("#photos-message", photo)
    page.click("form.group-message button")
    expect(page.locator("#case-panel .msg-success")).to_have_text("消息已发送。")
    expect(page.locator("#group-thread .thread-msg").last).to_contain_text(message)
    page.fill("#note-done", result)
    page.click("form.group-done button")
    expect(page.locator("#case-panel .msg-success")).to_have_text("本单位任务已标记完成。")
    expect(page.locator("#group-panel tr.member-mine .part-state")).to_have_text("已完成")
    sign_out(page)


def test_a_joint_group_with_two_assisting_units_closes_a_case(
    transactional_db, city, live_server, browser, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path / "media"
    base = live_server.url
    expect = playwright.expect
    case = intake(city, text="小区门口井盖破损，下面污水管也在冒水，村道积水严重")
    number = case.number

    ctx = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = ctx.new_page()

    # --- the city dispatcher forms the group in one action ---------------------------
    sign_in(page, base, "dispatcher")
    page.goto(f"{base}/cases/{case.pk}/")
    page.click("#group-form summary")
    form = page.locator("form.group-form")
    expect(form.locator("#lead-unit")).to_have_value(str(city.units["roads"].pk))
    form.locator("[data-add-row]").click()  # one more row than the three it starts with
    expect(form.locator(".assist-row")).to_have_count(4)
    page.fill("#lead_task-form", "更换井盖，协调各方，汇总反馈")
    rows = form.locator(".assist-row")
    rows.nth(0).locator("select").select_option(str(city.units["water"].pk))
    rows.nth(0).locator("input").fill("排查并修复污水管")
    rows.nth(1).locator("select").select_option(str(city.units["gr-east.a"].pk))
    rows.nth(1).locator("input").fill("组织村道积水清理，现场看护")
    form.locator("button.btn-primary").click()
    expect(page.locator("#case-panel .msg-success")).to_have_text("已一键组群，各成员单位均已收到通知。")
    panel = page.locator("#group-panel")
    expect(panel.locator(".group-state")).to_have_text("进行中")
    expect(panel.locator("tr.member")).to_have_count(3)
    expect(panel.locator("#member-roads")).to_contain_text("牵头单位")
    expect(panel.locator("#member-water")).to_contain_text("排查并修复污水管")
    expect(panel.locator("#member-water .part-state")).to_have_text("待签收")
    expect(panel.locator("#member-gr-east\\.a")).to_contain_text("协办签收")
    expect(page.locator("#group-form")).to_have_count(0)  # one open group per case
    sign_out(page)

    # --- each assisting unit signs its part, writes in the thread, marks it done -----
    do_part(
        page,
        base,
        "water",
        number,
        "污水管破裂点已找到，正在抢修",
        "污水管已修复，已冲洗路面",
        photo=photo_file(tmp_path / "pipe.jpg"),
    )
    do_part(page, base, "village_ea", number, "村里已安排人员清理积水", "积水已清理，围挡已撤")

    # --- the lead: sign, send people, consolidated feedback, close --------------------
    sign_in(page, base, "roads")
    page.goto(f"{base}/cases/{case.pk}/")
    panel = page.locator("#group-panel")
    expect(panel).to_contain_text("本单位牵头")
    thread = page.locator("#group-thread")
    expect(thread.locator(".thread-msg")).to_have_count(2)
    expect(thread).to_contain_text("污水管破裂点已找到")
    expect(thread).to_contain_text("水务集团")
    image = thread.locator(".thread-photos img")
    expect(image).to_have_count(1)
    image.scroll_into_view_if_needed()  # lazily loaded; served only to those who see the case
    page.wait_for_function(
        "() => { const i = document.querySelector('.thread-photos img');"
        " return i && i.complete && i.naturalWidth === 64; }"
    )
    expect(page.locator("details.more-action summary:has-text('退单')")).to_have_count(0)
    page.click("form.action-sign button")
    expect(page.locator(".case-head .badge")).to_have_text("已签收，待派遣")
    page.fill("#people-dispatch", "抢修一班")
    page.click("form.action-dispatch button")
    expect(page.locator(".case-head .badge")).to_have_text("已派遣")
    page.fill("#note-feedback", "井盖已更换，污水管已修复，村道积水已清理，恢复通行")
    page.click("form.action-feedback button")
    expect(page.locator(".case-head .badge")).to_have_text("已反馈，待评价")
    for unit in ("roads", "water", "gr-east\\.a"):
        expect(page.locator(f"#member-{unit} .part-state")).to_have_text("已完成")
    page.click("form.action-close button")
    expect(page.locator(".case-head .badge")).to_have_text("已办结")
    expect(page.locator("#group-panel .group-state")).to_have_text("已随工单办结")
    expect(page.locator("form.group-message")).to_have_count(0)
    timeline = page.locator("ol.timeline")
    for label in ("一键组群", "协办签收", "群聊消息", "协办完成", "反馈诉求人", "办结"):
        expect(timeline).to_contain_text(label)
    sign_out(page)

    # --- a unit outside the group does not see the case -------------------------------
    sign_in(page, base, "sub_west")
    response = page.goto(f"{base}/cases/{case.pk}/")
    assert response.status == 404
    ctx.close()
