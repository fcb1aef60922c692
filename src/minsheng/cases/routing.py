"""Where a case goes: its place from its point, and its owner from the list of matters."""

from __future__ import annotations

from django.utils.translation import gettext as _

from minsheng.accounts.models import Unit, UnitKind
from minsheng.places.services import locate_address, locate_point

from .models import Case


def place_case(case: Case) -> dict:
    """Set the case's place and town from its point, else from its address; returns how
    it was found (or why not), for the case's routing record."""
    if case.lat is not None and case.lng is not None:
        place = locate_point(case.lat, case.lng)
        if place is None:
            return {
                "method": "point",
                "found": False,
                "reason": _("The point is outside every boundary of the city."),
            }
        case.place, case.town = place, place.town
        return {"method": "point", "found": True, "code": place.code}
    if case.address:
        match = locate_address(case.address)
        if match is None:
            return {"method": "address", "found": False, "reason": _("The address matches no known place.")}
        place, lat, lng, info = match
        case.place, case.town = place, place.town
        if lat is not None:
            case.lat, case.lng = lat, lng
        return {"method": "address", "found": True, "code": place.code, **info}
    return {"method": None, "found": False, "reason": _("No place: no point and no address.")}


def decide_owner(case: Case) -> tuple[Unit | None, str]:
    """The unit the list of matters names, with the reason in words; ``None`` and the
    reason when a dispatcher must decide."""
    matter = case.matter
    if matter is None:
        return None, _("No category yet: a dispatcher classifies it.")
    owner = matter.owner_unit
    if owner is not None:
        return owner, _("List of matters: %(code)s → %(unit)s") % {"code": matter.code, "unit": owner.name}
    if case.town_id is None:
        return None, _("Territorial matter but the place is unknown: a dispatcher decides.")
    sub = Unit.objects.filter(kind=UnitKind.SUBCENTRE, place_id=case.town_id, active=True).first()
    if sub is None:
        town = case.town
        assert town is not None  # town_id is set
        return None, _("No sub-centre for %(town)s.") % {"town": town.name}
    return sub, _("List of matters: %(code)s is territorial → %(unit)s") % {
        "code": matter.code,
        "unit": sub.name,
    }
