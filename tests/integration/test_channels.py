"""Each channel against a local receiver that checks what the real service checks: the
DingTalk/浙政钉 加签 signature and timestamp, WeCom's key and text shape, the webhook's
HMAC, the SMS gateway's credentials. Loopback only; no database needed."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

import pytest

from minsheng.notify import channels
from minsheng.notify.channels import (
    ChannelError,
    DingTalkRobot,
    HttpSms,
    LoggingSms,
    Rendered,
    SmsChannel,
    Webhook,
    WeComRobot,
    ZzdRobot,
    dingtalk_sign,
    for_unit_channel,
    webhook_signature,
)
from minsheng.notify.models import OutboxMessage, UnitChannel
from minsheng.notify.testing import Receiver


@pytest.fixture(autouse=True)
def _loopback_receivers_allowed(settings, monkeypatch):
    """The receivers listen on loopback, which a unit's channel may not reach unless the city
    allows it (``notify/addresses.py``); the worker processes started here read it too."""
    settings.MINSHENG_NOTIFY_ALLOWED_NETWORKS = "127.0.0.0/8"
    monkeypatch.setenv("MINSHENG_NOTIFY_ALLOWED_NETWORKS", "127.0.0.0/8")


SECRET = "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"
TEXT = Rendered(
    title="新工单 MS20261123-0001",
    body="人行道井盖破损，请在1分钟内签收。",
    url="https://minsheng.example/cases/1/",
)


def _message(pk: int = 42, kind: str = "case_assigned", phone: str = "") -> OutboxMessage:
    at = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
    return OutboxMessage(
        pk=pk,
        kind=kind,
        audience="unit",
        phone=phone,
        context={"number": "MS20261123-0001"},
        created_at=at,
        next_attempt_at=at,
    )


# --- DingTalk and 浙政钉 -----------------------------------------------------------------


def test_dingtalk_sign_is_the_documented_formula():
    # base64(HmacSHA256(key=secret, msg=timestamp + "\n" + secret)), as DingTalk documents.
    ts = 1700000000000
    expected = base64.b64encode(
        hmac.new(SECRET.encode("utf-8"), f"{ts}\n{SECRET}".encode(), hashlib.sha256).digest()
    ).decode()
    assert dingtalk_sign(SECRET, ts) == expected
    url = DingTalkRobot("https://oapi.dingtalk.com/robot/send?access_token=abc", SECRET).signed_url(ts)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert query == {"access_token": ["abc"], "timestamp": [str(ts)], "sign": [expected]}
    # The sign is URL-encoded in the query string: '+', '/' and '=' never appear raw.
    raw_sign = url.split("sign=", 1)[1]
    assert not set("+/=") & set(raw_sign)


@pytest.mark.parametrize("kind, cls", [("dingtalk", DingTalkRobot), ("zzd", ZzdRobot)])
def test_dingtalk_style_robot_is_taken_when_signed_right(kind, cls):
    with Receiver(kind, secret=SECRET) as rx:
        cls(rx.url, SECRET).send(TEXT, _message(42))
        assert rx.refused == []
        (got,) = rx.received
        assert got.payload["msgtype"] == "text"
        content = got.payload["text"]["content"]
        assert content.startswith(TEXT.title) and TEXT.body in content
        assert "#42" in content  # the visible reference people can spot a repeat by
        assert got.headers["x-minsheng-message-id"] == "42"
        assert rx.counts() == {"42": 1}


def test_dingtalk_wrong_secret_is_refused_with_errcode():
    with Receiver("dingtalk", secret=SECRET) as rx:
        with pytest.raises(ChannelError, match="310000"):
            DingTalkRobot(rx.url, "SECwrong").send(TEXT, _message())
        assert rx.received == [] and rx.refused == ["sign"]


def test_dingtalk_unsigned_request_to_a_signing_robot_is_refused():
    with Receiver("dingtalk", secret=SECRET) as rx, pytest.raises(ChannelError, match="310000"):
        DingTalkRobot(rx.url, "").send(TEXT, _message())


def test_dingtalk_rate_limit_answer_is_a_failure():
    with Receiver("dingtalk", secret=SECRET) as rx:
        rx.fail_next = 1
        with pytest.raises(ChannelError, match="130101"):
            DingTalkRobot(rx.url, SECRET).send(TEXT, _message())
        DingTalkRobot(rx.url, SECRET).send(TEXT, _message())
        assert rx.counts() == {"42": 1}


# --- WeCom ------------------------------------------------------------------------------


def test_wecom_robot_posts_text_to_the_key_url():
    with Receiver("wecom") as rx:
        WeComRobot(rx.url).send(TEXT, _message(7))
        (got,) = rx.received
        assert got.payload == {"msgtype": "text", "text": {"content": got.payload["text"]["content"]}}
        assert TEXT.body in got.payload["text"]["content"]
        assert rx.counts() == {"7": 1}


def test_wecom_key_may_live_in_the_secret():
    with Receiver("wecom") as rx:
        bare = rx.url.split("?", 1)[0]
        WeComRobot(bare, Receiver.WECOM_KEY).send(TEXT, _message(8))
        assert rx.counts() == {"8": 1}
        with pytest.raises(ChannelError, match="93000"):
            WeComRobot(bare, "not-the-key").send(TEXT, _message(9))


def test_wecom_long_text_is_cut_to_2048_bytes():
    long = Rendered(title="长消息", body="井盖" * 2000)
    with Receiver("wecom") as rx:
        WeComRobot(rx.url).send(long, _message())
        content = rx.received[0].payload["text"]["content"]
        assert len(content.encode("utf-8")) <= 2048 and content.endswith("…")


def test_wecom_refusal_is_a_failure():
    with Receiver("wecom") as rx:
        rx.fail_always = True
        with pytest.raises(ChannelError, match="45009"):
            WeComRobot(rx.url).send(TEXT, _message())


# --- webhook ----------------------------------------------------------------------------


def test_webhook_is_signed_over_the_raw_body():
    with Receiver("webhook", secret="s3cret") as rx:
        Webhook(rx.url, "s3cret").send(TEXT, _message(11, kind="clock_breach"))
        assert rx.refused == []
        (got,) = rx.received
        assert got.payload["id"] == 11 and got.payload["kind"] == "clock_breach"
        assert got.payload["title"] == TEXT.title and got.payload["text"] == TEXT.body
        assert got.payload["context"] == {"number": "MS20261123-0001"}
        assert got.headers["x-minsheng-event"] == "clock_breach"
        assert got.headers["x-minsheng-message-id"] == "11"
        assert int(got.headers["x-minsheng-timestamp"]) == got.payload["timestamp"]


def test_webhook_signature_helper_matches_a_plain_hmac():
    body = json.dumps({"id": 1}).encode()
    assert webhook_signature("k", body) == "sha256=" + hmac.new(b"k", body, hashlib.sha256).hexdigest()


def test_webhook_with_the_wrong_secret_is_refused():
    with Receiver("webhook", secret="s3cret") as rx:
        with pytest.raises(ChannelError, match="HTTP 401"):
            Webhook(rx.url, "other").send(TEXT, _message())
        assert rx.received == []


def test_webhook_5xx_is_a_failure():
    with Receiver("webhook", secret="s") as rx:
        rx.fail_always = True
        with pytest.raises(ChannelError, match="HTTP 503"):
            Webhook(rx.url, "s").send(TEXT, _message())


# --- transport failures -----------------------------------------------------------------


def test_connection_refused_is_a_failure():
    with Receiver("webhook", secret="s") as rx:
        url = rx.url
    with pytest.raises(ChannelError):
        Webhook(url, "s").send(TEXT, _message())


def test_a_slow_service_times_out(settings):
    settings.MINSHENG_NOTIFY_HTTP_TIMEOUT = 0.2
    with Receiver("webhook", secret="s", delay=1.0) as rx, pytest.raises(ChannelError):
        Webhook(rx.url, "s").send(TEXT, _message())


class _Redirect(BaseHTTPRequestHandler):
    def do_POST(self):
        self.send_response(302)
        self.send_header("Location", "http://127.0.0.1:9/elsewhere")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_redirects_are_not_followed():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Redirect)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(ChannelError, match="HTTP 302"):
            Webhook(f"http://127.0.0.1:{server.server_address[1]}/", "s").send(TEXT, _message())
    finally:
        server.shutdown()
        server.server_close()


def test_non_http_urls_are_refused():
    with pytest.raises(ChannelError, match="non-HTTP"):
        channels.post_json("file:///etc/passwd", {})


def test_unit_channel_rows_map_to_their_adapter():
    unit_channel = UnitChannel(
        pk=3,
        kind="zzd",
        url="https://openplatform-pro.ding.zj.gov.cn/robot/send?access_token=x",
        secret=SECRET,
    )
    robot = for_unit_channel(unit_channel)
    assert isinstance(robot, ZzdRobot) and robot.key == "zzd:3"
    assert isinstance(for_unit_channel(UnitChannel(pk=4, kind="wecom", url="https://q/")), WeComRobot)
    assert isinstance(
        for_unit_channel(UnitChannel(pk=5, kind="webhook", url="https://w/", secret="s")), Webhook
    )


# --- SMS --------------------------------------------------------------------------------


def test_logging_sms_logs_a_masked_number(caplog):
    caplog.set_level(logging.INFO, logger="minsheng.notify")
    SmsChannel(LoggingSms()).send(TEXT, _message(5, phone="13812345678"))
    assert "138****5678" in caplog.text and "13812345678" not in caplog.text
    assert TEXT.body in caplog.text


def test_http_sms_sends_bearer_key_and_message_id():
    with Receiver("sms", sms_key="k-123") as rx:
        gateway = HttpSms(url=rx.url, key="k-123", sign_name="平湖民声")
        SmsChannel(gateway).send(TEXT, _message(6, phone="13812345678"))
        (got,) = rx.received
        assert got.payload == {"phone": "13812345678", "text": TEXT.body, "sign_name": "平湖民声", "id": "6"}
        with pytest.raises(ChannelError, match="HTTP 401"):
            HttpSms(url=rx.url, key="wrong").send_sms("13812345678", "x", message_id=7)


def test_http_sms_refusal_in_the_answer_is_a_failure():
    class Refusing(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            body = b'{"code": "isv.BUSINESS_LIMIT_CONTROL", "ok": false}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(ChannelError, match="refused"):
            HttpSms(url=f"http://127.0.0.1:{server.server_address[1]}/").send_sms(
                "13812345678", "x", message_id=1
            )
    finally:
        server.shutdown()
        server.server_close()


def test_sms_backend_comes_from_settings(settings):
    assert isinstance(channels.sms_gateway(), LoggingSms)
    settings.MINSHENG_SMS_BACKEND = "http"
    settings.MINSHENG_SMS_URL = "http://127.0.0.1:9/sms"
    settings.MINSHENG_SMS_KEY = "k"
    gateway = channels.sms_gateway()
    assert isinstance(gateway, HttpSms) and gateway.url == "http://127.0.0.1:9/sms" and gateway.key == "k"
    settings.MINSHENG_SMS_URL = ""
    with pytest.raises(ChannelError, match="MINSHENG_SMS_URL"):
        channels.sms_gateway()
