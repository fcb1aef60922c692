"""Early warning (预警) on the screen: a tile with the open topics and those raised today,
and a feed line for each topic raised. Read through ``minsheng.warning.queries``, so the
reader sees only the topics they may."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from minsheng.accounts.actors import Actor
from minsheng.warning import queries as warnings

from . import registry
from .queries import local_midnight
from .registry import FeedItem, FeedSource, ScreenContext, Tile, TileValue
from .sources import FEED_WINDOW


def tile_values(ctx: ScreenContext) -> dict[str, TileValue]:
    """Today: topics raised today; month: topics open now."""
    url = reverse("warning:list")
    raised_today = warnings.raised_count(ctx.actor, local_midnight(ctx.today))
    open_now = warnings.open_count(ctx.actor)
    return {
        "today": TileValue(text=str(raised_today), url=url, value=raised_today, low=raised_today > 0),
        "month": TileValue(text=str(open_now), url=url, value=open_now, low=open_now > 0),
    }


def feed_items(actor: Actor, now: dt.datetime, since: dt.datetime | None, limit: int) -> list[FeedItem]:
    topics = warnings.raised_since(actor, since or now - FEED_WINDOW, limit=limit)
    return [
        FeedItem(
            at=t.raised_at,
            kind="warning",
            label=_("Early warning") + f" · {t.place.name} · {t.matter.name}",
            title=t.title,
            url=reverse("warning:topic", args=[t.pk]),
            key=f"topic:{t.pk}",
        )
        for t in topics
    ]


def register() -> None:
    registry.register_tile(
        Tile(
            "warnings",
            gettext_lazy("Early warnings"),
            tile_values,
            hint=gettext_lazy("Raised today / governance topics open now."),
        )
    )
    registry.register_feed(FeedSource("warnings", feed_items))
