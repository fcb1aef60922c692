"""What the screen shows, as a list parts can add to: KPI tiles and feed sources.

The screen (``views.py``) draws every registered tile and merges every registered feed
source; nothing on it is hard-wired to one part. ``sources.py`` registers the built-in ones
(the measures the city is judged by, from ``stats``; new cases, breaches and alarms from the
case log). A part added later (early warning, 预警) adds its own with one call there, e.g.::

    registry.register_tile(Tile("warnings", _("Open warnings"), warnings.screen.tile_value))
    registry.register_feed(FeedSource("warnings", warnings.screen.feed_items))

The parts sit below this app in the layering (``pyproject.toml``), so this app imports them,
never the other way round (as ``urls`` does).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from minsheng.accounts.actors import Actor


@dataclass(frozen=True)
class TileValue:
    """One figure of a tile for one period: the text shown, the link to its cases, and the
    raw numbers (for the JSON and the tests)."""

    text: str
    url: str = ""
    value: float | None = None
    numerator: int | None = None
    denominator: int | None = None
    low: bool = False  # under the city's mark: shown red


@dataclass
class ScreenContext:
    """What every tile of one request shares: the reader, the moment, the periods, and a
    memo so that tiles reading the same report compute it once."""

    actor: Actor
    now: dt.datetime
    today: dt.date
    month_start: dt.date
    memo: dict[str, Any] = field(default_factory=dict)

    def once(self, key: str, fn: Callable[[], Any]) -> Any:
        if key not in self.memo:
            self.memo[key] = fn()
        return self.memo[key]


# A tile's value for "today" and "month" (either may be missing: a count has no month).
TileFn = Callable[[ScreenContext], dict[str, TileValue]]


@dataclass(frozen=True)
class Tile:
    key: str
    label: Any  # lazy string
    values: TileFn
    hint: Any = ""


@dataclass(frozen=True)
class FeedItem:
    """One line of the live feed."""

    at: dt.datetime
    kind: str  # "case", "breach", "alarm", …: the line's colour
    label: str  # what happened, in the reader's language
    title: str
    url: str
    key: str  # unique across sources, newest wins the tie ("event:123")


# Items newer than ``since`` (or the latest ones when ``None``), at most ``limit``.
FeedFn = Callable[[Actor, dt.datetime, "dt.datetime | None", int], list[FeedItem]]


@dataclass(frozen=True)
class FeedSource:
    key: str
    items: FeedFn


_tiles: dict[str, Tile] = {}
_feeds: dict[str, FeedSource] = {}


def register_tile(tile: Tile) -> None:
    """Add a tile (registering a key again replaces it: reloads in tests)."""
    _tiles[tile.key] = tile


def register_feed(source: FeedSource) -> None:
    _feeds[source.key] = source


def tiles() -> list[Tile]:
    return list(_tiles.values())


def feeds() -> list[FeedSource]:
    return list(_feeds.values())
