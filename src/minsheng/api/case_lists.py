"""``GET /api/v1/cases``: the one case search (``CaseFilter``) as a paged list.

A page costs the same at any depth and any size of city: ``next`` is the marker of the
row after which the next page starts (keyset, read off the ``(created_at, id)`` indexes),
and ``count`` stops at :data:`~minsheng.cases.lists.COUNT_CAP` (``count_capped``).
``page`` (an offset) stays for the clients that use it; deep offsets read every row before
them, so ``after`` is the way to walk a long list.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Schema
from ninja.errors import ValidationError

from minsheng.accounts.guards import actor_of
from minsheng.cases.errors import Invalid
from minsheng.cases.filters import CaseFilter
from minsheng.cases.lists import NEWEST_FIRST, encode_cursor, keyset_page, page_count, with_next_due
from minsheng.cases.models import Case
from minsheng.cases.presenters import case_list_item
from minsheng.cases.schemas import CaseListItem, Input
from minsheng.cases.scoping import visible_cases, visible_parts
from minsheng.cases.states import Channel, State

PAGE_SIZE = 50
PAGE_SIZE_MAX = 100
PAGE_MAX = 1_000_000


class CaseQuery(Input):
    """The API's shape of the one case search (:class:`minsheng.cases.filters.CaseFilter`),
    and the page asked for."""

    state: State | None = None
    unit: int | None = None
    category: str | None = None
    overdue: bool | None = None
    town: int | None = Field(None, description="The town/street (镇/街道) the case is in (a place id).")
    channel: Channel | None = None
    open: bool | None = Field(None, description="Only open cases (true) or only closed ones (false).")
    urgent: bool | None = None
    since: dt.date | None = Field(None, description="Received on or after this local day.")
    until: dt.date | None = Field(None, description="Received on or before this local day.")
    q: str | None = Field(None, description="Part of the number, the request's text or the address.")
    # Bounded, so that the offset stays a number the database holds (422, not a 500).
    page: int = Field(
        1, ge=1, le=PAGE_MAX, description="Page number (an offset); prefer `after` beyond the first pages."
    )
    page_size: int = Field(PAGE_SIZE, ge=1, le=PAGE_SIZE_MAX)
    after: str | None = Field(
        None, max_length=200, description="The `next` of the page before: the page that follows it."
    )


class CasePage(Schema):
    items: list[CaseListItem]
    count: int = Field(description="How many cases match, exactly up to 1000.")
    count_capped: bool = Field(description="More match than `count` says.")
    next: str | None = Field(description="Pass as `after` for the next page; null on the last.")


FILTER_FIELDS = tuple(CaseFilter.base_filters)  # the API offers every filter of the one search


def _refuse(field: str, message: str) -> ValidationError:
    return ValidationError([{"loc": ["query", field], "type": "value_error", "msg": message}])


def list_cases(request: HttpRequest, query: Query[CaseQuery]) -> dict[str, Any]:
    """Cases the caller may see, newest first, 50 a page (``page_size`` up to 100).
    Registered on the cases router in ``api.py`` (one router per path)."""
    asked = query.model_dump(include=set(FILTER_FIELDS), exclude_none=True)
    actor = actor_of(request)
    filters = CaseFilter(asked, queryset=visible_cases(actor))
    if not filters.is_valid():
        raise ValidationError(
            [
                {"loc": ["query", e["field"]], "type": "value_error", "msg": " ".join(e["messages"])}
                for e in filters.error_list()
            ]
        )
    if query.after and query.page != 1:
        raise _refuse("after", "give page or after, not both")
    found = filters.qs
    # A search by words reads newest-first in windows and stops at a full page, and counts
    # what it found (``count_capped``: more than the page).
    scan = visible_cases(actor) if (query.q or "").strip() else None

    def listed(qs: QuerySet[Case]) -> QuerySet[Case]:
        return with_next_due(qs.select_related("matter", "owner_unit", "town"))

    rows = listed(found)
    scope = visible_parts(actor)  # a unit's cases and its joint groups', each off its own index
    size = query.page_size
    if query.page > 1:
        start = (query.page - 1) * size
        got = list(rows.order_by(*NEWEST_FIRST)[start : start + size + 1])
        items, last = got[:size], got[size - 1] if len(got) > size else None
        next_ = encode_cursor(last.created_at, last.pk) if last is not None else None
    else:
        # A unit's cases and its joint groups' each read off an index of their own, merged.
        parts = [listed(filters.filter_queryset(p)) for p in scope] if scan is None else []
        try:
            page = keyset_page(rows, after=query.after, size=size, scan=scan, parts=parts)
        except Invalid as exc:
            raise _refuse(exc.field, exc.message) from exc
        items, next_ = page.rows, page.next
    count = page_count(page) if scan is not None and query.page == 1 else filters.count(parts=scope)
    return {
        "items": [case_list_item(c) for c in items],
        "count": count.n,
        "count_capped": count.capped,
        "next": next_,
    }
