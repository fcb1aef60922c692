"""Reading warnings and topics, only as far as the reader may: the city sees every topic; a
sub-centre those of its town and those its units own; a unit those it owns."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q, QuerySet

from minsheng.accounts.actors import Actor
from minsheng.accounts.models import Role
from minsheng.cases.models import Case
from minsheng.cases.scoping import visible_cases

from . import rules
from .models import Topic, TopicState


def visible_topics(actor: Actor) -> QuerySet[Topic]:
    qs = Topic.objects.all()
    if rules.sees_everything(actor):
        return qs
    if actor.unit is None or actor.role not in rules.WARNING_ROLES:
        return qs.none()
    owned = Q(owner_unit_id__in=rules.own_units(actor))
    if actor.role == Role.SUBCENTRE_DISPATCHER and actor.unit.place_id is not None:
        owned |= Q(town_id=actor.unit.place_id)
    return qs.filter(owned)


def topic_list(actor: Actor, *, state: str = TopicState.OPEN, limit: int = 100) -> list[Topic]:
    """Topics in a state, newest first, with their place, matter, owner and case count
    (one query)."""
    return list(
        visible_topics(actor)
        .filter(state=state)
        .select_related("place", "matter", "owner_unit")
        .annotate(linked=Count("links"))
        .order_by("-raised_at", "-id")[:limit]
    )


def open_count(actor: Actor) -> int:
    return visible_topics(actor).filter(state=TopicState.OPEN).count()


def raised_count(actor: Actor, since: dt.datetime) -> int:
    return visible_topics(actor).filter(raised_at__gte=since).count()


def raised_since(actor: Actor, since: dt.datetime, limit: int = 30) -> list[Topic]:
    return list(
        visible_topics(actor)
        .filter(raised_at__gt=since)
        .select_related("place", "matter")
        .order_by("-raised_at", "-id")[:limit]
    )


def get_topic(actor: Actor, pk: int) -> Topic | None:
    return visible_topics(actor).select_related("place", "town", "matter", "owner_unit").filter(pk=pk).first()


def topic_cases(actor: Actor, topic: Topic) -> list[Case]:
    """The linked cases the reader may see, in the order they came."""
    return list(
        visible_cases(actor)
        .filter(pk__in=topic.links.values("case_id"))
        .select_related("matter", "owner_unit")
        .order_by("created_at", "pk")
    )
