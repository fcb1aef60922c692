"""The typical-case section of the case page: nominate a closed case, or where it stands."""

from __future__ import annotations

from typing import Any

from minsheng.accounts.actors import Actor
from minsheng.cases.models import Case
from minsheng.cases.states import State

from . import queries, rules


def case_panel(actor: Actor, case: Case) -> tuple[str, dict[str, Any]] | None:
    if case.state != State.CLOSED or actor.role not in rules.NOMINATE_ROLES:
        return None
    return "typical/_case_panel.html", {"case": case, "typical": queries.for_case(case)}
