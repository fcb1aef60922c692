"""Where case types plug their own measures into the statistics (issue #17).

A type (``enterprise``, ``proposals``) sits above stats in the layering, so stats may not
import it; instead the type calls :func:`register_measure` from its ``AppConfig.ready()``.
A registered measure narrows one of stats' own clock or event measures to the type's cases
(lookups on the case, e.g. ``("proposal__isnull", False)``) and gets a rollup kind of its
own. From then on it is a measure like any other: a column on the statistics page (city and
unit rows), counted live and rolled up, with its audit lists, and a choice for ranking
weights. Existing rollups learn it at the next ``refreshstats --rebuild``.
"""

from __future__ import annotations

from typing import Any

from minsheng.cases.states import ClockName

from .measures import CLOCKS, JUDGED_ACTIONS, MEASURE_BY_KEY, MEASURES, TYPE_MEASURES, Measure

KIND_MAX = 16  # Rollup.kind's length


def register_measure(
    key: str,
    *,
    kind: str,
    label: Any,
    definition: Any,
    num_label: Any,
    den_label: Any,
    cases: dict[str, Any],
    clock: ClockName | str | None = None,
    action: str | None = None,
) -> Measure:
    """Adds a case type's measure: ``clock`` (met in time / decided, as the clock measures)
    or ``action`` (a judged action of the case log: good ratings / ratings, or in time /
    all), over the cases matching ``cases``. Registering the same key again with the same
    definition changes nothing (a test may call ``ready()`` twice)."""
    if (clock is None) == (action is None):
        raise ValueError("a case type's measure counts a clock or an action, not both")
    if clock is not None and clock not in CLOCKS:
        raise ValueError(f"unknown clock {clock!r}")
    if action is not None and action not in JUDGED_ACTIONS:
        raise ValueError(f"{action!r} is not an action stats counts")
    if not cases:
        raise ValueError("a case type's measure names its cases")
    if len(kind) > KIND_MAX:
        raise ValueError(f"kind {kind!r} longer than {KIND_MAX}")
    m = Measure(
        key,
        label,
        definition,
        kind,
        kind,
        num_label,
        den_label,
        clock=str(clock) if clock is not None else None,
        action=action,
        cases=tuple(sorted(cases.items())),
    )
    known = MEASURE_BY_KEY.get(key)
    if known is not None:
        if known == m:
            return known
        raise ValueError(f"measure {key!r} is already defined")
    taken = (
        {x.num_kind for x in MEASURES}
        | {x.den_kind for x in MEASURES}
        | set(CLOCKS)
        | set(JUDGED_ACTIONS.values())
    )
    if kind in taken:
        raise ValueError(f"rollup kind {kind!r} is taken")
    MEASURES.append(m)
    MEASURE_BY_KEY[key] = m
    TYPE_MEASURES.append(m)
    return m
