"""A telephone system for the demo (话务模拟): it plays calls against Minsheng's CTI webhook
(``POST /api/v1/calls/events``) exactly as the city's system would — each event JSON,
signed with the shared secret (``signing.signed_headers``), with its own ``event_id`` — over
real HTTP (the standard library's client, so nothing more is installed).

:func:`demo_calls` is the script: a few calls rung, answered and hung up with a recording,
one that rings out unanswered (a missed call, owed a callback). :func:`play` sends them.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from minsheng.core import clock

from . import signing

# Demo callers: mobile numbers of the demo city's requesters would do as well (--caller).
DEMO_CALLERS = ("13805730001", "13905730002", "13705730003", "13605730004", "13505730005")


@dataclass(frozen=True)
class SimCall:
    """One call to play: who calls, at which seat, and how it ends."""

    caller: str
    seat: str
    agent: str
    outcome: str = "answered"  # answered | missed | dropped
    talk_s: float = 0.0  # how long the conversation lasts before the hang-up
    call_id: str = field(default_factory=lambda: f"sim-{uuid.uuid4().hex[:12]}")


def demo_calls(
    *,
    answered: int = 3,
    missed: int = 1,
    dropped: int = 0,
    seat: str = "8001",
    agent: str = "",
    callers: Iterable[str] = (),
) -> list[SimCall]:
    """The demo's calls: ``answered`` calls taken at ``seat`` (by ``agent``), then
    ``missed`` calls nobody answers and ``dropped`` calls cut off mid-conversation."""
    numbers = list(callers) or list(DEMO_CALLERS)
    plan = ["answered"] * answered + ["missed"] * missed + ["dropped"] * dropped
    return [
        SimCall(caller=numbers[i % len(numbers)], seat=seat, agent=agent, outcome=outcome)
        for i, outcome in enumerate(plan)
    ]


def events_of(call: SimCall, *, recordings: str, at: Callable[[], dt.datetime] = clock.now) -> Iterator[dict]:
    """The events of ``call`` in order, each stamped when it is produced."""

    def event(kind: str, **extra: str) -> dict:
        body = {
            "event_id": f"{call.call_id}-{kind}",
            "event": kind,
            "call_id": call.call_id,
            "at": at().isoformat(),
            "caller": call.caller,
            "seat": call.seat,
            **extra,
        }
        return body

    yield event("ring")
    if call.outcome == "missed":
        yield event("hangup")
        return
    yield event("answer", agent=call.agent)
    recording = f"{recordings.rstrip('/')}/{call.call_id}.wav"
    cause = "dropped" if call.outcome == "dropped" else "normal"
    yield event("hangup", agent=call.agent, recording_url=recording, cause=cause)


@dataclass
class Sent:
    event: dict
    status: int
    answer: dict


def send(url: str, secret: str, event: dict, *, timeout: float = 10.0) -> Sent:
    """POST one event, signed; the answer's status and JSON (refusals included)."""
    body = json.dumps(event, ensure_ascii=False).encode()
    if not url.startswith(("http://", "https://")):
        raise ValueError("the webhook's URL must be http(s)")
    request = urllib.request.Request(  # noqa: S310 (http(s) only: checked above)
        url, data=body, headers=signing.signed_headers(secret, body), method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (checked above)
            return Sent(event, response.status, json.loads(response.read() or b"{}"))
    except urllib.error.HTTPError as refused:
        raw = refused.read()
        try:
            answer = json.loads(raw or b"{}")
        except ValueError:
            answer = {"detail": raw.decode(errors="replace")[:200]}
        return Sent(event, refused.code, answer)


def play(
    url: str,
    secret: str,
    calls: Iterable[SimCall],
    *,
    recordings: str,
    pace: float = 1.0,
    on_sent: Callable[[Sent], None] | None = None,
) -> list[Sent]:
    """Play ``calls`` one after another, ``pace`` seconds between two events (and the
    conversation's own length before a hang-up). Answers what each event got."""
    if not url.startswith(("http://", "https://")):
        raise ValueError("the webhook's URL must be http(s)")
    out = []
    for call in calls:
        for event in events_of(call, recordings=recordings):
            if event["event"] == "hangup" and call.talk_s:
                time.sleep(call.talk_s)
            sent = send(url, secret, event)
            out.append(sent)
            if on_sent is not None:
                on_sent(sent)
            if pace:
                time.sleep(pace)
    return out
