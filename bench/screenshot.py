"""Screenshot a Minsheng page as a signed-in person, for the README.

Run against a server with the demo data (``make run``)::

    python bench/screenshot.py --path /queue/ --user dispatcher --out docs/screenshot.png

It signs in through the login form like a person would, so it shows exactly what that
role sees. Chromium is Debian's (``make browser``); the size defaults to 1366×768.

The operator's seat with a call ringing (``docs/seat.png``): the server needs the telephone
system's secret (``MINSHENG_CTI_SECRET``), which the script signs one ring event with, as
the city's telephone system would; the caller's earlier cases are whatever the database
holds for that number::

    python bench/screenshot.py --seat --cti-secret "$MINSHENG_CTI_SECRET" \
        --caller 13857301234 --out docs/seat.png
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import hmac
import json
import time
import uuid

from playwright.sync_api import Page, sync_playwright

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


SEAT_QUESTION = "孩子刚出生，看病能报销的那个怎么给他弄上"


def call_event(page: Page, args: argparse.Namespace, kind: str, call_id: str, seat: str) -> None:
    """One signed event of the telephone system (``calls/signing.py``: HMAC-SHA256 of the
    raw body)."""
    body = json.dumps(
        {
            "event_id": uuid.uuid4().hex,
            "event": kind,
            "call_id": call_id,
            "at": dt.datetime.now(dt.UTC).isoformat(),
            "caller": args.caller,
            "agent": args.user,
            "seat": seat,
        }
    ).encode()
    signature = "sha256=" + hmac.new(args.cti_secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-Minsheng-Signature": signature,
        "X-Minsheng-Timestamp": str(int(time.time())),
    }
    response = page.context.request.post(f"{args.base}/api/v1/calls/events", data=body, headers=headers)
    if response.status != 200:
        raise SystemExit(f"the {kind} event was refused: {response.status} {response.text()}")


def shoot_seat(page: Page, args: argparse.Namespace, out: str) -> None:
    """The seat with a call ringing, the caller's history, the matters and articles
    suggested for a question in the caller's words, and the first article opened."""
    page.goto(f"{args.base}/seat/?seat=8001")
    page.wait_for_load_state("networkidle")
    call_id = f"shot-{uuid.uuid4().hex[:8]}"
    call_event(page, args, "ring", call_id, "8001")
    page.wait_for_selector("#call-taken-msg", timeout=15_000)
    page.click("#id_text")
    page.keyboard.type(SEAT_QUESTION, delay=20)
    page.wait_for_selector(".kb-pick[data-key='Q']", timeout=30_000)
    page.wait_for_timeout(800)
    page.keyboard.press("Alt+KeyQ")
    page.wait_for_selector("#answer-text", timeout=15_000)
    page.wait_for_selector("#seat-map[data-ready='1']", timeout=15_000)
    page.wait_for_timeout(300)
    page.screenshot(path=out)
    # The call ends as a call the operator answered, not as one owed a callback.
    call_event(page, args, "answer", call_id, "8001")
    call_event(page, args, "hangup", call_id, "8001")
    print(f"/seat/ (ringing {args.caller}) -> {out}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", default="http://127.0.0.1:8000")
    p.add_argument("--user", default="dispatcher")
    p.add_argument("--password", default="minsheng2026")
    p.add_argument("--path", action="append", help="page to shoot (repeatable)")
    p.add_argument("--out", action="append", help="PNG file for each --path")
    p.add_argument("--size", default="1366x768")
    p.add_argument("--full-page", action="store_true")
    p.add_argument("--chromium", default="/usr/bin/chromium")
    p.add_argument("--seat", action="store_true", help="the operator's seat with a call ringing")
    p.add_argument("--cti-secret", default="", help="the server's MINSHENG_CTI_SECRET (--seat)")
    p.add_argument("--caller", default="13857301234", help="the ringing number (--seat)")
    args = p.parse_args()
    if args.seat:
        if not args.cti_secret:
            p.error("--seat needs --cti-secret (the server's MINSHENG_CTI_SECRET)")
        if args.user == "dispatcher":
            args.user = "operator"
    paths = args.path or (["/seat/"] if args.seat else ["/queue/"])
    outs = args.out or (["docs/seat.png"] if args.seat else ["docs/screenshot.png"])
    if len(paths) != len(outs):
        p.error("give one --out for each --path")
    width, height = (int(v) for v in args.size.split("x"))
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": width, "height": height}, locale="zh-CN")
        if args.user:
            page.goto(f"{args.base}/login/")
            page.fill("#id_username", args.user)
            page.fill("#id_password", args.password)
            page.click("button.btn-primary")
            page.wait_for_load_state()
        for path, out in zip(paths, outs, strict=True):
            if args.seat:
                shoot_seat(page, args, out)
                continue
            page.goto(f"{args.base}{path}")
            page.wait_for_load_state("networkidle")
            page.screenshot(path=out, full_page=args.full_page)
            print(f"{path} -> {out}")
        browser.close()


if __name__ == "__main__":
    main()
