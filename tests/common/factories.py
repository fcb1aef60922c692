"""A small city built in code for tests: two towns with two villages each, units for
each level, two departments, a list of matters, and one user per role."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model

from minsheng.accounts.actors import Actor
from minsheng.accounts.models import Profile, Role, Unit, UnitKind
from minsheng.catalog.models import Matter
from minsheng.places.models import Place, PlaceKind
from minsheng.places.queries import reset_cache

PASSWORD = "test-pass-123"
_seq = itertools.count(1)


def square(lng0: float, lat0: float, size: float) -> dict[str, Any]:
    ring = [[lng0, lat0], [lng0 + size, lat0], [lng0 + size, lat0 + size], [lng0, lat0 + size], [lng0, lat0]]
    return {"type": "Polygon", "coordinates": [ring]}


@dataclass
class City:
    places: dict[str, Place] = field(default_factory=dict)
    units: dict[str, Unit] = field(default_factory=dict)
    users: dict[str, Any] = field(default_factory=dict)
    matters: dict[str, Matter] = field(default_factory=dict)

    def actor(self, name: str) -> Actor:
        user = get_user_model().objects.select_related("profile__unit").get(pk=self.users[name].pk)
        return Actor.of(user)

    # Points inside each village (each village is a 0.05° square).
    POINTS = {
        "east.a": (30.725, 121.025),
        "east.b": (30.725, 121.075),
        "west.a": (30.725, 120.925),
        "west.b": (30.725, 120.975),
    }


def make_user(username: str, role: str, unit: Unit | None, display: str = "") -> Any:
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    Profile.objects.create(user=user, role=role, unit=unit, display_name=display or username)
    return user


def make_city() -> City:
    c = City()
    city = Place.objects.create(
        code="city", name="测试市", kind=PlaceKind.CITY, boundary=square(120.9, 30.7, 0.2)
    )
    c.places["city"] = city
    for town_code, name, lng0 in (("east", "东城街道", 121.0), ("west", "西乡镇", 120.9)):
        kind = PlaceKind.STREET if town_code == "east" else PlaceKind.TOWN
        town = Place.objects.create(
            code=town_code, name=name, kind=kind, parent=city, boundary=square(lng0, 30.7, 0.1)
        )
        c.places[town_code] = town
        for i, v in enumerate(("a", "b")):
            code = f"{town_code}.{v}"
            c.places[code] = Place.objects.create(
                code=code,
                name=f"{name[:2]}{v.upper()}村",
                kind=PlaceKind.VILLAGE,
                parent=town,
                boundary=square(lng0 + 0.05 * i, 30.7, 0.05),
            )
    reset_cache()
    centre = Unit.objects.create(code="centre", name="市指挥中心", kind=UnitKind.CENTRE, place=city)
    c.units["centre"] = centre
    for town_code in ("east", "west"):
        sub = Unit.objects.create(
            code=f"sub-{town_code}",
            name=f"{c.places[town_code].name}分中心",
            kind=UnitKind.SUBCENTRE,
            place=c.places[town_code],
            parent=centre,
        )
        c.units[f"sub-{town_code}"] = sub
        for v in ("a", "b"):
            code = f"{town_code}.{v}"
            c.units[f"gr-{code}"] = Unit.objects.create(
                code=f"gr-{code}",
                name=c.places[code].name,
                kind=UnitKind.GRASSROOTS,
                place=c.places[code],
                parent=sub,
            )
    c.units["roads"] = Unit.objects.create(code="roads", name="住建局", kind=UnitKind.DEPARTMENT)
    c.units["water"] = Unit.objects.create(code="water", name="水务集团", kind=UnitKind.DEPARTMENT)
    c.matters["road.manhole"] = Matter.objects.create(
        code="road.manhole",
        name="窨井盖",
        owner_unit=c.units["roads"],
        resolve_working_days=2,
        urgent_resolve_hours=8,
        keywords=["井盖"],
    )
    c.matters["water.sewage"] = Matter.objects.create(
        code="water.sewage", name="污水", owner_unit=c.units["water"], resolve_working_days=3
    )
    c.matters["neighbor.dispute"] = Matter.objects.create(
        code="neighbor.dispute", name="邻里纠纷", owner_unit=None, resolve_working_days=7
    )
    users = {
        "operator": (Role.OPERATOR, "centre"),
        "dispatcher": (Role.CITY_DISPATCHER, "centre"),
        "sub_east": (Role.SUBCENTRE_DISPATCHER, "sub-east"),
        "sub_west": (Role.SUBCENTRE_DISPATCHER, "sub-west"),
        "roads": (Role.HANDLER, "roads"),
        "water": (Role.HANDLER, "water"),
        "village_ea": (Role.HANDLER, "gr-east.a"),
        "field_roads": (Role.FIELD_WORKER, "roads"),
        "field_roads2": (Role.FIELD_WORKER, "roads"),
        "leader": (Role.LEADER, None),
        "admin": (Role.ADMIN, None),
    }
    for name, (role, unit_code) in users.items():
        c.users[name] = make_user(name, role, c.units.get(unit_code) if unit_code else None)
    return c


def intake(
    city: City,
    *,
    by: str = "operator",
    category: str | None = "road.manhole",
    point: str | None = "east.a",
    text: str = "人行道上井盖破了，很危险",
    phone: str = "13812345678",
    **kw: Any,
):
    from minsheng.cases.actions import Intake, accept_case

    lat, lng = City.POINTS[point] if point else (None, None)
    return accept_case(
        city.actor(by),
        Intake(
            channel=kw.pop("channel", "hotline"),
            text=text,
            lat=lat,
            lng=lng,
            category=category,
            requester_name=kw.pop("name", "张三"),
            requester_phone=phone,
            **kw,
        ),
    )
