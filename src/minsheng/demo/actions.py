"""The demo city (平湖市, illustrative geography): places, units, staff, and a few cases.

Loading is idempotent: places and units are matched by code, staff by user name, and the
demo cases are made only when the database has none. The parts' demo rows (enterprises and
their requests, proposals, 110's transfers: ``parts.py``) are each found by their own key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from minsheng.accounts.models import Profile, Role, Unit, UnitKind
from minsheng.catalog.actions import load_catalog
from minsheng.core.conf import setting
from minsheng.knowledge.actions import load_articles
from minsheng.places.models import GRASSROOTS_KINDS, TOWN_KINDS, NamedFeature, Place, PlaceKind
from minsheng.places.queries import reset_cache

DEMO_CITY = Path(__file__).resolve().parent.parent / "places" / "data" / "demo_city.json"
DEMO_PASSWORD = "minsheng2026"  # noqa: S105  (demo accounts only; printed by make run)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    display_name: str
    role: str
    unit_code: str | None


DEMO_ACCOUNTS = (
    DemoAccount("operator", "王芳 (话务员)", Role.OPERATOR, "centre"),
    DemoAccount("dispatcher", "李强 (市级调度)", Role.CITY_DISPATCHER, "centre"),
    DemoAccount("danghu", "张敏 (当湖街道分中心)", Role.SUBCENTRE_DISPATCHER, "sub-danghu"),
    DemoAccount("zjj", "陈刚 (住建局)", Role.HANDLER, "zjj"),
    DemoAccount("swjt", "周洁 (水务集团)", Role.HANDLER, "swjt"),
    DemoAccount("shuidongdai", "吴丽 (水洞埭社区)", Role.HANDLER, "gr-danghu.shuidongdai"),
    DemoAccount("field", "赵磊 (住建局外勤)", Role.FIELD_WORKER, "zjj"),
    DemoAccount("leader", "刘洋 (领导)", Role.LEADER, None),
    DemoAccount("admin", "系统管理员", Role.ADMIN, None),
)


def _load_places(data: dict[str, Any], city_file: Path) -> dict[str, Place]:
    by_code: dict[str, Place] = {}
    pending = list(data["places"])
    # Parents first: repeat passes until every place's parent exists.
    while pending:
        progressed = False
        for p in list(pending):
            parent = by_code.get(p["parent"]) if p.get("parent") else None
            if p.get("parent") and parent is None:
                continue
            center = p.get("center") or [None, None]
            place, _ = Place.objects.update_or_create(
                code=p["code"],
                defaults={
                    "name": p["name"],
                    "kind": p["kind"],
                    "parent": parent,
                    "center_lat": center[0],
                    "center_lng": center[1],
                    "boundary": p.get("boundary"),
                },
            )
            by_code[place.code] = place
            pending.remove(p)
            progressed = True
        if not progressed:
            raise ValueError(f"places with unknown parents: {[p['code'] for p in pending]}")
    # The file's roads and landmarks replace those loaded from it before (nothing refers
    # to them); features a city added in the admin are kept.
    NamedFeature.objects.filter(extra__source=city_file.name).delete()
    NamedFeature.objects.bulk_create(
        [
            NamedFeature(
                kind=NamedFeature.Kind.ROAD,
                name=r["name"],
                geometry=r["geometry"],
                aliases=r.get("aliases", []),
                extra={"source": city_file.name, "kind": r.get("kind", "")},
            )
            for r in data.get("roads", [])
        ]
        + [
            NamedFeature(
                kind=NamedFeature.Kind.LANDMARK,
                name=lm["name"],
                geometry=lm["geometry"],
                aliases=lm.get("aliases", []),
                place=by_code.get(lm.get("place") or ""),
                extra={"source": city_file.name, "kind": lm.get("kind", "")},
            )
            for lm in data.get("landmarks", [])
        ]
    )
    reset_cache()
    return by_code


def _load_units(places: dict[str, Place]) -> None:
    city = next((p for p in places.values() if p.kind == PlaceKind.CITY), None)
    centre, _ = Unit.objects.update_or_create(
        code="centre",
        defaults={"name": f"{city.name if city else ''}社会治理中心", "kind": UnitKind.CENTRE, "place": city},
    )
    subs: dict[int, Unit] = {}
    for place in places.values():
        if place.kind in TOWN_KINDS:
            subs[place.pk], _ = Unit.objects.update_or_create(
                code=f"sub-{place.code}",
                defaults={
                    "name": f"{place.name}分中心",
                    "kind": UnitKind.SUBCENTRE,
                    "place": place,
                    "parent": centre,
                },
            )
    # The partners Minsheng writes to through the outbox, each as a unit (no webhook in the demo:
    # what is owed to them waits in the outbox, as it would until the city sets their channel).
    from minsheng.province import rules as province_rules
    from minsheng.transfer import rules as transfer_rules

    for code, name in (
        (transfer_rules.police_unit_code(), "110指挥中心"),
        (province_rules.unit_code(), "省12345平台"),
    ):
        Unit.objects.update_or_create(code=code, defaults={"name": name, "kind": UnitKind.DEPARTMENT})
    for place in places.values():
        if place.kind in GRASSROOTS_KINDS and place.parent_id in subs:
            Unit.objects.update_or_create(
                code=f"gr-{place.code}",
                defaults={
                    "name": place.name,
                    "kind": UnitKind.GRASSROOTS,
                    "place": place,
                    "parent": subs[place.parent_id],
                },
            )


def _load_accounts() -> list[DemoAccount]:
    User = get_user_model()
    made = []
    for acc in DEMO_ACCOUNTS:
        user, created = User.objects.get_or_create(username=acc.username)
        if created:
            user.set_password(DEMO_PASSWORD)
            user.is_staff = acc.role == Role.ADMIN
            user.is_superuser = acc.role == Role.ADMIN
            user.save()
            made.append(acc)
        unit = Unit.objects.filter(code=acc.unit_code).first() if acc.unit_code else None
        Profile.objects.update_or_create(
            user=user, defaults={"role": acc.role, "unit": unit, "display_name": acc.display_name}
        )
    return made


class DemoRefused(Exception):
    """The demo city is never loaded in production: its accounts have a published password."""


@transaction.atomic
def load_demo(
    city_file: Path = DEMO_CITY, *, with_cases: bool = True, history_days: int = 90
) -> dict[str, int]:
    """The demo city; with cases, ``history_days`` days of history made through the real
    actions (``history.py``) and the few demo cases of today, on a database with no case."""
    if setting("MINSHENG_ENV", "development") == "production":
        raise DemoRefused(
            "the demo city (with its demo accounts and their published password) is never loaded "
            "in production (MINSHENG_ENV=production)"
        )
    data = json.loads(city_file.read_text(encoding="utf-8"))
    places = _load_places(data, city_file)
    _load_units(places)
    load_catalog()
    # the demo city's knowledge base, valid on any date (owners that are no unit yet become one)
    load_articles(keep_current=True)
    made = _load_accounts()
    cases = 0
    from minsheng.cases.models import Case

    if with_cases:
        from minsheng.sensors.demo import load_demo_devices

        load_demo_devices()  # first: the history raises alarms on these devices
    if with_cases and not Case.objects.exists():
        from .cases import make_demo_cases
        from .history import make_history

        cases = make_history(days=history_days).cases if history_days else 0
        cases += make_demo_cases()
    if with_cases:
        # The parts' own data and their demo rows, each found by its own key: on a database
        # that has cases already, what is missing is added and nothing else changes.
        from . import parts

        cases += parts.load_enterprises(with_requests=True)
        cases += parts.load_proposals(with_cases=True)
        cases += parts.load_transfers()
    return {"places": len(places), "accounts_created": len(made), "cases_created": cases}
