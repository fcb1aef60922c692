"""Every change the provincial platform connector makes, each one named action.

* :func:`receive_case` — a case the platform sent down, taken once by its id (by webhook or
  by polling, whichever comes first) through ``cases.actions.accept_case``, the mapping and a
  log entry in the same transaction.
* :func:`status_to_province` — an after-action hook: every change of a provincial case is
  sent back to the platform through the outbox (retried until taken, never lost; ``version``
  orders them, since retries may deliver them out of order).
* :func:`poll_pass` — the worker's fallback: ask the platform for cases sent down since the
  cursor, take each, and move the cursor only when the whole page is taken.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from minsheng.accounts.actors import Actor
from minsheng.accounts.models import Unit
from minsheng.cases import kernel
from minsheng.cases.actions import Intake, accept_case
from minsheng.cases.errors import Invalid
from minsheng.cases.models import Case
from minsheng.cases.states import Channel
from minsheng.core import clock
from minsheng.notify.actions import enqueue
from minsheng.notify.signing import signed_headers

from . import rules
from .models import PollState, ProvincialCase, Via

log = logging.getLogger("minsheng.province")
PLATFORM = "省级12345平台"


@dataclass(frozen=True)
class CaseIn:
    """A case as the platform sent it down, already parsed."""

    province_id: str
    text: str
    address: str = ""
    lat: float | None = None
    lng: float | None = None
    category: str | None = None
    urgent: bool = False
    requester_name: str = ""
    requester_phone: str = ""
    due_at: dt.datetime | None = None


@dataclass(frozen=True)
class Taken:
    link: ProvincialCase
    duplicate: bool


def receive_case(data: CaseIn, *, via: str = Via.WEBHOOK) -> Taken:
    """Take a case sent down by the platform; its id again (a retry, the poll finding what the
    webhook brought) answers the case made the first time and changes nothing. Refused with
    the field named (422) and nothing written when intake refuses it."""
    pid = (data.province_id or "").strip()
    if not pid or len(pid) > 64:
        raise Invalid("province_id", _("The platform's id of the case, at most 64 characters."))
    if data.due_at is not None and timezone.is_naive(data.due_at):
        raise Invalid("due_at", _("A moment with its UTC offset."))
    seen = ProvincialCase.objects.filter(province_id=pid).select_related("case").first()
    if seen is not None:
        return Taken(seen, duplicate=True)
    try:
        with transaction.atomic():
            case = accept_case(
                Actor.system(PLATFORM),
                Intake(
                    channel=Channel.HOTLINE,
                    text=data.text,
                    lat=data.lat,
                    lng=data.lng,
                    address=data.address,
                    category=data.category or None,
                    urgent=data.urgent,
                    requester_name=data.requester_name,
                    requester_phone=data.requester_phone,
                ),
            )
            link = ProvincialCase.objects.create(
                province_id=pid, case=case, via=via, received_at=clock.now(), province_due_at=data.due_at
            )
            kernel.record(
                case,
                "province_received",
                link.received_at,
                label=PLATFORM,
                note=pid,
                data={"province_id": pid, "via": via},
            )
            _status(case, pid, "accept", link.received_at)
            return Taken(link, duplicate=False)
    except IntegrityError:
        seen = ProvincialCase.objects.filter(province_id=pid).select_related("case").first()
        if seen is None:
            raise
        return Taken(seen, duplicate=True)


def _unit() -> Unit | None:
    return Unit.objects.filter(code=rules.unit_code(), active=True).first()


def _status(case: Case, province_id: str, action: str, at: dt.datetime) -> None:
    unit = _unit()
    if unit is None:
        log.warning(
            "no unit %s for the provincial platform: status of %s not sent", rules.unit_code(), case.number
        )
        return
    enqueue(
        "province_status",
        unit=unit,
        case=case,
        context={
            "province_id": province_id,
            "case": case.number,
            "action": action,
            "state": case.state,
            "version": case.version,
            "owner": case.owner_unit.name if case.owner_unit_id and case.owner_unit else "",
            "result": case.feedback_text or "",
            "at": at.isoformat(),
        },
    )


def status_to_province(actor: Actor, case: Case, action: str, at: dt.datetime) -> None:
    """After every case action (in its transaction): a provincial case's change goes back."""
    pid = ProvincialCase.objects.filter(case_id=case.pk).values_list("province_id", flat=True).first()
    if pid is not None:
        _status(case, pid, action, at)


# --- polling ------------------------------------------------------------------------------


def _get(url: str, path_and_query: str) -> Any:
    """A signed GET (the signature over the path with its query string); the parsed JSON."""
    headers = signed_headers(rules.secret(), path_and_query.encode())
    request = urllib.request.Request(url, headers=headers, method="GET")  # noqa: S310 (the operator's URL)
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read(2 * 1024 * 1024).decode("utf-8"))


def _parse(raw: dict[str, Any]) -> CaseIn:
    due = raw.get("due_at")
    return CaseIn(
        province_id=str(raw.get("province_id", "")),
        text=str(raw.get("text", "")),
        address=str(raw.get("address", "")),
        lat=raw.get("lat"),
        lng=raw.get("lng"),
        category=raw.get("category") or None,
        urgent=bool(raw.get("urgent", False)),
        requester_name=str(raw.get("requester_name", "")),
        requester_phone=str(raw.get("requester_phone", "")),
        due_at=dt.datetime.fromisoformat(due) if due else None,
    )


@dataclass
class PollResult:
    asked: bool = False
    taken: int = 0
    duplicates: int = 0
    refused: int = 0
    error: str = ""


def poll_pass(now: dt.datetime, *, force: bool = False, max_pages: int = 10) -> PollResult:
    """Ask the platform for the cases sent down since the cursor (at most every
    ``MINSHENG_PROVINCE_POLL_S``), take each, and move the cursor page by page. A failure
    (the platform down, a broken answer) leaves the cursor where it was: the next pass asks
    again, and cases taken meanwhile by webhook are duplicates, not new cases. A case intake
    refuses is logged and skipped (the platform is told nothing of it: it sees no status)."""
    result = PollResult()
    base = rules.base_url()
    if not base or not rules.secret():
        return result
    state, _created = PollState.objects.get_or_create(pk=1)
    if not force and state.polled_at and now - state.polled_at < rules.poll_every():
        return result
    result.asked = True
    state.polled_at = now
    try:
        for _page in range(max_pages):
            query = urllib.parse.urlencode({"since": state.cursor})
            path = f"{urllib.parse.urlsplit(base).path}/cases?{query}"
            answer = _get(f"{base}/cases?{query}", path)
            for raw in answer.get("cases", []):
                try:
                    taken = receive_case(_parse(raw), via=Via.POLL)
                except (Invalid, ValueError, TypeError) as exc:
                    log.warning("provincial case %s refused: %s", raw.get("province_id"), exc)
                    result.refused += 1
                    continue
                if taken.duplicate:
                    result.duplicates += 1
                else:
                    result.taken += 1
            cursor = str(answer.get("cursor", state.cursor))
            more = bool(answer.get("more")) and cursor != state.cursor
            state.cursor = cursor
            if not more:
                break
        state.ok_at, state.last_error, state.failures = now, "", 0
    except (urllib.error.URLError, OSError, ValueError, AttributeError) as exc:
        result.error = f"{type(exc).__name__}: {exc}"
        state.last_error, state.failures = result.error[:2000], state.failures + 1
        log.warning("polling the provincial platform failed: %s", result.error)
    state.save()
    return result
