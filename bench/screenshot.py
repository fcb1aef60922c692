"""Screenshot a Minsheng page as a signed-in person, for the README.

Run against a server with the demo data (``make run``)::

    python bench/screenshot.py --path /queue/ --user dispatcher --out docs/screenshot.png

It signs in through the login form like a person would, so it shows exactly what that
role sees. Chromium is Debian's (``make browser``); the size defaults to 1366×768.
"""

from __future__ import annotations

import argparse

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


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
    args = p.parse_args()
    paths = args.path or ["/queue/"]
    outs = args.out or ["docs/screenshot.png"]
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
            page.goto(f"{args.base}{path}")
            page.wait_for_load_state("networkidle")
            page.screenshot(path=out, full_page=args.full_page)
            print(f"{path} -> {out}")
        browser.close()


if __name__ == "__main__":
    main()
