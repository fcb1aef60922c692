"""A deputy's proposal in a real browser (headless Chromium): the desk hands it over to a
lead unit and a co-unit, the lead signs, records the contact with the deputy and replies in
writing, the co-unit does its part, the desk records the deputy's verdict and the case
closes; the public tracking page (议案提案 办理追踪) shows each step. Asserts what a person
sees."""

from __future__ import annotations

from minsheng.proposals.actions import load_kinds
from minsheng.proposals.models import Proposal
from tests.functional.browser import BROWSER_MARKS, DESKTOP, PHONE, playwright, sign_in, sign_out

pytestmark = BROWSER_MARKS

NUMBER = "建议第0012号"


def test_a_proposal_from_hand_over_to_the_verdict_and_its_tracking_page(
    transactional_db, city, live_server, browser
):
    load_kinds()
    base = live_server.url
    expect = playwright.expect
    ctx = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = ctx.new_page()

    # --- the desk hands the proposal over to 住建局 (lead) and 水务集团 (co-unit) ---------
    sign_in(page, base, "dispatcher")
    page.goto(f"{base}/proposals/")
    expect(page.locator("h1")).to_have_text("议案提案")
    page.select_option("#id_kind", "npc")
    page.fill("#id_number", NUMBER)
    page.fill("#id_title", "关于加快老旧小区雨污分流改造的建议")
    page.fill("#id_text", "东城街道多个老旧小区雨天污水倒灌。")
    page.fill("#id_proposer", "陈建国")
    page.select_option("#id_lead_unit", label="住建局")
    page.check("#co-units label:has-text('水务集团') input")
    page.click("#hand-over button.btn-primary")
    panel = page.locator("#proposal-panel")
    expect(panel).to_contain_text(NUMBER)
    expect(page.locator("#proposal-lead")).to_have_text("住建局")
    expect(page.locator("#proposal-co-units")).to_have_text("水务集团")
    expect(page.locator(".case-head .badge")).to_have_text("已派单，待签收")
    case_url = page.url
    sign_out(page)

    # --- the public tracking page: handed over, awaiting the lead's signature ----------
    public = browser.new_context(viewport=PHONE, is_mobile=True, locale="zh-CN")
    track = public.new_page()
    track.goto(f"{base}/proposals/track/")
    expect(track.locator("h1")).to_have_text("议案提案 办理追踪")
    row = track.locator(f"tr[data-number='{NUMBER}']")
    expect(row).to_contain_text("市人大代表 陈建国")
    expect(row).to_contain_text("住建局")
    expect(row.locator("td.contact")).to_have_text("待签收")

    # --- the lead signs, contacts the deputy, then replies in writing -----------------
    sign_in(page, base, "roads")
    page.goto(case_url)
    page.click("form.action-sign button")
    expect(page.locator(".case-head .badge")).to_have_text("已签收，待派遣")
    expect(page.locator("form.proposal-reply")).to_have_count(0)  # no reply before the contact
    page.select_option("#proposal-how", "visit")
    page.fill("#proposal-contact-note", "上门听取陈代表意见，约定分两期实施")
    page.click("form.proposal-contact button")
    expect(page.locator(".messages")).to_contain_text("已登记与提出人的沟通。")
    expect(page.locator("#proposal-contact")).to_contain_text("已联系")
    page.fill("#proposal-reply-text", "经研究，年内完成东城街道5个小区雨污分流改造。")
    page.click("form.proposal-reply button")
    expect(page.locator(".messages")).to_contain_text("书面答复已发送。")
    expect(page.locator(".case-head .badge")).to_have_text("已反馈，待评价")
    expect(page.locator("ol.timeline")).to_contain_text("联系代表委员")
    sign_out(page)

    # --- the co-unit does its part on the same case page ---------------------------------
    sign_in(page, base, "water")
    page.goto(case_url)
    page.locator("#group-panel form.group-sign button").click()
    page.fill("#note-done", "管网改造方案已报牵头单位")
    page.click("form.group-done button")
    expect(page.locator("#group-panel tr.member-mine .part-state")).to_have_text("已完成")
    sign_out(page)

    # --- the desk records the deputy's verdict: basically satisfied, and it closes --------
    sign_in(page, base, "dispatcher")
    page.goto(case_url)
    page.check("form.proposal-verdict input[value=basically_satisfied]")
    page.fill("#proposal-verdict-note", "希望加快进度")
    page.click("form.proposal-verdict button")
    expect(page.locator(".messages")).to_contain_text("已登记评价：基本满意。")
    expect(page.locator(".case-head .badge")).to_have_text("已办结")
    expect(page.locator("#proposal-verdict")).to_have_text("基本满意")
    ctx.close()

    # --- the tracking page shows the contact, the reply and the verdict -----------------
    track.reload()
    row = track.locator(f"tr[data-number='{NUMBER}']")
    expect(row.locator("td.contact")).to_contain_text("已联系")
    expect(row.locator("td.reply")).to_contain_text("已答复")
    expect(row.locator("td.verdict")).to_contain_text("基本满意")
    expect(row.locator("td.verdict")).to_contain_text("已办结")
    figures = track.locator("#proposal-figures tr[data-kind=npc]")
    expect(figures).to_contain_text("100%")
    public.close()
    assert Proposal.objects.get(number=NUMBER).verdict == "basically_satisfied"
