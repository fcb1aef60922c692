"""``minsheng simulate-calls``: play calls against the CTI webhook of a running Minsheng, as
the city's telephone system would (signed events: ring, answer, hang-up with a recording;
one call missed), for the demo.

The webhook's address is ``--url``, else ``MINSHENG_CTI_WEBHOOK_URL``, else the local
server's (``http://127.0.0.1:8000/api/v1/calls/events``); the secret is ``MINSHENG_CTI_SECRET``
(the same the server checks). Recordings are linked under ``MINSHENG_CTI_RECORDINGS_URL``.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from minsheng.calls import rules, simulator
from minsheng.core.conf import setting

DEFAULT_URL = "http://127.0.0.1:8000/api/v1/calls/events"
DEFAULT_RECORDINGS = "https://cti.example.org/recordings"


class Command(BaseCommand):
    help = "Play demo calls (rings, answers, a missed call, recordings) against the CTI webhook."

    def add_arguments(self, parser):
        parser.add_argument("--url", default=None, help="the webhook (default: $MINSHENG_CTI_WEBHOOK_URL)")
        parser.add_argument("--answered", type=int, default=3, help="calls answered, with a recording")
        parser.add_argument("--missed", type=int, default=1, help="calls that ring out unanswered")
        parser.add_argument("--dropped", type=int, default=0, help="calls cut off after the answer")
        parser.add_argument("--seat", default="8001", help="the seat (extension) the calls ring at")
        parser.add_argument("--agent", default="operator", help="the operator's user name")
        parser.add_argument("--caller", action="append", default=[], help="a caller's number (repeatable)")
        parser.add_argument("--pace", type=float, default=1.0, help="seconds between two events")

    def handle(self, *args, **opts):
        url = opts["url"] or str(setting("MINSHENG_CTI_WEBHOOK_URL", DEFAULT_URL))
        secret = rules.cti_secret()
        if not secret:
            raise CommandError("MINSHENG_CTI_SECRET is not set: the webhook would refuse every event.")
        calls = simulator.demo_calls(
            answered=opts["answered"],
            missed=opts["missed"],
            dropped=opts["dropped"],
            seat=opts["seat"],
            agent=opts["agent"],
            callers=opts["caller"],
        )
        refused = []

        def report(sent: simulator.Sent) -> None:
            e = sent.event
            state = sent.answer.get("state", sent.answer)
            self.stdout.write(f"{e['call_id']} {e['event']:<6} {e['caller']} → {sent.status} {state}")
            if sent.status != 200:
                refused.append(sent)

        try:
            simulator.play(
                url,
                secret,
                calls,
                recordings=str(setting("MINSHENG_CTI_RECORDINGS_URL", DEFAULT_RECORDINGS)),
                pace=max(0.0, opts["pace"]),
                on_sent=report,
            )
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot reach the webhook at {url}: {exc}") from exc
        if refused:
            raise CommandError(f"{len(refused)} event(s) refused; the first: {refused[0].answer}")
        self.stdout.write(self.style.SUCCESS(f"{len(calls)} calls played against {url}"))
