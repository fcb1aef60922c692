"""The transfers' section of the case page: where a case came from 110 and its 110 reference,
the transfers to 110 with their receipts, and, for the centre on a case that can still be
transferred, the form that hands it to 110."""

from __future__ import annotations

from typing import Any

from minsheng.accounts.actors import Actor
from minsheng.cases.models import Case

from . import queries, rules
from .actions import TRANSFERABLE_STATES


def case_panel(actor: Actor, case: Case) -> tuple[str, dict[str, Any]] | None:
    found = queries.of_case(case)
    may_transfer = actor.role in rules.CENTRE_ROLES and case.state in TRANSFERABLE_STATES
    if found["incoming"] is None and not found["outgoing"] and not may_transfer:
        return None
    open_out = any(o.state in ("sent", "received") for o in found["outgoing"])
    return "transfer/_case_panel.html", {
        **found,
        "case": case,
        "items": list(queries.police_items()) if may_transfer and not open_out else [],
    }
