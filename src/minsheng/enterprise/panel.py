"""The enterprise's section of the case page: whose request it is, its service officer, and
the enterprise's other requests as the person may see them."""

from __future__ import annotations

from typing import Any

from minsheng.accounts.actors import Actor
from minsheng.cases.models import Case

from .queries import HISTORY_ROWS, enterprise_of, history


def case_panel(actor: Actor, case: Case) -> tuple[str, dict[str, Any]] | None:
    link = enterprise_of(case)
    if link is None:
        return None
    enterprise = link.enterprise
    earlier = history(actor, enterprise, exclude=case.pk)
    return "enterprise/_case_panel.html", {
        "enterprise": enterprise,
        "officer": enterprise.service_officer,
        "history": list(earlier[:HISTORY_ROWS]),
        "history_total": earlier.count(),
    }
