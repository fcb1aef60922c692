"""The attacker's probes of issue #14, re-run against a fresh install served as in production
(``minsheng serve``: gunicorn, 2 workers × 4 threads) on loopback, over real HTTP, with its
own SQLite database in a temporary directory. Prints one line per probe with its numbers;
docs/SECURITY.md keeps the table.

    python bench/security_probes.py [--guessers 32]

Probes:
  2. 100 wrong passwords at /login/ and at /admin/login/, then the right one: signed in?
  4. 32 concurrent look-ups on the follow page from one address (limit 20 per client), and
     from 32 addresses at one case number (limit 10 per case): how many guesses got through.
  5. the API's documentation and OpenAPI document without signing in.
  12. the follow link in the server's access log.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Rivers-and-bridges-2026"  # noqa: S105 (a throwaway account of the bench's own)
THROTTLED = "尝试次数过多"
NOT_FOUND = "track-not-found"
SETUP = """
from django.contrib.auth import get_user_model
from minsheng.accounts.models import Profile, Role
from minsheng.accounts.actors import Actor
from minsheng.cases import actions
User = get_user_model()
admin = User.objects.create_superuser("probe-admin", password={password!r})
Profile.objects.create(user=admin, role=Role.ADMIN, display_name="probe admin")
staff = User.objects.create_user("probe-operator", password={password!r})
Profile.objects.create(user=staff, role=Role.OPERATOR, display_name="probe operator")
case = actions.accept_case(Actor.system(), actions.Intake(
    channel="hotline", text="路灯不亮", requester_phone="13812345678"))
print(case.number, case.public_token)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """One visitor: a cookie jar, never following redirects, CSRF token read off the page."""

    def __init__(self, base: str, forwarded: str = "") -> None:
        self.base, self.forwarded = base, forwarded
        self.jar = http.cookiejar.CookieJar()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)

    def open(self, path: str, data: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body)
        request.add_header("Referer", self.base + path)
        if self.forwarded:
            request.add_header("X-Forwarded-For", self.forwarded)
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode("utf-8", "replace"), dict(response.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8", "replace"), dict(exc.headers)

    def post_form(self, path: str, fields: dict[str, str]) -> tuple[int, str, dict[str, str]]:
        _status, page, _headers = self.open(path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        return self.open(path, {**fields, "csrfmiddlewaretoken": token.group(1) if token else ""})


def _signed_in(status: int, headers: dict[str, str]) -> bool:
    return status == 302 and "login" not in headers.get("Location", "")


def probe_passwords(base: str) -> list[str]:
    lines = []
    for path, username in (("/login/", "probe-operator"), ("/admin/login/", "probe-admin")):
        # The control: the right password alone signs in (so the probe can tell).
        status, _page, headers = Browser(base).post_form(path, {"username": username, "password": PASSWORD})
        lines.append(
            f"  {path}: the right password alone: {'signed in' if _signed_in(status, headers) else 'NOT'}"
        )
        visitor = Browser(base)
        for _ in range(100):
            visitor.post_form(path, {"username": username, "password": "wrong-password"})
        status, _page, headers = visitor.post_form(path, {"username": username, "password": PASSWORD})
        lines.append(
            f"  {path}: 100 wrong passwords, then the right one: "
            f"{'SIGNED IN' if _signed_in(status, headers) else f'refused (HTTP {status}, locked out)'}"
        )
    return lines


def probe_guesses(base: str, number: str, guessers: int) -> list[str]:
    def run(make_guess) -> dict[str, int]:
        answers: list[str] = []
        start = threading.Barrier(guessers)

        def one(i: int) -> None:
            visitor, path, fields = make_guess(i)
            _s, page, _h = visitor.open(path)  # the form and its CSRF cookie, before the race
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
            start.wait(30)
            _s, page, _h = visitor.open(
                path, {**fields, "csrfmiddlewaretoken": token.group(1) if token else ""}
            )
            answers.append(
                "throttled" if THROTTLED in page else "not found" if NOT_FOUND in page else "other"
            )

        threads = [threading.Thread(target=one, args=(i,)) for i in range(guessers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        return {k: answers.count(k) for k in ("not found", "throttled", "other")}

    one_address = run(lambda i: (Browser(base), "/track/", {"number": f"{number}{i}", "digits": "0000"}))
    many_addresses = run(
        lambda i: (
            Browser(base, forwarded=f"198.51.100.{i}"),
            "/track/",
            {"number": number, "digits": "0000"},
        )
    )
    return [
        f"  {guessers} concurrent guesses from one address (limit 20 per client): "
        f"{one_address['not found']} checked, {one_address['throttled']} refused, "
        f"{one_address['other']} other",
        f"  {guessers} concurrent guesses at one case number from {guessers} addresses (limit 10 per case): "
        f"{many_addresses['not found']} checked, {many_addresses['throttled']} refused, "
        f"{many_addresses['other']} other",
    ]


def probe_docs(base: str) -> list[str]:
    lines = []
    for path in ("/api/v1/docs", "/api/v1/openapi.json"):
        status, _page, headers = Browser(base).open(path)
        lines.append(f"  {path} without signing in: HTTP {status} {headers.get('Location', '')}".rstrip())
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--guessers", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MINSHENG_", "DJANGO_"))}
        env.update(
            MINSHENG_VAR=tmp,
            DATABASE_URL=f"sqlite:///{tmp}/probes.sqlite3",
            DJANGO_SETTINGS_MODULE="minsheng.settings",
            # The server sits behind a proxy on loopback, as a city deploys it: the probes
            # from "many addresses" come through it with X-Forwarded-For.
            MINSHENG_TRUSTED_PROXIES="127.0.0.1",
        )
        minsheng = [sys.executable, "-m", "minsheng"]
        subprocess.run([*minsheng, "migrate", "-v", "0"], env=env, check=True, cwd=ROOT)
        made = subprocess.run(
            [*minsheng, "shell", "-c", SETUP.format(password=PASSWORD)],
            env=env,
            check=True,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        number, token = made.stdout.split()[-2:]
        port = free_port()
        log = Path(tmp) / "server.log"
        with log.open("w") as out:
            server = subprocess.Popen(
                [*minsheng, "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            base = f"http://127.0.0.1:{port}"
            try:
                for _ in range(120):
                    try:
                        urllib.request.urlopen(base + "/login/", timeout=2).close()
                        break
                    except OSError:
                        time.sleep(0.5)
                print(f"server: minsheng serve on {base} (SQLite, fresh install)")
                started = time.monotonic()
                print("probe 2, sign-in throttling:")
                print("\n".join(probe_passwords(base)))
                print("probe 4, the follow page's guess limit:")
                print("\n".join(probe_guesses(base, number, args.guessers)))
                print("probe 5, the API documentation:")
                print("\n".join(probe_docs(base)))
                Browser(base).open(f"/track/{token}/")
                time.sleep(1)
            finally:
                server.terminate()
                server.wait(30)
        held = log.read_text()
        print("probe 12, the follow link in the access log:")
        print(
            f"  {held.count('/track/')} access-log lines for /track/, "
            f"the secret token in {held.count(token)} of them"
        )
        print(f"({time.monotonic() - started:.1f} s)")


if __name__ == "__main__":
    main()
