"""What changes warnings and topics: the detector's pass (incremental: it reads only the
cases after its cursor), raising a topic (with its linked cases, each recorded in the case's
log through the case kernel, and the owner told through the outbox), and closing one."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from minsheng.accounts.actors import Actor
from minsheng.accounts.models import Unit, UnitKind
from minsheng.cases import kernel
from minsheng.cases.errors import Conflict, Forbidden, Invalid, NotFound
from minsheng.cases.models import Case
from minsheng.catalog.models import Matter
from minsheng.core import clock
from minsheng.core.text import clean_text
from minsheng.notify.actions import enqueue
from minsheng.places.models import Place

from . import rules
from .detect import Decision, Params, evaluate
from .models import DetectorCursor, Topic, TopicCase, TopicState, WarningRule

log = logging.getLogger("minsheng.warning")

# A case is judged once it is this old: an intake's transaction has committed by then, so a
# case committed after one with a higher id is not skipped by the cursor.
SETTLE = dt.timedelta(seconds=10)
LABEL_MAX = 64
FIRST_LOOKBACK = dt.timedelta(days=1)


def detect_pass(now: dt.datetime | None = None, limit: int = 500) -> int:
    """Judge the cases after the cursor (at most ``limit``), each at its own time, against
    its place × matter's usual level; raise a topic where the count is beyond it, or link the
    case to the key's open topic. Answers the number of topics raised. One transaction; the
    cursor row is locked, so two workers never judge a case twice."""
    now = now or clock.now()
    raised = 0
    with transaction.atomic():
        cursor = DetectorCursor.objects.select_for_update().filter(pk=1).first()
        if cursor is None:
            # The first pass on a city with a past starts a day back: old clusters are history,
            # not warnings to send now.
            before = Case.objects.filter(created_at__lt=now - FIRST_LOOKBACK).order_by("-pk").first()
            cursor = DetectorCursor.objects.create(pk=1, last_case_id=before.pk if before else 0)
        new = list(
            Case.objects.filter(pk__gt=cursor.last_case_id, created_at__lte=now - SETTLE)
            .order_by("pk")
            .values("pk", "created_at", "place_id", "matter_id")[:limit]
        )
        if not new:
            return 0
        by_key: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
        for row in new:
            if row["place_id"] is not None and row["matter_id"] is not None:
                by_key[(row["place_id"], row["matter_id"])].append(dict(row))
        all_rules = rules.rules_by_matter() if by_key else {}
        for key, rows in by_key.items():
            raised += _judge_key(key, rows, all_rules, now)
        cursor.last_case_id = new[-1]["pk"]
        cursor.updated_at = now
        cursor.save(update_fields=["last_case_id", "updated_at"])
    return raised


def _judge_key(
    key: tuple[int, int],
    rows: list[dict[str, Any]],
    all_rules: dict[int | None, WarningRule],
    now: dt.datetime,
) -> int:
    place_id, matter_id = key
    params, rule = rules.rule_for(all_rules, matter_id)
    rows.sort(key=lambda r: (r["created_at"], r["pk"]))
    first, last = rows[0]["created_at"], rows[-1]["created_at"]
    times = list(
        Case.objects.filter(
            place_id=place_id,
            matter_id=matter_id,
            created_at__gt=first - params.history,
            created_at__lte=last,
        )
        .order_by("created_at")
        .values_list("created_at", flat=True)
    )
    topic = Topic.objects.filter(place_id=place_id, matter_id=matter_id, state=TopicState.OPEN).first()
    raised = 0
    for row in rows:
        if topic is not None:
            _link(topic, [row["pk"]], now)
            continue
        if rule is not None and not rule.active:
            continue
        decision = evaluate(times, row["created_at"], params)
        if decision.fire:
            topic = raise_topic(place_id, matter_id, row["created_at"], decision, params, rule, now)
            raised += 1
    return raised


def owner_for(matter: Matter, town: Place | None, rule: WarningRule | None) -> Unit | None:
    """The rule's unit, else the matter's, else the town's sub-centre (块)."""
    if rule is not None and rule.owner_unit_id is not None:
        return rule.owner_unit
    if matter.owner_unit_id is not None:
        return matter.owner_unit
    if town is not None:
        return Unit.objects.filter(kind=UnitKind.SUBCENTRE, place=town, active=True).order_by("pk").first()
    return None


