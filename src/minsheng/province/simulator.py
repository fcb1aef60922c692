"""A stand-in for the provincial 12345 platform, for tests and demonstrations: a real HTTP
server on 127.0.0.1 (a free port) that

* serves ``GET /cases?since=<cursor>`` — the cases it has sent down after the cursor, a page
  at a time (``{"cases": [...], "cursor": "...", "more": bool}``), checking our signature
  over the path and query;
* takes ``POST /status`` — our signed status webhooks, checking the signature over the raw
  body, recording each by its outbox message id (a repeat is answered 200 and kept once);
* fails a share of requests (``fail_rate``, 0.5 = half) with HTTP 503, decided by a seeded
  random generator, so a run is reproducible.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Platform:
    def __init__(self, secret: str, *, fail_rate: float = 0.0, seed: int = 1, page: int = 5) -> None:
        self.secret, self.fail_rate, self.page = secret, fail_rate, page
        self._rng = random.Random(seed)  # noqa: S311 (reproducible failures, not secrets)
        self._lock = threading.Lock()
        self.cases: list[dict[str, Any]] = []  # sent down, in order
        self.statuses: dict[str, dict[str, Any]] = {}  # outbox message id → payload
        self.requests = {"ok": 0, "failed": 0, "refused": 0}

    # --- what the test does -------------------------------------------------------------

    def send_down(self, case: dict[str, Any]) -> None:
        with self._lock:
            self.cases.append(case)

    def latest_status(self) -> dict[str, dict[str, Any]]:
        """The newest status of each provincial case, by ``version``."""
        out: dict[str, dict[str, Any]] = {}
        with self._lock:
            for payload in self.statuses.values():
                ctx = payload["context"]
                held = out.get(ctx["province_id"])
                if held is None or ctx["version"] > held["version"]:
                    out[ctx["province_id"]] = ctx
        return out

    # --- the server ---------------------------------------------------------------------

    def __enter__(self) -> Platform:
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                raw = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                status, body = platform.handle("GET", self.path, dict(self.headers), b"")
                self._answer(status, body)

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, body = platform.handle("POST", self.path, dict(self.headers), raw)
                self._answer(status, body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def base(self) -> str:
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    def _signed(self, headers: dict[str, str], signed: bytes) -> bool:
        expected = "sha256=" + hmac.new(self.secret.encode(), signed, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, headers.get("X-Minsheng-Signature", ""))

    def handle(
        self, method: str, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, Any]]:
        with self._lock:
            fail = self.fail_rate > 0 and self._rng.random() < self.fail_rate
            if fail:
                self.requests["failed"] += 1
                return 503, {"error": "unavailable (failing on purpose)"}
            if not self._signed(headers, path.encode() if method == "GET" else raw):
                self.requests["refused"] += 1
                return 401, {"error": "bad signature"}
            self.requests["ok"] += 1
            split = urllib.parse.urlsplit(path)
            if method == "GET" and split.path == "/cases":
                since = urllib.parse.parse_qs(split.query).get("since", [""])[0]
                start = int(since) if since.isdigit() else 0
                page = self.cases[start : start + self.page]
                end = start + len(page)
                return 200, {"cases": page, "cursor": str(end), "more": end < len(self.cases)}
            if method == "POST" and split.path == "/status":
                payload = json.loads(raw.decode("utf-8"))
                self.statuses.setdefault(str(payload["id"]), payload)
                return 200, {"ok": True}
            return 404, {"error": "not found"}
