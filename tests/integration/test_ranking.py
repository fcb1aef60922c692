"""The monthly evaluation (考核) on a hand-made month: the scores from the statistics' own
figures with the city's weights, tiers and the red/yellow list; the monthly report (月报)
written by the command and served by the page, as a PDF that reads back with its text and an
Excel workbook with a row per unit."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pypdf
import pytest
from django.core.management import call_command

from minsheng.cases import actions
from minsheng.ranking.models import MeasureWeight, RankingPolicy
from minsheng.ranking.queries import evaluate_month
from tests.common.factories import PASSWORD, intake

pytestmark = pytest.mark.django_db

NOVEMBER = dt.date(2026, 11, 1)


@pytest.fixture
def month(city, now):
    """住建局 signs two cases in time and one late (2 of 3); 水务集团 signs its one in time;
    only the sign rate weighs, and one decided item is enough to be ranked."""
    for measure in ("dispatch", "feedback", "resolve", "response", "satisfaction", "reopen", "returns"):
        MeasureWeight.objects.create(measure=measure, weight=0)
    MeasureWeight.objects.create(measure="sign", weight=10)
    RankingPolicy.objects.create(min_decided=1)
    for _ in range(2):
        actions.sign_case(city.actor("roads"), intake(city).pk)
    late = intake(city)
    now.advance(minutes=3)
    actions.sign_case(city.actor("roads"), late.pk)
    actions.sign_case(city.actor("water"), intake(city, category="water.sewage").pk)
    now.advance(days=10)  # the report is made in December
    return city


def test_scores_tiers_and_lists_of_a_hand_made_month(month):
    ev = evaluate_month(NOVEMBER)
    by_name = {u.name: u for u in ev.units}
    roads, water = by_name["住建局"], by_name["水务集团"]
    assert water.score == 100.0 and water.rank == 1 and water.tier == "A" and water.listed == "red"
    assert roads.score == 66.7 and roads.rank == 2 and roads.tier == "D" and roads.listed == "yellow"
    sign = next(p for p in roads.parts if p.measure == "sign")
    assert (sign.numerator, sign.denominator) == (2, 3)
    assert by_name["东城A村"].score is None and by_name["东城A村"].rank is None  # nothing to judge
    assert "市指挥中心" not in by_name  # the centre judges, it is not ranked


def test_the_weights_the_city_sets_change_the_score(month):
    MeasureWeight.objects.filter(measure="satisfaction").update(weight=10)
    roads = next(u for u in evaluate_month(NOVEMBER).units if u.name == "住建局")
    assert roads.score == 66.7  # nothing was rated: satisfaction drops out
    # Nobody dispatched people within 5 minutes of signing: 0 of 3 at equal weight.
    MeasureWeight.objects.filter(measure="dispatch").update(weight=10)
    roads = next(u for u in evaluate_month(NOVEMBER).units if u.name == "住建局")
    assert roads.score == round((2 / 3 + 0) / 2 * 100, 1) == 33.3


def test_the_command_writes_a_pdf_that_reads_back_and_an_excel_with_the_rows(month, tmp_path):
    out = io.StringIO()
    call_command("monthlyreport", "2026-11", "--out", str(tmp_path), stdout=out)
    pdf = tmp_path / "monthly-report-2026-11.pdf"
    text = "".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages)
    assert "月报 2026-11" in text
    assert "住建局" in text and "水务集团" in text and "66.7" in text and "100.0" in text
    assert "红榜" in text and "黄榜" in text
    book = openpyxl.load_workbook(tmp_path / "monthly-report-2026-11.xlsx")
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    by_name = {r[1]: r for r in rows[1:]}
    assert by_name["水务集团"][:3] == (1, "水务集团", 100.0)
    assert by_name["住建局"][:5] == (2, "住建局", 66.7, "D", "黄榜")
    assert len(rows) - 1 == len(evaluate_month(NOVEMBER).units)
    assert "red list 1, yellow list 1" in out.getvalue()


def test_the_page_shows_the_ranking_and_serves_the_report(month, client):
    assert client.login(username="leader", password=PASSWORD)
    page = client.get("/ranking/?month=2026-11")
    assert page.status_code == 200
    html = page.content.decode()
    assert "住建局" in html and "66.7" in html and "/ranking/2026-11/report.pdf" in html
    pdf = client.get("/ranking/2026-11/report.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    assert "水务集团" in pypdf.PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    xlsx = client.get("/ranking/2026-11/report.xlsx")
    assert openpyxl.load_workbook(io.BytesIO(xlsx.content)).worksheets[0].max_row >= 3
    refused = client.get("/ranking/?month=2026-13")
    assert refused.status_code == 422 and 'aria-invalid="true"' in refused.content.decode()
    client.logout()
    assert client.login(username="roads", password=PASSWORD)
    assert client.get("/ranking/").status_code == 403
