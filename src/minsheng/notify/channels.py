"""Channels: the one interface every way of telling someone goes through.

A channel's ``send(rendered, message)`` either returns (the channel took the message) or
raises :class:`ChannelError` (it did not; the worker retries later). Every external request
carries the outbox message id as its dedupe key (``X-Minsheng-Message-Id``, and in the body
where the receiver reads one), because delivery to external services is at-least-once:
see ``docs/notifications.md``.

HTTP goes through the standard library (``urllib``) with a timeout on every request and no
redirects followed (a redirected POST would silently turn into a GET).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from django.utils.module_loading import import_string

from minsheng.core import clock
from minsheng.core.conf import setting
from minsheng.core.phones import mask_phone

from . import addresses
from .models import Notification, OutboxMessage, UnitChannel

if TYPE_CHECKING:
    from collections.abc import Iterable

log = logging.getLogger("minsheng.notify")

USER_AGENT = "Minsheng-Notify/1"
MAX_RESPONSE_BYTES = 64 * 1024


class ChannelError(Exception):
    """The channel did not take the message; worth retrying later."""


@dataclass(frozen=True)
class Rendered:
    """A message's text, rendered from its template."""

    title: str
    body: str
    url: str = ""  # a link for people: absolute when MINSHENG_PUBLIC_URL is set
    path: str = ""  # the same link as a path on this site, for in-app notifications

    @property
    def text(self) -> str:
        """Title and body as one plain text, for group robots."""
        return f"{self.title}\n{self.body}" if self.title else self.body


class Channel(Protocol):
    """What the delivery loop needs from a channel."""

    key: str  # stable name of this destination, recorded per delivered message

    def send(self, rendered: Rendered, message: OutboxMessage) -> None: ...


def http_timeout() -> float:
    return float(setting("MINSHENG_NOTIFY_HTTP_TIMEOUT", 10.0))


# --- HTTP -------------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a 3xx surfaces as an HTTPError, i.e. a failed delivery


class _PublicHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = addresses.connect_public


class _PublicHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = addresses.connect_public


class _PublicHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_PublicHTTPConnection, req)


class _PublicHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(_PublicHTTPSConnection, req, context=self._context)


_opener = urllib.request.build_opener(_NoRedirect)
# For the URLs administrators type (group robots, webhooks): connections only to public
# addresses, checked on the address actually connected to (notify/addresses.py).
_public_opener = urllib.request.build_opener(_NoRedirect, _PublicHTTPHandler, _PublicHTTPSHandler)


def post_json(
    url: str,
    payload: Any,
    *,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    timeout: float | None = None,
    public_only: bool = False,
) -> tuple[int, bytes]:
    """POST ``payload`` as UTF-8 JSON (or the exact ``body`` given); the status and at most
    64 KiB of the response. Raises :class:`ChannelError` on anything but a 2xx, and, with
    ``public_only``, when the host is an internal address (nothing is sent to it)."""
    if not url.lower().startswith(("https://", "http://")):
        raise ChannelError(f"refusing a non-HTTP URL: {url.split(':', 1)[0]}:")
    data = body if body is not None else json.dumps(payload, ensure_ascii=False).encode()
    request = urllib.request.Request(url, data=data, method="POST")  # noqa: S310 (scheme checked)
    request.add_header("Content-Type", "application/json; charset=utf-8")
    request.add_header("User-Agent", USER_AGENT)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        opener = _public_opener if public_only else _opener
        with opener.open(request, timeout=timeout or http_timeout()) as response:
            return response.status, response.read(MAX_RESPONSE_BYTES)
    except urllib.error.HTTPError as exc:
        snippet = exc.read(300).decode("utf-8", "replace") if exc.fp else ""
        raise ChannelError(f"HTTP {exc.code} {snippet}".strip()) from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ChannelError(f"{type(exc).__name__}: {reason}") from exc


def _errcode_ok(raw: bytes, service: str) -> None:
    """DingTalk and WeCom answer HTTP 200 even when they refuse: the verdict is the JSON's
    ``errcode`` (0 = taken)."""
    try:
        answer = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ChannelError(f"{service}: answer is not JSON: {raw[:200]!r}") from exc
    if not isinstance(answer, dict) or answer.get("errcode") != 0:
        code = answer.get("errcode") if isinstance(answer, dict) else None
        msg = answer.get("errmsg") if isinstance(answer, dict) else answer
        raise ChannelError(f"{service} errcode {code}: {msg}")


