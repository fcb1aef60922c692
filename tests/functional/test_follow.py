"""The public follow page under attack: a merged duplicate's requester, guessers, and the
log of who asked for what. Browser-free (Django's test client)."""

from __future__ import annotations

import re
import threading

import pytest
from django.db import connection
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


# --- the follow page's guess limit: atomic, per client and per case ------------------------

THROTTLED = "尝试次数过多"
NOT_FOUND = "track-not-found"


def guess(number: str, *, ip: str = "192.0.2.1", forwarded: str = "", digits: str = "0000", client=None):
    headers = {"REMOTE_ADDR": ip}
    if forwarded:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return (client or Client()).post(reverse("web:track"), {"number": number, "digits": digits}, **headers)


def answer(response) -> str:
    body = text_of(response)
    return "throttled" if THROTTLED in body else "not found" if NOT_FOUND in body else "other"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("who", "limit"),
    [("one address, many numbers", 20), ("many addresses, one number", 10)],
)
def test_concurrent_guesses_never_pass_the_limit(city, now, who, limit):
    """32 look-ups at once get exactly the limit's guesses, not more: 20 for one client,
    10 for one case number."""
    case = intake(city, phone="13812345678")
    start = threading.Barrier(32)
    answers: list[str] = []

    def one(i: int) -> None:
        try:
            start.wait(10)
            if who.startswith("one address"):
                answers.append(answer(guess(f"{case.number}{i}")))
            else:
                answers.append(answer(guess(case.number, ip=f"198.51.100.{i}")))
        finally:
            connection.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert answers.count("not found") == limit
    assert answers.count("throttled") == 32 - limit


def test_guesses_at_one_case_are_limited_across_addresses(city, now):
    """Many addresses guessing one case's digits are stopped by the case's own limit; other
    cases and the same addresses elsewhere are not."""
    case = intake(city, phone="13812345678")
    answers = [answer(guess(case.number, ip=f"198.51.100.{i}", digits=f"{i:04d}")) for i in range(1, 31)]
    assert "throttled" in answers
    assert answers.count("not found") <= 10
    # Even the right digits are refused now: the case's limit holds for everyone.
    assert answer(guess(case.number, ip="203.0.113.50", digits="5678")) == "throttled"
    # Another case from the same address is looked up as usual.
    other = intake(city, phone="13900002222", point="west.a")
    found = guess(other.number, ip="198.51.100.1", digits="2222")
    assert found.status_code == 302 and other.public_token in found.url
    # A day later the case is open to look-ups again.
    now.advance(hours=25)
    assert guess(case.number, ip="203.0.113.50", digits="5678").status_code == 302


def test_one_client_is_limited_across_cases_and_found_look_ups_do_not_count(city, now):
    case = intake(city, phone="13812345678")
    for i in range(19):
        assert answer(guess(f"MS{i}", ip="192.0.2.9")) == "not found"
    # The requester who knows their digits is not counted against their address.
    assert guess(case.number, ip="192.0.2.9", digits="5678").status_code == 302
    assert answer(guess("MS100", ip="192.0.2.9")) == "not found"
    assert answer(guess("MS101", ip="192.0.2.9")) == "throttled"
    assert answer(guess("MS102", ip="192.0.2.10")) == "not found"
    now.advance(minutes=16)
    assert answer(guess("MS103", ip="192.0.2.9")) == "not found"


def test_behind_a_trusted_proxy_each_person_is_counted_by_their_own_address(city, now, settings):
    settings.MINSHENG_TRUSTED_PROXIES = ["10.0.0.0/8"]
    proxy = "10.1.1.1"
    for i in range(20):
        assert answer(guess(f"MS{i}", ip=proxy, forwarded="203.0.113.7")) == "not found"
    assert answer(guess("MS50", ip=proxy, forwarded="203.0.113.7")) == "throttled"
    # Someone else behind the same proxy is not locked out with them …
    assert answer(guess("MS51", ip=proxy, forwarded="198.51.100.9")) == "not found"
    # … and the locked-out one cannot slip out by writing another address in front: the
    # address the proxy saw is the right-most one it did not add itself.
    assert answer(guess("MS52", ip=proxy, forwarded="192.0.2.200, 203.0.113.7")) == "throttled"
    assert answer(guess("MS53", ip=proxy, forwarded="192.0.2.200, 203.0.113.7, 10.2.2.2")) == "throttled"


def test_a_forwarded_header_from_an_untrusted_address_is_ignored(city, now, settings):
    settings.MINSHENG_TRUSTED_PROXIES = ["10.0.0.0/8"]
    for i in range(20):
        assert answer(guess(f"MS{i}", ip="192.0.2.66", forwarded=f"203.0.113.{i}")) == "not found"
    assert answer(guess("MS50", ip="192.0.2.66", forwarded="198.51.100.77")) == "throttled"


# --- follow tokens never reach a log ------------------------------------------------------


def test_the_access_log_of_minsheng_serve_never_holds_a_follow_token():
    import datetime as dt
    import io
    import logging
    from types import SimpleNamespace

    from gunicorn.config import Config

    from minsheng.core.management.commands import serve

    cfg = Config()
    serve.configure(cfg, host="127.0.0.1", port=8000, workers=1, threads=1)
    logger = cfg.logger_class(cfg)
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    logger.access_log.handlers = [handler]
    token = "Zq3vY0sPp1Wb9xKcT4mNaA"
    cfg.set("access_log_format", cfg.access_log_format + ' "%({referer}i)s" %(U)s')
    for path in (f"/track/{token}/", f"/track/{token}/photos/7/thumb/", f"/report/sent/{token}/"):
        environ = {
            "REQUEST_METHOD": "GET",
            "RAW_URI": path,
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "192.0.2.1",
            "HTTP_REFERER": f"https://12345.example.gov.cn/track/{token}/",
            "HTTP_USER_AGENT": "phone",
        }
        request = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])
        response = SimpleNamespace(status="200 OK", sent=512, headers=[])
        logger.access(response, request, environ, dt.timedelta(milliseconds=12))
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert all("/track/" in line or "/report/sent/" in line for line in lines)
    assert token not in out.getvalue()
    assert "/track/[hidden]/photos/7/thumb/" in lines[1]


def test_django_log_lines_never_hold_a_follow_token(city, now):
    import io
    import logging

    from minsheng.core.redact import RedactTokens

    handlers = [
        h for h in logging.getLogger().handlers if any(isinstance(f, RedactTokens) for f in h.filters)
    ]
    assert handlers, "the console handler hides tokens"
    case = intake(city, phone="13812345678")
    out = io.StringIO()
    old = handlers[0].setStream(out)  # type: ignore[attr-defined]
    try:
        missing = Client().get(reverse("media:public_photo", args=[case.public_token, 999_999]))
    finally:
        handlers[0].setStream(old)  # type: ignore[attr-defined]
    assert missing.status_code == 404
    assert "Not Found: /track/[hidden]/photos/999999/" in out.getvalue()
    assert case.public_token not in out.getvalue()
