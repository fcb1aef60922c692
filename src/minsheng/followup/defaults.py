"""The defaults a city's follow-up rules start from, read through
:func:`minsheng.core.conf.setting` (a Django setting, else the environment, else the value
here) when the one ``RuleSet`` row is first made; afterwards the city edits the row (admin).

* ``MINSHENG_FOLLOWUP_DEFAULT_SHARE`` (0) — % of the cases of matters without a rule of their own;
* ``MINSHENG_FOLLOWUP_SUPERVISED`` (true) — follow up every supervised case (督办件);
* ``MINSHENG_FOLLOWUP_DELAY_HOURS`` (24) — the call is due this long after the feedback
  (the requester may answer the SMS link meanwhile);
* ``MINSHENG_FOLLOWUP_ATTEMPTS`` (3) and ``MINSHENG_FOLLOWUP_INTERVAL_MINUTES`` (120) — the
  unanswered calls before the requester counts as unreachable, and the wait between them.
* ``MINSHENG_FOLLOWUP_COMPLAINT_MATTERS`` ("") — comma-separated matter codes the city treats
  as complaints (投诉): each gets a rule following up all its cases.
"""

from __future__ import annotations

from typing import Any

from minsheng.core.conf import setting


def initial_values() -> dict[str, Any]:
    return {
        "default_share": max(0, min(100, setting("MINSHENG_FOLLOWUP_DEFAULT_SHARE", 0))),
        "supervised_cases": setting("MINSHENG_FOLLOWUP_SUPERVISED", True),
        "delay_hours": max(0, setting("MINSHENG_FOLLOWUP_DELAY_HOURS", 24)),
        "attempts": max(1, min(10, setting("MINSHENG_FOLLOWUP_ATTEMPTS", 3))),
        "interval_minutes": max(1, setting("MINSHENG_FOLLOWUP_INTERVAL_MINUTES", 120)),
    }


def complaint_matters() -> list[str]:
    raw = str(setting("MINSHENG_FOLLOWUP_COMPLAINT_MATTERS", ""))
    return [code.strip() for code in raw.split(",") if code.strip()]
