"""Typical cases (典型案例): a closed case is nominated, the centre's editor writes it up with
personal data removed and picks the photos before and after, another person of the centre
approves it, and it appears on the public page, which shows none of the requester's data."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from minsheng.cases import actions as cases
from minsheng.cases.errors import Conflict, Forbidden, Invalid
from minsheng.cases.models import CaseEvent
from minsheng.media.actions import attach_photo
from minsheng.media.models import PhotoSource
from minsheng.typical import actions
from minsheng.typical.models import TypicalState
from minsheng.typical.redact import leaks, redact
from tests.common.factories import PASSWORD, intake

pytestmark = pytest.mark.django_db

NAME, PHONE, ADDRESS = "王小明", "13912345678", "东城街道人民路88号3幢"
TEXT = f"我是{NAME}，电话{PHONE}，{ADDRESS}门口井盖破了，身份证330482199001011234"


def jpeg(colour) -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (120, 90), colour).save(buf, "JPEG")
    return SimpleUploadedFile("p.jpg", buf.getvalue(), content_type="image/jpeg")


@pytest.fixture
def closed(city, now, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    case = intake(city, text=TEXT, name=NAME, phone=PHONE, address=ADDRESS)
    roads = city.actor("roads")
    before = attach_photo(roads, case.pk, jpeg((200, 30, 30)), source=PhotoSource.FIELD)
    cases.sign_case(roads, case.pk)
    cases.dispatch_case(roads, case.pk, people=["抢修一班"])
    after = attach_photo(roads, case.pk, jpeg((30, 200, 30)), source=PhotoSource.FIELD)
    cases.feedback_case(roads, case.pk, note="井盖已更换")
    cases.close_case(city.actor("dispatcher"), case.pk)
    case.refresh_from_db()
    return case, before, after


def test_redaction_removes_the_requesters_data_and_keeps_dates():
    class C:
        requester_name, requester_phone, address, place_id, place = NAME, PHONE, ADDRESS, None, None

    text = redact(f"{TEXT}，2026-11-23 修复", C())  # type: ignore[arg-type]
    assert NAME not in text and PHONE not in text and ADDRESS not in text
    assert "330482199001011234" not in text and "139****5678" in text and "2026-11-23" in text
    assert leaks(text, C()) == []  # type: ignore[arg-type]


def test_from_nomination_to_the_public_page_without_personal_data(city, closed, client):
    case, before, after = closed
    typical = actions.nominate(city.actor("roads"), case.pk, reason="当天修复")
    assert CaseEvent.objects.filter(case=case, action="typical_nominated").exists()
    assert 'class="card typical"' not in client.get("/typical-cases/").content.decode()
    editor = city.actor("admin")  # an editor who may also approve, but not their own words
    actions.prepare(
        editor,
        typical.pk,
        title=f"{NAME}反映的井盖当天修好",
        story=f"市民{NAME}（{PHONE}）反映{ADDRESS}门口井盖破损。住建局当天更换井盖。",
        before_photo=before.pk,
        after_photo=after.pk,
    )
    with pytest.raises(Forbidden):  # the editor does not approve their own words
        actions.approve(editor, typical.pk)
    published = actions.approve(city.actor("leader"), typical.pk)
    assert published.state == TypicalState.PUBLISHED
    assert CaseEvent.objects.filter(case=case, action="typical_published").exists()

    listing = client.get("/typical-cases/").content.decode()
    page = client.get(f"/typical-cases/{typical.pk}/").content.decode()
    assert "井盖当天修好" in listing and "住建局当天更换井盖" in page
    for html in (listing, page):
        assert NAME not in html and PHONE not in html and PHONE[-4:] + "，" not in html
        assert "人民路88号" not in html and "330482199001011234" not in html
        assert case.number not in html and case.public_token not in html
    shown = client.get(f"/typical-cases/{typical.pk}/photo/before/")
    assert shown.status_code == 200 and shown["Content-Type"] == "image/jpeg"
    assert client.get(f"/typical-cases/{typical.pk}/photo/other/").status_code == 404


def test_only_closed_cases_once_and_only_the_cases_own_photos(city, now, closed):
    case, _before, _after = closed
    open_case = intake(city)
    with pytest.raises(Conflict):
        actions.nominate(city.actor("dispatcher"), open_case.pk)
    typical = actions.nominate(city.actor("dispatcher"), case.pk)
    with pytest.raises(Conflict):
        actions.nominate(city.actor("roads"), case.pk)
    other_photo = attach_photo(city.actor("roads"), open_case.pk, jpeg((0, 0, 200)))
    with pytest.raises(Invalid) as refused:
        actions.prepare(
            city.actor("dispatcher"), typical.pk, title="t", story="s", before_photo=other_photo.pk
        )
    assert refused.value.field == "before_photo"
    with pytest.raises(Forbidden):
        actions.prepare(city.actor("roads"), typical.pk, title="t", story="s")


def test_an_unpublished_or_withdrawn_case_is_not_public(city, closed, client):
    case, before, _after = closed
    typical = actions.nominate(city.actor("dispatcher"), case.pk)
    actions.prepare(
        city.actor("dispatcher"), typical.pk, title="井盖修好", story="当天修好", before_photo=before.pk
    )
    assert client.get(f"/typical-cases/{typical.pk}/").status_code == 404
    assert client.get(f"/typical-cases/{typical.pk}/photo/before/").status_code == 404
    actions.approve(city.actor("leader"), typical.pk)
    assert client.get(f"/typical-cases/{typical.pk}/").status_code == 200
    actions.withdraw(city.actor("leader"), typical.pk)
    assert client.get(f"/typical-cases/{typical.pk}/").status_code == 404
    assert client.get(f"/typical-cases/{typical.pk}/photo/before/").status_code == 404


def test_the_staff_pages_nominate_by_number_and_refuse_with_the_field(city, closed, client):
    case, _before, _after = closed
    assert client.login(username="dispatcher", password=PASSWORD)
    panel = client.get(reverse("web:case", args=[case.pk])).content.decode()
    assert 'id="typical-panel"' in panel and 'name="reason"' in panel  # nominate from the case page
    refused = client.post("/typical/nominate/", {"number": "MS0000", "reason": "好案例"})
    assert refused.status_code == 422
    html = refused.content.decode()
    assert 'aria-invalid="true"' in html and "好案例" in html
    done = client.post("/typical/nominate/", {"number": case.number, "reason": "好案例"})
    assert done.status_code == 302
    page = client.get(done["Location"]).content.decode()
    assert 'name="story"' in page
    empty = client.post(done["Location"] + "prepare/", {"title": "", "story": "当天修好"})
    assert empty.status_code == 422 and "当天修好" in empty.content.decode()