def _town_of(place: Place) -> Place | None:
    node: Place | None = place
    while node is not None and node.kind not in ("town", "street"):
        node = node.parent
    return node


def raise_topic(
    place_id: int,
    matter_id: int,
    at: dt.datetime,
    decision: Decision,
    params: Params,
    rule: WarningRule | None,
    now: dt.datetime,
) -> Topic:
    """A warning becomes a topic: the cases in its window linked, the owner told."""
    place = Place.objects.select_related("parent__parent").get(pk=place_id)
    matter = Matter.objects.select_related("owner_unit").get(pk=matter_id)
    town = _town_of(place)
    owner = owner_for(matter, town, rule)
    in_window = list(
        Case.objects.filter(
            place_id=place_id, matter_id=matter_id, created_at__gt=at - params.window, created_at__lte=at
        )
        .order_by("created_at", "pk")
        .values_list("pk", "created_at")
    )
    deadline_hours = rule.deadline_hours if rule is not None else 72
    topic = Topic.objects.create(
        title=_("%(place)s: %(count)d reports of %(matter)s within %(minutes)d minutes")
        % {
            "place": place.name,
            "count": decision.count,
            "matter": matter.name,
            "minutes": params.window_minutes,
        },
        place=place,
        town=town,
        matter=matter,
        window_minutes=params.window_minutes,
        count=decision.count,
        expected=decision.expected,
        chance=decision.chance,
        first_report_at=in_window[0][1] if in_window else at,
        judged_at=at,
        raised_at=now,
        owner_unit=owner,
        deadline=now + dt.timedelta(hours=deadline_hours),
    )
    _link(topic, [pk for pk, _at in in_window], now)
    if owner is not None:
        enqueue(
            "warning_raised",
            unit=owner,
            context={
                "title": topic.title,
                "place": place.name,
                "matter": matter.name,
                "count": decision.count,
                "expected": round(decision.expected, 2),
                "minutes": params.window_minutes,
                "deadline_local": timezone.localtime(topic.deadline).strftime("%Y-%m-%d %H:%M"),
                "topic_url": reverse("warning:topic", args=[topic.pk]),
            },
        )
    log.info("warning raised: %s (expected %.2f)", topic.title, decision.expected)
    return topic


def _link(topic: Topic, case_ids: list[int], at: dt.datetime) -> None:
    """Link cases to the topic, each once, with an entry in its log (through the kernel)."""
    have = set(TopicCase.objects.filter(topic=topic, case_id__in=case_ids).values_list("case_id", flat=True))
    label = str(_("Early warning"))[:LABEL_MAX]
    for case in Case.objects.filter(pk__in=[pk for pk in case_ids if pk not in have]).order_by("pk"):
        TopicCase.objects.create(topic=topic, case=case, linked_at=at)
        kernel.record(case, "topic_linked", at, label=label, note=topic.title, data={"topic": topic.pk})


def close_topic(actor: Actor, topic_id: int, *, conclusion: str) -> Topic:
    """The owner (or the city desk) closes a topic with what was done about the cause."""
    text = clean_text((conclusion or "").replace("\x00", "")).strip()
    with transaction.atomic():
        topic = Topic.objects.select_for_update().filter(pk=topic_id).first()
        if topic is None or not _sees(actor, topic):
            raise NotFound(_("No such topic."))
        if not rules.may_close(actor, topic):
            raise Forbidden(_("Only the topic's owner unit or the city desk closes it."))
        if not topic.is_open:
            raise Conflict(_("This topic is already closed."), state=topic.state, version=0)
        if not text:
            raise Invalid("conclusion", _("Say what was done about the cause."))
        topic.state = TopicState.CLOSED
        topic.closed_at = clock.now()
        topic.closed_by = actor.label[:LABEL_MAX]
        topic.conclusion = text
        topic.save(update_fields=["state", "closed_at", "closed_by", "conclusion"])
    return topic


def _sees(actor: Actor, topic: Topic) -> bool:
    from .queries import visible_topics

    return visible_topics(actor).filter(pk=topic.pk).exists()
