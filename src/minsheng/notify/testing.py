"""Local stand-ins for the services Minsheng posts to, for tests and benchmarks.

Each :class:`Receiver` listens on 127.0.0.1 (a free port) and checks a request the way the
real service does before it takes it: DingTalk/浙政钉 recompute the 加签 ``sign`` from
``timestamp`` and the secret and refuse a stale timestamp (``errcode`` 310000), WeCom checks
the ``key`` and the text message's shape and size, the webhook checks the HMAC-SHA256
signature of the raw body. It records what it took, counted by outbox message id, and can be
told to fail (all the time, the next *n* requests, or at random with a given rate) or to be
slow.
"""

from __future__ import annotations

import base64
import collections
import hashlib
import hmac
import json
import random
import threading
import time
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

KINDS = ("dingtalk", "zzd", "wecom", "webhook", "sms")


@dataclass
class Received:
    message_id: str
    payload: dict[str, Any]
    headers: dict[str, str]
    path: str


class Receiver:
    """A local receiver for one kind of channel. Use as a context manager."""

    ACCESS_TOKEN = "test-access-token"  # noqa: S105 (a stand-in's token, not a secret)
    WECOM_KEY = "00000000-0000-4000-8000-minsheng0test"

    def __init__(
        self,
        kind: str,
        *,
        secret: str = "",
        fail_rate: float = 0.0,
        seed: int = 1,
        delay: float = 0.0,
        sms_key: str = "",
    ) -> None:
        if kind not in KINDS:
            raise ValueError(kind)
        self.kind, self.secret, self.fail_rate, self.delay = kind, secret, fail_rate, delay
        self.sms_key = sms_key
        self.fail_next = 0  # refuse this many requests, then take them again
        self.fail_always = False
        self.received: list[Received] = []
        self.refused: list[str] = []  # why each refused request was refused
        self._rng = random.Random(seed)  # noqa: S311 (reproducible failures, not secrets)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -- life --------------------------------------------------------------------------

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def base(self) -> str:
        # Bound to an AF_INET address: the socket reports its host as a str.
        host, port = cast(tuple[str, int], self._server.server_address[:2])
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        """The URL a unit would configure for this service."""
        if self.kind in ("dingtalk", "zzd"):
            return f"{self.base}/robot/send?access_token={self.ACCESS_TOKEN}"
        if self.kind == "wecom":
            return f"{self.base}/cgi-bin/webhook/send?key={self.WECOM_KEY}"
        if self.kind == "sms":
            return f"{self.base}/sms/send"
        return f"{self.base}/minsheng/hook"

    # -- what it saw -------------------------------------------------------------------

    def counts(self) -> collections.Counter[str]:
        with self._lock:
            return collections.Counter(r.message_id for r in self.received)

    def texts(self) -> list[str]:
        with self._lock:
            return [_text_of(r.payload) for r in self.received]

    # -- checking, as the real services do --------------------------------------------

    def _should_fail(self) -> bool:
        with self._lock:
            if self.fail_always:
                return True
            if self.fail_next > 0:
                self.fail_next -= 1
                return True
            return self.fail_rate > 0 and self._rng.random() < self.fail_rate

    def check(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, Any]]:
        """(HTTP status, JSON answer) for one request; records it if taken."""
        split = urllib.parse.urlsplit(path)
        query = urllib.parse.parse_qs(split.query)
        try:
            payload = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return self._refuse(400, "body is not UTF-8 JSON", {"errcode": 40035, "errmsg": "bad json"})
        if self.kind in ("dingtalk", "zzd"):
            status, answer = self._check_dingtalk(query, payload)
        elif self.kind == "wecom":
            status, answer = self._check_wecom(query, payload)
        elif self.kind == "sms":
            status, answer = self._check_sms(headers, payload)
        else:
            status, answer = self._check_webhook(headers, raw, payload)
        if status != 200 or answer.get("errcode", 0) != 0:
            return status, answer
        if self._should_fail():
            if self.kind in ("dingtalk", "zzd"):  # DingTalk's rate limit answer
                return self._refuse(200, "failing on purpose", {"errcode": 130101, "errmsg": "send too fast"})
            if self.kind == "wecom":
                return self._refuse(
                    200, "failing on purpose", {"errcode": 45009, "errmsg": "api freq out of limit"}
                )
            return self._refuse(503, "failing on purpose", {"error": "unavailable"})
        message_id = headers.get("x-minsheng-message-id", "")
        if self.kind in ("webhook", "sms"):
            message_id = str(payload.get("id"))
        with self._lock:
            self.received.append(Received(message_id, payload, headers, path))
        return 200, answer

    def _refuse(self, status: int, why: str, answer: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.refused.append(why)
        return status, answer

    def _check_dingtalk(self, query: dict[str, list[str]], payload: Any) -> tuple[int, dict[str, Any]]:
        if query.get("access_token") != [self.ACCESS_TOKEN]:
            return self._refuse(200, "token", {"errcode": 300001, "errmsg": "token is not exist"})
        if self.secret:
            try:
                ts = int(query["timestamp"][0])
                sign = query["sign"][0]  # parse_qs has undone the URL encoding
            except (KeyError, IndexError, ValueError):
                return self._refuse(200, "no sign", {"errcode": 310000, "errmsg": "sign not match"})
            if abs(ts - time.time() * 1000) > 3600 * 1000:
                return self._refuse(
                    200, "stale timestamp", {"errcode": 310000, "errmsg": "invalid timestamp"}
                )
            expected = base64.b64encode(
                hmac.new(
                    self.secret.encode(),
                    f"{ts}\n{self.secret}".encode(),
                    hashlib.sha256,
                ).digest()
            ).decode()
            if not hmac.compare_digest(expected, sign):
                return self._refuse(200, "sign", {"errcode": 310000, "errmsg": "sign not match"})
        if not (
            isinstance(payload, dict)
            and payload.get("msgtype") == "text"
            and isinstance(payload.get("text"), dict)
            and isinstance(payload["text"].get("content"), str)
            and payload["text"]["content"]
        ):
            return self._refuse(200, "shape", {"errcode": 40035, "errmsg": "缺少参数 json"})
        return 200, {"errcode": 0, "errmsg": "ok"}

    def _check_wecom(self, query: dict[str, list[str]], payload: Any) -> tuple[int, dict[str, Any]]:
        if query.get("key") != [self.WECOM_KEY]:
            return self._refuse(200, "key", {"errcode": 93000, "errmsg": "invalid webhook url"})
        if not (
            isinstance(payload, dict)
            and payload.get("msgtype") == "text"
            and isinstance(payload.get("text"), dict)
            and isinstance(payload["text"].get("content"), str)
        ):
            return self._refuse(200, "shape", {"errcode": 40008, "errmsg": "invalid message type"})
        if len(payload["text"]["content"].encode("utf-8")) > 2048:
            return self._refuse(
                200, "too long", {"errcode": 40058, "errmsg": "content exceed max length 2048"}
            )
        return 200, {"errcode": 0, "errmsg": "ok"}

    def _check_webhook(self, headers: dict[str, str], raw: bytes, payload: Any) -> tuple[int, dict[str, Any]]:
        given = headers.get("x-minsheng-signature", "")
        expected = "sha256=" + hmac.new(self.secret.encode(), raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(given, expected):
            return self._refuse(401, "signature", {"error": "bad signature"})
        try:
            ts = int(headers.get("x-minsheng-timestamp", ""))
        except ValueError:
            return self._refuse(401, "timestamp", {"error": "no timestamp"})
        if abs(ts - time.time()) > 300 or not isinstance(payload, dict) or payload.get("timestamp") != ts:
            return self._refuse(401, "timestamp", {"error": "stale or mismatched timestamp"})
        if headers.get("x-minsheng-message-id") != str(payload.get("id")):
            return self._refuse(400, "id", {"error": "message id header and body differ"})
        return 200, {"ok": True}

    def _check_sms(self, headers: dict[str, str], payload: Any) -> tuple[int, dict[str, Any]]:
        if self.sms_key and headers.get("authorization") != f"Bearer {self.sms_key}":
            return self._refuse(401, "auth", {"code": "Unauthorized"})
        if not (
            isinstance(payload, dict) and payload.get("phone") and payload.get("text") and payload.get("id")
        ):
            return self._refuse(400, "shape", {"code": "BadRequest"})
        return 200, {"code": "OK"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if receiver.delay:
                    time.sleep(receiver.delay)
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, answer = receiver.check(self.path, headers, raw)
                body = json.dumps(answer, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def _text_of(payload: dict[str, Any]) -> str:
    if "msgtype" in payload:
        return str(payload.get("text", {}).get("content", ""))
    return str(payload.get("text", ""))
