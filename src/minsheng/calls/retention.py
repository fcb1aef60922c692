"""How long calls and callbacks keep the caller's number (个人信息保存期限).

The city's period is the one closed cases keep their requester's data for
(``MINSHENG_PERSONAL_DATA_DAYS``, ``cases.retention``; 0 keeps it for good). Past it, the
worker's pass over calls (``actions.callbacks_pass``) empties the number, and its keyed hash,
from every call that ended (answered, missed or dropped) longer ago than that, and from
every callback closed longer ago than that, and marks the row (``number_erased_at``). What
the call was (its time, state, seat, recording, the case it produced) stays for the record
and the city's statistics. An open callback keeps its number: the centre still owes the
call. A call whose end never came is treated as over once nothing was heard of it for the
period.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from minsheng.cases.retention import retention_days

from .models import Call, CallbackState, CallbackTask


def _cutoff(at: dt.datetime) -> dt.datetime | None:
    days = retention_days()
    return at - dt.timedelta(days=days) if days > 0 else None


def calls_due(at: dt.datetime) -> list[QuerySet[Call]]:
    """Calls that still hold a number and have been over for longer than the period: those
    that ended before it, and those whose end never came and of which nothing was heard
    since. Two questions rather than one with OR, so each reads the partial index
    ``call_number_kept`` (the worker asks them every pass)."""
    cutoff = _cutoff(at)
    if cutoff is None:
        return []
    kept = Call.objects.exclude(caller_hash="")
    return [kept.filter(ended_at__lt=cutoff), kept.filter(ended_at__isnull=True, updated_at__lt=cutoff)]


def callbacks_due(at: dt.datetime) -> list[QuerySet[CallbackTask]]:
    """Closed callbacks that still hold a number and were closed longer ago than the period."""
    cutoff = _cutoff(at)
    if cutoff is None:
        return []
    return [
        CallbackTask.objects.exclude(state=CallbackState.OPEN)
        .exclude(phone_hash="")
        .filter(closed_at__lt=cutoff)
    ]


def _erase(due: list[QuerySet[Any]], number: str, at: dt.datetime, limit: int) -> int:
    erased = 0
    for rows in due:
        while True:
            with transaction.atomic():
                # No order: the database reads the partial index it was given for this.
                ids = list(rows.order_by().values_list("pk", flat=True)[:limit])
                # update() computes no hash: the number and its hash are emptied by name.
                rows.model.objects.filter(pk__in=ids).update(
                    **{number: "", f"{number}_hash": "", "number_erased_at": at}
                )
            erased += len(ids)
            if len(ids) < limit:
                break
    return erased


def erase_due(at: dt.datetime, limit: int = 500) -> tuple[int, int]:
    """Erase the numbers due at ``at``, in batches of ``limit``, each batch in its own
    transaction; answers how many ``(calls, callbacks)`` lost their number."""
    return _erase(calls_due(at), "caller", at, limit), _erase(callbacks_due(at), "phone", at, limit)
