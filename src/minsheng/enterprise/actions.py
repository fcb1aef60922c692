"""Enterprise requests' mutations: the enterprise matters loaded from catalog data, an
enterprise registered with its service officer, and a request taken in as an enterprise's.

A request goes through ``cases.actions.accept_case`` (channel ``enterprise``, one of the
enterprise matters); in the same transaction the case is linked to the enterprise, the log
says whose request it is, and the service officer is told through the outbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _

from minsheng.accounts.actors import Actor
from minsheng.accounts.models import Role
from minsheng.cases import actions as case_actions
from minsheng.cases import kernel
from minsheng.cases.errors import Forbidden, Invalid
from minsheng.cases.models import Case
from minsheng.cases.states import Channel
from minsheng.catalog.actions import load_catalog
from minsheng.catalog.models import Matter
from minsheng.core import clock

from .credit_code import InvalidCreditCode, normalize
from .models import Enterprise, EnterpriseCase, EnterpriseMatter

MATTERS = Path(__file__).parent / "data" / "matters.json"
# Who registers enterprises and names their service officers.
MANAGERS = frozenset({Role.CITY_DISPATCHER, Role.ADMIN, Role.OPERATOR})
# Who may be an enterprise's service officer (服务专员): staff who act for a unit.
OFFICER_ROLES = frozenset({Role.HANDLER, Role.SUBCENTRE_DISPATCHER, Role.CITY_DISPATCHER})


@transaction.atomic
def load_enterprise_matters(path: Path | str = MATTERS) -> list[str]:
    """Create or update the enterprise matters of the data file in the list of matters,
    with their own limits, and mark them as the enterprise's; the codes loaded."""
    report = load_catalog(path)
    codes = report.created + report.updated
    for matter in Matter.objects.filter(code__in=codes):
        EnterpriseMatter.objects.get_or_create(matter=matter)
    return codes


def _bad_code(exc: InvalidCreditCode) -> Invalid:
    return Invalid("credit_code", _("Not a valid unified social credit code: %(why)s.") % {"why": exc})


def _officer(officer_id: int | None) -> Any:
    if officer_id is None:
        return None
    user = (
        get_user_model()
        .objects.filter(pk=officer_id, is_active=True, profile__role__in=OFFICER_ROLES)
        .first()
    )
    if user is None:
        raise Invalid("service_officer", _("Choose a member of staff as the service officer."))
    return user


def register_enterprise(
    actor: Actor, *, credit_code: str, name: str, address: str = "", officer_id: int | None = None
) -> Enterprise:
    """An enterprise, by its unified social credit code (checked), with its service officer;
    registering a known code again updates its name, address and officer."""
    if not (actor.is_system or actor.role in MANAGERS):
        raise Forbidden(_("You may not register enterprises."))
    try:
        code = normalize(credit_code)
    except InvalidCreditCode as exc:
        raise Invalid(
            "credit_code", _("Not a valid unified social credit code: %(why)s.") % {"why": exc}
        ) from exc
    name = name.strip()
    if not name:
        raise Invalid("name", _("Give the enterprise's name."))
    officer = _officer(officer_id)
    enterprise, _created = Enterprise.objects.update_or_create(
        credit_code=code,
        defaults={"name": name[:128], "address": address.strip()[:200], "service_officer": officer},
        create_defaults={
            "name": name[:128],
            "address": address.strip()[:200],
            "service_officer": officer,
            "created_at": clock.now(),
        },
    )
    return enterprise


def accept_enterprise_request(actor: Actor, credit_code: str, data: case_actions.Intake) -> Case:
    """受理 an enterprise's request (涉企诉求): one of the enterprise matters, channel
    ``enterprise``, linked to the enterprise, its service officer told."""
    try:
        code = normalize(credit_code)
    except InvalidCreditCode as exc:
        raise Invalid(
            "credit_code", _("Not a valid unified social credit code: %(why)s.") % {"why": exc}
        ) from exc
    enterprise = Enterprise.objects.select_related("service_officer").filter(credit_code=code).first()
    if enterprise is None:
        raise Invalid("credit_code", _("No enterprise with this code: register it first."))
    if not data.category or not EnterpriseMatter.objects.filter(matter__code=data.category).exists():
        raise Invalid("category", _("Choose one of the enterprise matters."))
    data.channel = Channel.ENTERPRISE
    with transaction.atomic():
        case = case_actions.accept_case(actor, data)
        EnterpriseCase.objects.create(case=case, enterprise=enterprise, created_at=case.created_at)
        with kernel.change(Actor.system(_("Enterprise requests")), case.pk, "enterprise_linked") as ch:
            officer = enterprise.service_officer
            ch.event(
                note=enterprise.name,
                data={
                    "enterprise": enterprise.pk,
                    "credit_code": enterprise.credit_code,
                    "name": enterprise.name,
                    "service_officer": officer.get_username() if officer else None,
                },
            )
            if officer is not None:
                ch.notify(
                    "enterprise_case",
                    user=officer,
                    context={"number": case.number, "title": case.title, "enterprise": enterprise.name},
                )
        case.refresh_from_db()
        return case
