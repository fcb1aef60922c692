"""What the public part holds about one phone number, for a person's access request
(registered with ``cases.registry.register_personal_data`` from ``ready()``)."""

from __future__ import annotations

from typing import Any

from .models import ReportingPartner


def partner_held_about(phone: str) -> dict[str, Any] | None:
    """The reporting partner registered under this number, if any."""
    partner = ReportingPartner.objects.filter(phone=phone).select_related("unit").first()
    if partner is None:
        return None
    return {
        "name": partner.name,
        "kind": partner.kind,
        "station": partner.station,
        "unit": partner.unit.name if partner.unit else None,
        "verified": partner.verified,
        "registered_at": partner.created_at.isoformat(),
        "reports": [r.case.number for r in partner.reports.select_related("case").order_by("created_at")],
    }
