"""Loading a city's list of matters from its data file (JSON, see ``data/catalog.json``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.text import slugify

from minsheng.accounts.models import Unit, UnitKind

from .models import Matter

DEMO_CATALOG = Path(__file__).parent / "data" / "catalog.json"
TERRITORY = "territory"
_LIMIT_FIELDS = (
    "sign_minutes",
    "dispatch_minutes",
    "feedback_hours",
    "resolve_working_days",
    "urgent_resolve_hours",
    "response_minutes",
    "warn_share",
    "auto_threshold",
    "duplicate_radius_m",
    "duplicate_window_hours",
)


class CatalogError(ValueError):
    pass


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)
    new_units: list[str] = field(default_factory=list)


def _validate(doc: Any) -> list[dict[str, Any]]:
    if not isinstance(doc, dict) or not isinstance(doc.get("matters"), list):
        raise CatalogError("the file must be an object with a 'matters' list")
    seen: set[str] = set()
    for i, m in enumerate(doc["matters"]):
        for key in ("code", "name", "owner"):
            if not isinstance(m.get(key), str) or not m[key].strip():
                raise CatalogError(f"matters[{i}]: '{key}' is required")
        if m["code"] in seen:
            raise CatalogError(f"matters[{i}]: duplicate code {m['code']!r}")
        seen.add(m["code"])
    return doc["matters"]


@transaction.atomic
def load_catalog(path: Path | str = DEMO_CATALOG, *, deactivate_missing: bool = False) -> LoadReport:
    """Create or update every matter in the file; owners that are not units yet become
    line departments. Codes are stable: a matter is matched by its code."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CatalogError(f"cannot read {path}: {exc}") from exc
    matters = _validate(doc)
    defaults = doc.get("defaults", {})
    report = LoadReport()
    dept_codes = {d["name"]: d["code"] for d in doc.get("departments", [])}
    for m in matters:
        owner = None
        if m["owner"] != TERRITORY:
            owner = Unit.objects.filter(name=m["owner"]).first()
            if owner is None:
                code = slugify(dept_codes.get(m["owner"]) or f"dept-{Unit.objects.count() + 1}")
                owner = Unit.objects.create(code=code, name=m["owner"], kind=UnitKind.DEPARTMENT)
                report.new_units.append(owner.name)
        values: dict[str, Any] = {
            "name": m["name"],
            "owner_unit": owner,
            "keywords": list(m.get("keywords", [])),
            "active": True,
        }
        for key in _LIMIT_FIELDS:
            if key in m or key in defaults:
                values[key] = m.get(key, defaults.get(key))
        _obj, created = Matter.objects.update_or_create(code=m["code"], defaults=values)
        (report.created if created else report.updated).append(m["code"])
    if deactivate_missing:
        gone = Matter.objects.exclude(code__in=[m["code"] for m in matters]).filter(active=True)
        report.deactivated = list(gone.values_list("code", flat=True))
        gone.update(active=False)
    return report
