"""Learning from the city's own work: every case a dispatcher re-categorised and every
closed case becomes a training example, beside the shipped corpus."""

from __future__ import annotations

from typing import Any

from minsheng.cases.models import Case, CaseEvent
from minsheng.cases.states import State
from minsheng.catalog.models import Matter


def catalog_from_db() -> dict[str, Any]:
    """The list of matters as the classifier reads it (codes, names, keywords, thresholds):
    the shipped list, with the city's own matters added and overriding it by code.

    The model knows every shipped matter even where a city's list is shorter, so that a
    model trained once serves whichever list is loaded; routing only ever assigns a code that
    is an active matter of the city (anything else waits for a dispatcher)."""
    from minsheng.classify.keywords import load_catalog

    shipped = load_catalog()
    by_code = {m["code"]: dict(m) for m in shipped["matters"]}
    for m in Matter.objects.filter(active=True).order_by("code"):
        by_code[m.code] = {
            **by_code.get(m.code, {}),
            "code": m.code,
            "name": m.name,
            "keywords": list(m.keywords or []),
            "auto_threshold": m.auto_threshold,
        }
    return {**shipped, "matters": sorted(by_code.values(), key=lambda m: m["code"])}


def examples_from_db() -> list[tuple[str, str]]:
    """(text, code) for closed cases (their final category; duplicates merged away are
    left out) and for open cases whose category a person corrected."""
    return [(text, code) for _pk, text, code in city_examples()]


def city_examples() -> list[tuple[int, str, str]]:
    """(case id, text, code) of every labelled case of the city: closed cases with their final
    category, and open cases whose category a dispatcher corrected, which includes a case a
    unit returned as not its matter (退单) and the dispatcher then sent on under another."""
    out: dict[int, tuple[str, str]] = {}
    closed = (
        Case.objects.filter(state=State.CLOSED, merged_into__isnull=True, matter__isnull=False)
        .exclude(channel="sensor")
        .values_list("pk", "text", "matter__code")
    )
    for pk, text, code in closed.iterator():
        out[pk] = (text, code)
    corrected = CaseEvent.objects.filter(action="assign", data__has_key="recategorised")
    for case_id, data in corrected.values_list("case_id", "data").iterator():
        if case_id in out:
            continue
        case_text = Case.objects.filter(pk=case_id).values_list("text", flat=True).first()
        if case_text:
            out[case_id] = (case_text, data["recategorised"]["to"])
    return [(pk, text, code) for pk, (text, code) in sorted(out.items())]
