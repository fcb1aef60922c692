"""The statistics page in a real browser (headless Chromium, Debian's build): a leader opens
it, reads the figures in Chinese, follows one to the cases behind it, and downloads the
CSV and Excel files, which hold the same figures."""

from __future__ import annotations

import csv

import pytest

from minsheng.cases import actions
from minsheng.stats.rollup import refresh_rollups
from tests.common.factories import PASSWORD, intake
from tests.functional.browser import BROWSER_MARKS, playwright

pytestmark = BROWSER_MARKS


def _two_days_of_cases(city, now):
    """Yesterday (local) one case done in time and rated satisfied, read from the rollup;
    today one signed late, counted live."""
    roads, operator = city.actor("roads"), city.actor("operator")
    first = intake(city)
    now.advance(seconds=30)
    actions.sign_case(roads, first.pk)
    now.advance(seconds=60)
    actions.dispatch_case(roads, first.pk, people=["抢修一班"])
    now.advance(hours=1)
    actions.feedback_case(roads, first.pk, note="井盖已更换")
    actions.rate_case(operator, first.pk, rating="satisfied")
    actions.close_case(operator, first.pk)
    now.advance(hours=20)
    refresh_rollups(now())
    second = intake(city)
    now.advance(seconds=200)
    actions.sign_case(roads, second.pk)
    return first, second


def test_leader_reads_the_statistics_and_downloads_them(
    transactional_db, city, now, live_server, browser, tmp_path
):
    first, second = _two_days_of_cases(city, now)
    expect = playwright.expect
    ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN", accept_downloads=True)
    page = ctx.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "leader")
    page.fill("#id_password", PASSWORD)
    page.click("form button.btn-primary")
    page.wait_for_load_state()

    page.goto(f"{live_server.url}/stats/")
    expect(page.locator("h1")).to_have_text("统计")
    page.get_by_label("本月").check()
    page.click("button:has-text('查询')")
    table = page.locator("#measures")
    expect(table.locator("thead")).to_contain_text("签收及时率")
    expect(table.locator("thead")).to_contain_text("满意率")
    total = table.locator("tbody tr.total")
    expect(total).to_contain_text("全部单位")
    expect(total.locator("td[data-measure=sign] .fig")).to_have_text("50.0%")
    expect(total.locator("td[data-measure=sign] .fig-sub")).to_have_text("1 / 2")
    expect(total.locator("td[data-measure=satisfaction] .fig")).to_have_text("100.0%")
    roads_row = table.locator("tbody tr", has_text="住建局")
    expect(roads_row.locator("td[data-measure=dispatch] .fig")).to_have_text("100.0%")
    expect(page.locator(".stats-period")).to_contain_text("实时统计")
    expect(page.locator("#durations thead")).to_contain_text("中位数")

    # The figure leads to the cases it counted.
    total.locator("td[data-measure=sign] .fig-sub a").click()  # the denominator
    expect(page.locator("h1")).to_contain_text("签收及时率")
    expect(page.locator("#audit")).to_contain_text(first.number)
    expect(page.locator("#audit")).to_contain_text(second.number)
    expect(page.locator("#audit")).to_contain_text("超时完成")
    page.go_back()

    with page.expect_download() as got:
        page.click("a:has-text('下载 CSV')")
    path = tmp_path / "stats.csv"
    got.value.save_as(path)
    rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    header = rows[1]
    total_line = next(r for r in rows if r and r[0] == "全部单位")
    assert total_line[header.index("签收及时率")] == "50.0%"
    assert total_line[header.index("签收及时率 · 及时")] == "1"
    assert total_line[header.index("签收及时率 · 应计")] == "2"
    assert total_line[header.index("满意率")] == "100.0%"

    with page.expect_download() as got:
        page.click("a:has-text('下载 Excel')")
    xlsx = tmp_path / "stats.xlsx"
    got.value.save_as(xlsx)
    from openpyxl import load_workbook

    ws = load_workbook(xlsx).active
    values = [[c.value for c in row] for row in ws.iter_rows()]
    header = values[1]
    total_line = next(r for r in values if r and r[0] == "全部单位")
    col = header.index("签收及时率")
    assert total_line[col] == pytest.approx(0.5)
    assert ws.cell(row=values.index(total_line) + 1, column=col + 1).number_format == "0.0%"
    assert total_line[header.index("签收及时率 · 应计")] == 2
    assert total_line[header.index("满意率")] == pytest.approx(1.0)
    ctx.close()
