"""Ordering a field worker's tasks by distance, and the links that open a navigation
app at the spot."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from minsheng.places.coords import distance_m, wgs84_to_gcj02


@dataclass(frozen=True)
class Position:
    lat: float
    lng: float
    source: str  # browser, last (remembered), arrival


def _point(case: Any) -> tuple[float, float] | None:
    if case.lat is not None and case.lng is not None:
        return case.lat, case.lng
    return None


def order_nearest(cases: list[Any], where: Position | None) -> list[dict[str, Any]]:
    """Nearest first from ``where``; cases without a point after those with one; urgent
    before others at the same distance; without a position, urgent then oldest first."""
    rows = []
    for case in cases:
        point = _point(case)
        metres = distance_m(where.lat, where.lng, *point) if (where and point) else None
        rows.append({"case": case, "metres": metres, "nav": nav_links(case)})

    def key(row: dict[str, Any]) -> tuple:
        c = row["case"]
        missing = row["metres"] is None
        return (missing, row["metres"] or 0.0, not c.urgent, c.created_at, c.pk)

    return sorted(rows, key=key)


def nav_links(case: Any) -> dict[str, str] | None:
    """AMap's marker link (GCJ-02, as AMap expects: the stored WGS-84 point converted)
    and a ``geo:`` link (WGS-84, RFC 5870) that Android hands to any map app."""
    point = _point(case)
    if point is None:
        return None
    lat, lng = point
    glat, glng = wgs84_to_gcj02(lat, lng)
    label = (case.address or case.title or case.number)[:40]
    amap = "https://uri.amap.com/marker?" + urlencode(
        {
            "position": f"{glng:.6f},{glat:.6f}",
            "name": label,
            "coordinate": "gaode",
            "callnative": "1",
        }
    )
    geo = f"geo:{lat:.6f},{lng:.6f}?q={lat:.6f},{lng:.6f}({quote(label)})"
    return {"amap": amap, "geo": geo}


def distance_words(metres: float | None) -> str:
    if metres is None:
        return ""
    if metres < 1000:
        return f"{round(metres / 10) * 10:.0f} m"
    return f"{metres / 1000:.1f} km"
