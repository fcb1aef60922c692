"""The public follow page under attack: a merged duplicate's requester, guessers, and the
log of who asked for what. Browser-free (Django's test client)."""

from __future__ import annotations

import re

from django.test import Client
from django.urls import reverse

from minsheng.cases import actions
from minsheng.cases.states import State
from minsheng.notify import delivery
from minsheng.notify.models import OutboxMessage
from tests.common.factories import intake

ADDRESS = "东城A村新华路12号楼下"
FLAT = "3幢2单元501室"


def text_of(response) -> str:
    return response.content.decode()


# --- a merged requester sees the progress, never the other requester's --------------------


def test_a_stranger_merged_into_a_case_sees_its_progress_and_nothing_of_its_requester(city, now, settings):
    settings.MINSHENG_PUBLIC_URL = "https://12345.example.gov.cn/"
    manhole = city.matters["road.manhole"]
    manhole.duplicate_radius_m, manhole.duplicate_window_hours = 50, 24
    manhole.save()
    original = intake(
        city, phone="13857301234", name="沈师傅", address=ADDRESS, text=f"井盖破了，就在我家{FLAT}楼下"
    )
    now.advance(minutes=20)
    # A stranger reports the same matter at the same address within the hour: merged with
    # no human step.
    stranger = intake(city, phone="13900001111", name="李四", address=ADDRESS, text="新华路井盖坏了")
    stranger.refresh_from_db()
    assert stranger.state == State.CLOSED and stranger.merged_into_id == original.pk

    # What the stranger is sent links to the stranger's own page, never the original's.
    sent = OutboxMessage.objects.filter(phone="13900001111")
    assert sent.filter(kind="case_merged").exists()
    for message in sent:
        body = delivery.render(message).body
        assert original.public_token not in body and original.public_token not in str(message.context)
    merged_text = delivery.render(sent.get(kind="case_merged")).body
    assert f"/track/{stranger.public_token}/" in merged_text

    # The original is handled; the unit's feedback names the flat, and there is a site photo.
    if original.owner_unit is None:
        actions.assign_case(city.actor("dispatcher"), original.pk, unit_id=city.units["roads"].pk)
    roads = city.actor("roads")
    actions.sign_case(roads, original.pk)
    actions.dispatch_case(roads, original.pk, people=["field_roads"])
    original = actions.feedback_case(roads, original.pk, note=f"已到{FLAT}门口更换井盖")

    c = Client()
    found = c.post(reverse("web:track"), {"number": stranger.number, "digits": "1111"})
    assert found.status_code == 302 and found.url == reverse("web:track_token", args=[stranger.public_token])
    page = text_of(c.get(found.url))
    # The progress of the case it was merged into …
    assert "已与此前同一问题的反映合并" in page and "承办单位已答复办理结果。" in page
    assert "住建局" in page
    # … and nothing of the original requester's: no link, no identity, no feedback, no rating.
    secrets = (original.public_token, original.text, "沈师傅", "13857301234", "7301234", FLAT, "更换井盖")
    for secret in secrets:
        assert secret not in page, secret
    assert 'name="rating"' not in page
    assert re.search(r'href="/track/(?!' + re.escape(stranger.public_token) + r")[^\"]+/\"", page) is None

    # Posting a rating to the stranger's own page rates nothing.
    posted = c.post(found.url, {"rating": "unsatisfied", "note": "不满意", "version": original.version})
    assert posted.status_code == 409
    original.refresh_from_db()
    assert original.state == State.FEEDBACK and original.rating == "" and original.reopen_count == 0

    # The original's requester still rates on their own page; the stranger then sees it done.
    own = c.get(reverse("web:track_token", args=[original.public_token]))
    assert FLAT in text_of(own) and 'name="rating"' in text_of(own)
    actions.close_case(city.actor("dispatcher"), original.pk)
    page = text_of(c.get(found.url))
    assert "您的诉求已办结。" in page
    for secret in (original.public_token, "沈师傅", FLAT):
        assert secret not in page
