"""Who may see a reporting partner (报料人): the one rule, for the partners' list, a
partner's page and the confirmation (``verify_partner``)."""

from __future__ import annotations

from django.db.models import QuerySet

from minsheng.accounts.actors import Actor
from minsheng.accounts.models import Role
from minsheng.cases.scoping import CITY_WIDE, unit_subtree_ids

from .models import ReportingPartner

# Besides the city-wide roles: the staff of the unit a partner reports to, or above it.
UNIT_ROLES = frozenset({Role.HANDLER, Role.SUBCENTRE_DISPATCHER})


def visible_partners(actor: Actor) -> QuerySet[ReportingPartner]:
    """City-wide staff see every partner; a unit's handlers and a sub-centre's
    dispatchers see the partners who report to their unit (or to the units under it);
    nobody else sees any."""
    partners = ReportingPartner.objects.all()
    if actor.role in CITY_WIDE:
        return partners
    if actor.role not in UNIT_ROLES or actor.unit is None:
        return partners.none()
    return partners.filter(unit_id__in=unit_subtree_ids(actor.unit))


def may_see_partner(actor: Actor, partner: ReportingPartner) -> bool:
    """Whether ``partner`` is among :func:`visible_partners` (one query)."""
    return visible_partners(actor).filter(pk=partner.pk).exists()
