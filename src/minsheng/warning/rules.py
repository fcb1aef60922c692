"""Who works with warnings and topics, and which rule judges a matter."""

from __future__ import annotations

from minsheng.accounts.actors import Actor
from minsheng.accounts.models import Role, Unit
from minsheng.cases.scoping import CITY_DESK, CITY_WIDE, unit_subtree_ids

from .detect import Params
from .models import Topic, WarningRule

# Who opens the list of warnings and topics (as the screen).
WARNING_ROLES = frozenset(
    {Role.LEADER, Role.CITY_DISPATCHER, Role.SUBCENTRE_DISPATCHER, Role.ADMIN, Role.HANDLER}
)


def rules_by_matter() -> dict[int | None, WarningRule]:
    """The active rules, by matter id (``None``: the city's default). One query."""
    out: dict[int | None, WarningRule] = {}
    for rule in WarningRule.objects.filter(active=True).order_by("pk"):
        out.setdefault(rule.matter_id, rule)
    return out


def rule_for(rules: dict[int | None, WarningRule], matter_id: int) -> tuple[Params, WarningRule | None]:
    """The matter's rule, else the city's default, else the built-in defaults."""
    rule = rules.get(matter_id) or rules.get(None)
    return (rule.params if rule else Params()), rule


def may_close(actor: Actor, topic: Topic) -> bool:
    """The city desk, or the owner unit's people (a sub-centre for its villages too)."""
    if actor.role in CITY_DESK:
        return True
    if actor.unit is None or topic.owner_unit_id is None or actor.role not in WARNING_ROLES:
        return False
    return topic.owner_unit_id in unit_subtree_ids(actor.unit)


def sees_everything(actor: Actor) -> bool:
    return actor.is_system or actor.role in CITY_WIDE


def own_units(actor: Actor) -> set[int]:
    unit: Unit | None = actor.unit
    return unit_subtree_ids(unit) if unit is not None else set()
