"""What Open311 reads: the key a partner sent, the services (the list of matters), the
requests that came in through Open311, and their updates (FixMyStreet's extension)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import QuerySet

from minsheng.accounts.models import hash_token
from minsheng.cases.models import Case, CaseEvent
from minsheng.cases.states import State
from minsheng.catalog.models import Matter
from minsheng.core import clock
from minsheng.core.conf import setting

from .models import ApiKey, ServiceRequest

# The spec lets a server bound a search: 90 days back by default, at most this many rows.
DEFAULT_DAYS = 90
MAX_ROWS = 1000

# The case log's kinds an Open311 client is told of (FixMyStreet's servicerequestupdates):
# each with the status word FixMyStreet knows. Notes of other kinds stay internal.
UPDATE_STATUS = {
    "accept": "OPEN",
    "assign": "OPEN",
    "return": "OPEN",
    "reopen": "OPEN",
    "sign": "ACTION_SCHEDULED",
    "dispatch": "ACTION_SCHEDULED",
    "handle": "IN_PROGRESS",
    "feedback": "FIXED",
    "close": "CLOSED",
    "merge": "DUPLICATE",
}


def jurisdiction() -> str:
    """The one jurisdiction this endpoint serves (``MINSHENG_OPEN311_JURISDICTION``); empty:
    the parameter is not needed and not checked."""
    return str(setting("MINSHENG_OPEN311_JURISDICTION", ""))


def key_for(raw: str) -> ApiKey | None:
    """The working key ``raw`` is, or ``None`` (unknown and revoked look alike)."""
    if not raw:
        return None
    return (
        ApiKey.objects.select_related("unit")
        .filter(key_hash=hash_token(raw), revoked_at__isnull=True, unit__active=True)
        .first()
    )


def services() -> QuerySet[Matter]:
    return Matter.objects.filter(active=True).select_related("owner_unit").order_by("code")


def service(code: str) -> Matter | None:
    return services().filter(code=code).first()


def requests(key: ApiKey | None = None) -> QuerySet[ServiceRequest]:
    """The requests that came in through Open311 (a key narrows them to its own), newest
    first, with what the presenter reads."""
    rows = ServiceRequest.objects.select_related(
        "case__matter", "case__owner_unit", "case__merged_into"
    ).prefetch_related("case__clocks")
    return rows.filter(key=key) if key is not None else rows


def search(
    *,
    key: ApiKey | None = None,
    ids: Iterable[str] = (),
    service_codes: Iterable[str] = (),
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    statuses: Iterable[str] = (),
) -> list[ServiceRequest]:
    """GET ``requests``: by ids (which override the rest), else by service, time range (the
    last 90 days unless given) and status (``open``/``closed``), newest first."""
    rows = requests(key)
    ids = [i for i in ids if i]
    if ids:
        return list(rows.filter(case__number__in=ids)[:MAX_ROWS])
    codes = [c for c in service_codes if c]
    if codes:
        rows = rows.filter(case__matter__code__in=codes)
    if start is None and end is None:
        start = clock.now() - dt.timedelta(days=DEFAULT_DAYS)
    if start is not None:
        rows = rows.filter(case__created_at__gte=start)
    if end is not None:
        rows = rows.filter(case__created_at__lte=end)
    wanted = set(statuses)
    if wanted == {"open"}:
        rows = rows.exclude(case__state=State.CLOSED)
    elif wanted == {"closed"}:
        rows = rows.filter(case__state=State.CLOSED)
    return list(rows.order_by("-created_at", "-id")[:MAX_ROWS])


def by_number(number: str) -> ServiceRequest | None:
    return requests().filter(case__number=number).first()


def by_token(token: str) -> ServiceRequest | None:
    return ServiceRequest.objects.select_related("case").filter(token=token).first()


def updates(
    *, key: ApiKey | None = None, start: dt.datetime | None = None, end: dt.datetime | None = None
) -> list[CaseEvent]:
    """FixMyStreet's ``servicerequestupdates``: the entries of the Open311 requests' logs a
    client is told of, oldest first, within ``start``..``end`` (the last 90 days unless
    given)."""
    events = CaseEvent.objects.filter(
        action__in=tuple(UPDATE_STATUS), case__open311__isnull=False
    ).select_related("case")
    if key is not None:
        events = events.filter(case__open311__key=key)
    if start is None and end is None:
        start = clock.now() - dt.timedelta(days=DEFAULT_DAYS)
    if start is not None:
        events = events.filter(at__gte=start)
    if end is not None:
        events = events.filter(at__lte=end)
    return list(events.order_by("at", "id")[:MAX_ROWS])


def resolve_due(case: Case) -> dt.datetime | None:
    """When the case is due to be resolved: its latest resolve clock's limit."""
    clocks = [c for c in case.clocks.all() if c.name == "resolve"]
    if not clocks:
        return None
    return max(clocks, key=lambda c: (c.started_at, c.pk)).due_at
