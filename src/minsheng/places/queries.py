"""The places stored in the database, as a locator (point → place) and a gazetteer
(address → place). Both are built once per process from the ``Place`` rows and rebuilt
when the rows change (checked at most every ``RECHECK_SECONDS``, so an edit in the admin
reaches every process within that time without a restart)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max

from .gazetteer import Gazetteer
from .locator import PlaceLocator
from .models import NamedFeature, Place

RECHECK_SECONDS = 30.0
_lock = threading.Lock()


@dataclass
class _Index:
    stamp: tuple[Any, ...]
    checked: float
    locator: PlaceLocator
    gazetteer: Gazetteer
    ids: dict[str, int]


_index: _Index | None = None


def _stamp() -> tuple[Any, ...]:
    places = Place.objects.aggregate(n=Count("pk"), last=Max("pk"))
    features = NamedFeature.objects.aggregate(n=Count("pk"), last=Max("pk"))
    return (places["n"], places["last"], features["n"], features["last"])


def city_dict() -> dict[str, Any]:
    """Places, roads and landmarks from the database, in the city-file shape."""
    roads: list[dict[str, Any]] = []
    landmarks: list[dict[str, Any]] = []
    for f in NamedFeature.objects.select_related("place"):
        row = {
            "name": f.name,
            "geometry": f.geometry,
            "aliases": f.aliases,
            "place": f.place.code if f.place else None,
        }
        (roads if f.kind == NamedFeature.Kind.ROAD else landmarks).append(row)
    return {"places": [p for p in place_dicts() if p["boundary"]], "roads": roads, "landmarks": landmarks}


def _center(p: Place) -> list[float] | None:
    if p.center_lat is not None and p.center_lng is not None:
        return [p.center_lat, p.center_lng]
    if p.boundary:
        from shapely.geometry import shape

        pt = shape(p.boundary).representative_point()
        return [pt.y, pt.x]
    return None


def place_dicts() -> list[dict[str, Any]]:
    """The places in the city-file shape that the locator and gazetteer read."""
    rows = Place.objects.select_related("parent").order_by("pk")
    return [
        {
            "code": p.code,
            "name": p.name,
            "kind": p.kind,
            "parent": p.parent.code if p.parent else None,
            "center": _center(p),
            "boundary": p.boundary,
        }
        for p in rows
    ]


def _current() -> _Index:
    global _index
    now = time.monotonic()
    index = _index
    if index is not None and now - index.checked < RECHECK_SECONDS:
        return index
    with _lock:
        stamp = _stamp()
        if _index is not None and _index.stamp == stamp:
            _index.checked = now
            return _index
        city = city_dict()
        loc = PlaceLocator.from_geojson(city["places"])
        _index = _Index(
            stamp=stamp,
            checked=now,
            locator=loc,
            gazetteer=Gazetteer.from_city(city, loc),
            ids=dict(Place.objects.values_list("code", "pk")),
        )
        return _index


def locator() -> PlaceLocator:
    return _current().locator


def locate_point(lat: float, lng: float) -> Place | None:
    """The village/community containing the WGS-84 point (or its town where the data has
    no villages); ``None`` outside the city: a dispatcher decides, nothing is guessed."""
    code = place_code_at(lat, lng)
    return None if code is None else Place.objects.select_related("parent").get(pk=_current().ids[code])


def locate_address(address: str) -> tuple[Place, float | None, float | None, dict] | None:
    """The place an address names (fuzzy: prefixes, missing suffixes, typos), with an
    approximate point and what matched; ``None`` when nothing matches well enough."""
    found = address_match(address)
    if found is None:
        return None
    code, lat, lng, info = found
    return Place.objects.select_related("parent").get(pk=_current().ids[code]), lat, lng, info


def place_code_at(lat: float, lng: float) -> str | None:
    """The code of the place :func:`locate_point` answers, found in memory (no query): for
    many points at once, with :func:`places_by_code` reading their rows in one query."""
    found = _current().locator.locate(lat, lng)
    return found.code if found is not None else None


def address_match(address: str) -> tuple[str, float | None, float | None, dict] | None:
    """What :func:`locate_address` answers, with the place's code instead of its row, found
    in memory (no query)."""
    index = _current()
    if not index.ids:
        return None
    match = index.gazetteer.match(address)
    if match is None or match.code not in index.ids:
        return None
    lat, lng = match.point if match.point else (None, None)
    info = {
        "matched": match.name,
        "matched_kind": match.kind,
        "score": round(match.score, 1),
        "approximate": True,
    }
    return match.code, lat, lng, info


def places_by_code(codes: set[str]) -> dict[str, Place]:
    """The places with these codes, each with its parent, in one query."""
    if not codes:
        return {}
    return {p.code: p for p in Place.objects.select_related("parent").filter(code__in=codes).order_by()}


@dataclass(frozen=True)
class AddressSuggestion:
    """One reading of a partly typed address, for an autocomplete list: what matched (a
    road, landmark or place), the village/community or town it lies in, and a point."""

    name: str
    kind: str
    place: str
    lat: float | None
    lng: float | None
    score: float


def suggest_addresses(text: str, limit: int = 5) -> list[AddressSuggestion]:
    """Up to ``limit`` readings of ``text`` by the gazetteer, best first (fuzzy like
    :func:`locate_address`); none for an empty text or a city without places."""
    index = _current()
    if not index.ids or not (text or "").strip():
        return []
    matches = index.gazetteer.match_all(text[:200], limit=limit)
    names = dict(Place.objects.filter(code__in=[m.code for m in matches]).values_list("code", "name"))
    return [
        AddressSuggestion(
            name=m.name,
            kind=m.kind,
            place=names.get(m.code, ""),
            lat=m.point[0] if m.point else None,
            lng=m.point[1] if m.point else None,
            score=round(m.score, 1),
        )
        for m in matches
    ]


def reset_cache() -> None:
    global _index
    with _lock:
        _index = None
