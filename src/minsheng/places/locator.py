"""Point → village/community and town/street, in pure Python (shapely 2), no database.

Why separate from the database-backed lookup: the gazetteer, the benchmark, imports of old
cases and the tests need to place points without Django, and they need it fast (every
request placed on the map goes through here, and a bulk import places hundreds of thousands).
The locator indexes only the lowest-level polygons (villages/communities, or a town that has
no villages in the data): since the levels tile each other, the lowest polygon containing a
point also answers which town it is in, with one lookup instead of two.

A point in no polygon returns ``None``: it is outside the city (or in a gap of real-world
data), and the caller sends the request to the city's dispatcher with that reason.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely import STRtree
from shapely.geometry import shape

__all__ = [
    "DEMO_CITY_PATH",
    "TOWN_KINDS",
    "LocatedPlace",
    "PlaceLocator",
    "load_demo_city",
]

DEMO_CITY_PATH = Path(__file__).resolve().parent / "data" / "demo_city.json"
TOWN_KINDS = frozenset({"town", "street"})


def load_demo_city(path: Path | str | None = None) -> dict[str, Any]:
    """Read the demo city (or another city file of the same shape) as a dict."""
    return json.loads(Path(path or DEMO_CITY_PATH).read_text(encoding="utf-8"))


@dataclass(frozen=True, slots=True)
class LocatedPlace:
    """Where a point is: the lowest-level place and its town/street.

    ``code``/``name``/``kind`` describe the village/community (kind "village" or
    "community"); for data where a town has no villages they describe the town itself, and
    then ``town_code == code``. ``town_code`` is None only if the place hangs under no
    town/street at all.
    """

    code: str
    name: str
    kind: str
    town_code: str | None
    town_name: str | None

    @property
    def village_code(self) -> str | None:
        """The village/community code, or None when the lowest level found is a town."""
        return None if self.kind in TOWN_KINDS else self.code


class PlaceLocator:
    """An STRtree over prepared lowest-level polygons.

    Build it once (``from_geojson`` takes about a millisecond per hundred places) and share
    it: it is immutable after construction and safe to use from several threads.
    """

    __slots__ = ("_bounds", "_by_code", "_geoms", "_results", "_tree")

    def __init__(
        self, geoms: Sequence[Any], results: Sequence[LocatedPlace], places_by_code: dict[str, dict[str, Any]]
    ) -> None:
        if len(geoms) != len(results):
            raise ValueError("one result per geometry")
        self._geoms = np.asarray(geoms, dtype=object)
        for g in self._geoms:
            shapely.prepare(g)  # prepared geometries make repeated point tests ~10x faster
        self._results = tuple(results)
        self._tree = STRtree(self._geoms)
        self._by_code = places_by_code
        if len(self._geoms):
            minx, miny, maxx, maxy = shapely.total_bounds(self._geoms)
        else:
            minx = miny = maxx = maxy = math.nan
        self._bounds = (float(miny), float(minx), float(maxy), float(maxx))

    @classmethod
    def from_geojson(cls, places: Iterable[dict[str, Any]]) -> PlaceLocator:
        """Build from place dicts as in ``demo_city.json``: code, name, kind, parent and a
        GeoJSON Polygon/MultiPolygon ``boundary`` in WGS-84 [lng, lat] order.

        Places without a boundary are kept for names and parents but not indexed. Invalid
        polygons are rejected here rather than giving wrong answers later.
        """
        by_code: dict[str, dict[str, Any]] = {}
        for p in places:
            code = p["code"]
            if code in by_code:
                raise ValueError(f"duplicate place code {code!r}")
            by_code[code] = p
        parents = {p.get("parent") for p in by_code.values() if p.get("parent")}

        def town_of(code: str) -> dict[str, Any] | None:
            seen: set[str] = set()
            node: dict[str, Any] | None = by_code.get(code)
            while node is not None and node["kind"] not in TOWN_KINDS:
                if node["code"] in seen:
                    raise ValueError(f"cycle in the parents of {code!r}")
                seen.add(node["code"])
                parent = node.get("parent")
                node = by_code.get(parent) if parent else None
            return node

        geoms, results = [], []
        for code, p in by_code.items():
            if code in parents or not p.get("boundary"):
                continue  # only the lowest level is indexed
            geom = shape(p["boundary"])
            if geom.geom_type not in ("Polygon", "MultiPolygon") or not geom.is_valid:
                reason = shapely.is_valid_reason(geom)
                raise ValueError(f"place {code!r} has no valid polygon boundary ({reason})")
            town = town_of(code)
            geoms.append(geom)
            results.append(
                LocatedPlace(
                    code=code,
                    name=p["name"],
                    kind=p["kind"],
                    town_code=town["code"] if town else None,
                    town_name=town["name"] if town else None,
                )
            )
        return cls(geoms, results, by_code)

    @classmethod
    def demo(cls) -> PlaceLocator:
        """The locator for the bundled demo city."""
        return cls.from_geojson(load_demo_city()["places"])

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(min_lat, min_lng, max_lat, max_lng) of the indexed polygons, e.g. for
        ``coords.validate_point(..., bounds=locator.bounds)``."""
        return self._bounds

    def __len__(self) -> int:
        return len(self._results)

    def place(self, code: str) -> dict[str, Any] | None:
        """The place dict this locator was built from, by code."""
        return self._by_code.get(code)

    def locate(self, lat: float, lng: float) -> LocatedPlace | None:
        """The lowest-level place containing the WGS-84 point, or None outside every polygon.

        A point exactly on a shared border belongs to the first place in data order, so the
        answer is deterministic. NaN/inf give None (validate input with
        ``coords.validate_point`` first to tell the client why).
        """
        min_lat, min_lng, max_lat, max_lng = self._bounds
        # The comparisons are also False for NaN, so it falls out here too.
        if not (min_lat <= lat <= max_lat and min_lng <= lng <= max_lng):
            return None
        # Bounding-box candidates from the tree, then the exact test on prepared polygons.
        for i in sorted(self._tree.query(shapely.Point(lng, lat))):
            if shapely.intersects_xy(self._geoms[i], lng, lat):
                return self._results[i]
        return None

    def locate_many(
        self, lats: Sequence[float] | np.ndarray, lngs: Sequence[float] | np.ndarray
    ) -> list[LocatedPlace | None]:
        """Vectorised ``locate`` for bulk work (imports, benchmarks): one tree query."""
        xs = np.asarray(lngs, dtype=float)
        ys = np.asarray(lats, dtype=float)
        if xs.shape != ys.shape or xs.ndim != 1:
            raise ValueError("lats and lngs must be 1-D sequences of the same length")
        out: list[LocatedPlace | None] = [None] * len(xs)
        if not len(xs):
            return out
        pts = shapely.points(xs, ys)
        point_idx, geom_idx = self._tree.query(pts, predicate="intersects")
        # Several hits only on shared borders: keep the first place in data order.
        order = np.lexsort((geom_idx, point_idx))
        for pi, gi in zip(point_idx[order], geom_idx[order], strict=True):
            if out[pi] is None:
                out[pi] = self._results[gi]
        return out