def _with_query(url: str, **params: str) -> str:
    """``url`` with ``params`` appended to its query string (the URL as configured keeps its
    own parameters, such as ``access_token``, untouched)."""
    joiner = "&" if urllib.parse.urlsplit(url).query else ("" if url.endswith("?") else "?")
    return url + joiner + urllib.parse.urlencode(params)


def _truncate_utf8(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[: limit - 3].decode("utf-8", "ignore") + "…"


def robot_text(rendered: Rendered, message: OutboxMessage) -> str:
    """What a group robot posts: the text plus a visible message reference, so that people
    in the group can tell a rare duplicate (see the module docstring) from a new message."""
    return f"{rendered.text}\n〔民声消息 #{message.pk}〕"


# --- group robots -----------------------------------------------------------------------


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's 加签: ``base64(HmacSHA256(key=secret, msg=f"{timestamp}\\n{secret}"))``,
    UTF-8 throughout, URL-encoded when put in the query string (``urlencode`` does that).

    Documented in "自定义机器人安全设置" (https://open.dingtalk.com/document/robots/
    customize-robot-security-settings): the timestamp is in milliseconds and must be within
    one hour of DingTalk's clock; a mismatch answers ``errcode`` 310000 ("sign not match").
    """
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


class DingTalkRobot:
    """A DingTalk (钉钉) custom group robot (自定义机器人).

    POST ``{"msgtype": "text", "text": {"content": …}}`` to the robot's webhook URL
    (``https://oapi.dingtalk.com/robot/send?access_token=…``), adding ``&timestamp=<ms>&sign=…``
    when the robot uses 加签; the answer is ``{"errcode": 0, "errmsg": "ok"}`` when taken
    ("自定义机器人发送群聊消息", https://open.dingtalk.com/document/robots/custom-robot-access).
    A robot takes at most 20 messages a minute; beyond that DingTalk refuses with a non-zero
    ``errcode`` and the worker's back-off retries later.

    The robot API has no idempotency key: a repeated POST shows twice in the group. The
    signature timestamp is wall time (``time.time()``), not the business clock, because
    DingTalk checks it against its own clock.
    """

    service = "DingTalk"

    def __init__(self, url: str, secret: str = "", *, key: str = "") -> None:
        self.url, self.secret = url, secret
        self.key = key or f"{type(self).__name__}:{url}"

    def signed_url(self, timestamp_ms: int | None = None) -> str:
        if not self.secret:
            return self.url
        ts = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
        return _with_query(self.url, timestamp=str(ts), sign=dingtalk_sign(self.secret, ts))

    def send(self, rendered: Rendered, message: OutboxMessage) -> None:
        payload = {"msgtype": "text", "text": {"content": robot_text(rendered, message)}}
        _status, raw = post_json(
            self.signed_url(), payload, headers={"X-Minsheng-Message-Id": str(message.pk)}, public_only=True
        )
        _errcode_ok(raw, self.service)


class ZzdRobot(DingTalkRobot):
    """A 浙政钉 (Zhejiang's government DingTalk, 专有钉钉) group robot.

    Same protocol as :class:`DingTalkRobot`: the webhook is
    ``https://openplatform-pro.ding.zj.gov.cn/robot/send?access_token=…`` with an ``SEC…``
    加签 secret, and public client code drives it with DingTalk's own robot SDK
    (``OapiRobotSendRequest``) and DingTalk's signing. No public official document for the
    浙政钉 robot was found, so use the admin's "send a test message" on a new 浙政钉 channel
    before relying on it.
    """

    service = "浙政钉"


class WeComRobot:
    """A WeCom (企业微信) group robot (群机器人).

    POST ``{"msgtype": "text", "text": {"content": …}}`` to
    ``https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…``; the answer is
    ``{"errcode": 0, "errmsg": "ok"}`` when taken ("群机器人配置说明",
    https://developer.work.weixin.qq.com/document/path/91770). Text content is at most 2048
    UTF-8 bytes (longer text is cut here), at most 20 messages a minute per robot. There is
    no signing: the ``key`` in the URL is the secret; a unit may keep it in the channel's
    secret instead, and it is appended here. No idempotency key either.
    """

    service = "WeCom"
    MAX_BYTES = 2048

    def __init__(self, url: str, secret: str = "", *, key: str = "") -> None:
        has_key = "key" in urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        self.url = url if has_key or not secret else _with_query(url, key=secret)
        self.key = key or f"WeComRobot:{url}"

    def send(self, rendered: Rendered, message: OutboxMessage) -> None:
        content = _truncate_utf8(robot_text(rendered, message), self.MAX_BYTES)
        payload = {"msgtype": "text", "text": {"content": content}}
        _status, raw = post_json(
            self.url, payload, headers={"X-Minsheng-Message-Id": str(message.pk)}, public_only=True
        )
        _errcode_ok(raw, self.service)


# --- a city's own platform --------------------------------------------------------------


def webhook_signature(secret: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256(secret, raw body)>``, as in ``X-Minsheng-Signature``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_payload(rendered: Rendered, message: OutboxMessage, timestamp: int) -> dict[str, Any]:
    """The JSON a webhook receives. ``id`` is the dedupe key; ``timestamp`` repeats the
    header so that the signature (over the raw body) covers it and a receiver can refuse
    replays."""
    return {
        "id": message.pk,
        "kind": message.kind,
        "audience": message.audience,
        "unit": message.unit.code if message.unit_id and message.unit else None,
        "case": message.case.number if message.case_id and message.case else None,
        "title": rendered.title,
        "text": rendered.body,
        "url": rendered.url,
        "context": message.context,
        "created_at": message.created_at.isoformat() if message.created_at else None,
        "attempt": message.attempts + 1,
        "timestamp": timestamp,
    }


class Webhook:
    """A generic webhook for a city's own platform: a JSON POST signed with HMAC-SHA256.

    Headers: ``X-Minsheng-Signature: sha256=<hex>`` (HMAC-SHA256 of the raw body with the
    channel's secret), ``X-Minsheng-Timestamp`` (Unix seconds, also in the body),
    ``X-Minsheng-Message-Id`` (the dedupe key: a receiver that has seen it answers 2xx
    and ignores the repeat), ``X-Minsheng-Event`` (the kind). Any 2xx is success.
    """

    def __init__(self, url: str, secret: str, *, key: str = "") -> None:
        self.url, self.secret = url, secret
        self.key = key or f"Webhook:{url}"

    def send(self, rendered: Rendered, message: OutboxMessage) -> None:
        ts = int(time.time())
        body = json.dumps(
            webhook_payload(rendered, message, ts), ensure_ascii=False, separators=(",", ":"), sort_keys=True
        ).encode()
        post_json(
            self.url,
            None,
            body=body,
            headers={
                "X-Minsheng-Signature": webhook_signature(self.secret, body),
                "X-Minsheng-Timestamp": str(ts),
                "X-Minsheng-Message-Id": str(message.pk),
                "X-Minsheng-Event": message.kind,
            },
            public_only=True,
        )


def for_unit_channel(channel: UnitChannel) -> Channel:
    """The channel object for a unit's configured robot or webhook."""
    classes: dict[str, type] = {
        "dingtalk": DingTalkRobot,
        "zzd": ZzdRobot,
        "wecom": WeComRobot,
        "webhook": Webhook,
    }
    try:
        cls = classes[channel.kind]
    except KeyError as exc:
        raise ChannelError(f"unknown channel kind {channel.kind!r}") from exc
    return cls(channel.url, channel.secret, key=channel.key)


# --- SMS --------------------------------------------------------------------------------


class SmsGateway(Protocol):
    """Sends one text message to one phone number; raises :class:`ChannelError` if the
    gateway did not accept it. ``message_id`` is the dedupe key (most gateways take one,
    e.g. as ``OutId``)."""

    def send_sms(self, phone: str, text: str, *, message_id: int) -> None: ...


class LoggingSms:
    """The default gateway: writes the masked number and the text to the log. Right for
    development and for a city that has not contracted an SMS provider yet."""

    def send_sms(self, phone: str, text: str, *, message_id: int) -> None:
        log.info("SMS #%s to %s: %s", message_id, mask_phone(phone), text)


class HttpSms:
    """An SMS provider behind an HTTP API, configured in settings: ``MINSHENG_SMS_URL``,
    ``MINSHENG_SMS_KEY`` (sent as ``Authorization: Bearer …``), optionally
    ``MINSHENG_SMS_SECRET`` (HMAC-SHA256 of the body in ``X-Minsheng-Signature``, like the
    webhook) and ``MINSHENG_SMS_SIGN_NAME`` (the 短信签名, e.g. ``平湖民声``).

    Posts ``{"phone", "text", "sign_name", "id"}``; success is a 2xx whose JSON, if any,
    does not say otherwise (``"ok": false`` or a ``code`` other than 0/"0"/"OK").
    Providers with another shape get a small subclass, chosen by ``MINSHENG_SMS_BACKEND``.
    """

    def __init__(
        self,
        url: str | None = None,
        key: str | None = None,
        secret: str | None = None,
        sign_name: str | None = None,
    ) -> None:
        self.url = url if url is not None else setting("MINSHENG_SMS_URL", "")
        self.key = key if key is not None else setting("MINSHENG_SMS_KEY", "")
        self.secret = secret if secret is not None else setting("MINSHENG_SMS_SECRET", "")
        self.sign_name = sign_name if sign_name is not None else setting("MINSHENG_SMS_SIGN_NAME", "")
        if not self.url:
            raise ChannelError("MINSHENG_SMS_URL is not set")

    def send_sms(self, phone: str, text: str, *, message_id: int) -> None:
        body = json.dumps(
            {"phone": phone, "text": text, "sign_name": self.sign_name, "id": str(message_id)},
            ensure_ascii=False,
        ).encode()
        headers = {"X-Minsheng-Message-Id": str(message_id)}
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        if self.secret:
            headers["X-Minsheng-Signature"] = webhook_signature(self.secret, body)
        _status, raw = post_json(self.url, None, body=body, headers=headers)
        try:
            answer = json.loads(raw.decode("utf-8")) if raw.strip() else {}
        except (UnicodeDecodeError, ValueError):
            return  # a 2xx without JSON: taken
        refused = isinstance(answer, dict) and (
            answer.get("ok") is False or answer.get("code", 0) not in (0, "0", "OK", "ok")
        )
        if refused:
            raise ChannelError(f"SMS gateway refused: {answer}")


SMS_BACKENDS = {"logging": LoggingSms, "http": HttpSms}


def sms_gateway() -> SmsGateway:
    """The configured gateway: ``MINSHENG_SMS_BACKEND`` = ``logging`` (default), ``http``,
    or the dotted path of a class."""
    name = setting("MINSHENG_SMS_BACKEND", "logging")
    cls = SMS_BACKENDS.get(name) or import_string(name)
    return cls()


class SmsChannel:
    """Requesters are told by SMS: the body only (SMS is paid by length)."""

    key = "sms"

    def __init__(self, gateway: SmsGateway | None = None) -> None:
        self.gateway = gateway

    def send(self, rendered: Rendered, message: OutboxMessage) -> None:
        if not message.phone:
            raise ChannelError("no phone number")
        (self.gateway or sms_gateway()).send_sms(message.phone, rendered.body, message_id=message.pk)


# --- in-app -----------------------------------------------------------------------------


class InAppChannel:
    """Notifications behind the bell, one per recipient. Runs inside the transaction that
    records the delivery and marks the message sent, and the (user, message) unique
    constraint makes a repeat a no-op: exactly once."""

    key = "inapp"

    def __init__(self, user_ids: Iterable[int], *, at: Any = None) -> None:
        self.user_ids = sorted(set(user_ids))
        self.at = at

    def send(self, rendered: Rendered, message: OutboxMessage) -> None:
        at = self.at or clock.now()
        Notification.objects.bulk_create(
            [
                Notification(
                    user_id=uid,
                    message=message,
                    title=rendered.title[:200],
                    body=rendered.body,
                    url=(rendered.path or rendered.url)[:500],
                    created_at=at,
                )
                for uid in self.user_ids
            ],
            ignore_conflicts=True,
        )
