"""Finding the place of a point, from the boundaries stored in the database."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from .models import GRASSROOTS_KINDS, TOWN_KINDS, Place

_lock = threading.Lock()


@dataclass
class _Index:
    stamp: tuple[Any, ...]
    tree: Any
    place_ids: list[int]
    levels: list[int]  # 0 village/community, 1 town/street: the lowest level wins


_index: _Index | None = None


def _load_index() -> _Index:
    from shapely import STRtree, prepare
    from shapely.geometry import shape

    global _index
    stamp = (Place.objects.count(), Place.objects.order_by("-pk").values_list("pk", flat=True).first())
    with _lock:
        if _index is not None and _index.stamp == stamp:
            return _index
        geoms, ids, levels = [], [], []
        for level, kinds in enumerate((GRASSROOTS_KINDS, TOWN_KINDS)):
            for pk, boundary in Place.objects.filter(
                kind__in=kinds, boundary__isnull=False
            ).values_list("pk", "boundary"):
                g = shape(boundary)
                prepare(g)
                geoms.append(g)
                ids.append(pk)
                levels.append(level)
        _index = _Index(stamp, STRtree(geoms) if geoms else None, ids, levels)
        return _index


def locate_point(lat: float, lng: float) -> Place | None:
    """The village/community containing the point (WGS-84), else its town/street, else
    ``None`` (outside the city: a dispatcher decides)."""
    from shapely import Point

    index = _load_index()
    if index.tree is None:
        return None
    hits = [int(i) for i in index.tree.query(Point(lng, lat), predicate="intersects")]
    if not hits:
        return None
    best = min(hits, key=lambda i: (index.levels[i], i))
    return Place.objects.select_related("parent").get(pk=index.place_ids[best])


def reset_cache() -> None:
    global _index
    with _lock:
        _index = None
