"""Turning posted group forms into the named actions' arguments (no rules here)."""

from __future__ import annotations

from django.http import QueryDict

from .actions import AssistIn


def int_or_none(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() else None


def assist_rows(post: QueryDict) -> list[AssistIn]:
    """Pairs of (unit, task) rows; rows with neither are the form's spare rows. A row
    with a task but no unit is kept, so the action names what is missing."""
    out = []
    for unit, task in zip(post.getlist("assist_unit"), post.getlist("assist_task"), strict=False):
        if not unit.strip() and not task.strip():
            continue
        unit_id = int_or_none(unit)
        out.append(AssistIn(unit_id=unit_id if unit_id is not None else -1, task=task))
    return out


def unit_ids(post: QueryDict, key: str) -> list[int]:
    return [i for i in (int_or_none(v) for v in post.getlist(key)) if i is not None]
