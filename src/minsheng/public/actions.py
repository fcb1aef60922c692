"""Named actions of the public pages: a resident's (or a partner's) report with its
photos, a partner's registration, and the requester's rating with its consequence."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from minsheng.accounts.actors import Actor
from minsheng.accounts.models import Unit
from minsheng.cases import actions as case_actions
from minsheng.cases import kernel
from minsheng.cases.errors import Invalid
from minsheng.cases.models import Case
from minsheng.cases.states import Channel, Rating
from minsheng.core import clock
from minsheng.core.conf import setting
from minsheng.core.phones import normalize_phone
from minsheng.media.actions import store_photo
from minsheng.media.images import CleanedPhoto, PhotoRejected, accept_photo
from minsheng.media.models import PhotoSource

from .models import PartnerKind, PartnerReport, ReportingPartner, ReportKey
from .scoping import may_see_partner

CHANNEL_OF_KIND: dict[str, Channel] = {
    PartnerKind.RIDER: Channel.RIDER,
    PartnerKind.COURIER: Channel.RIDER,
    PartnerKind.GRID: Channel.GRID,
}


@dataclass
class Report:
    """What the public report form collected, already parsed."""

    text: str
    lat: float | None = None
    lng: float | None = None
    address: str = ""
    name: str = ""
    phone: str = ""
    crs: str = "wgs84"


def max_photos() -> int:
    return setting("MINSHENG_REPORT_MAX_PHOTOS", 3)


def clean_photos(uploads: list[Any]) -> list[CleanedPhoto]:
    """Every photo checked before anything is recorded: one bad photo refuses the whole
    report (with the reason), so a report is never stored with photos silently missing."""
    limit = max_photos()
    if len(uploads) > limit:
        raise Invalid("photos", _("Attach at most %(n)d photos.") % {"n": limit})
    cleaned = []
    for i, upload in enumerate(uploads, start=1):
        try:
            cleaned.append(accept_photo(upload))
        except PhotoRejected as exc:
            raise Invalid("photos", _("Photo %(i)d: %(why)s") % {"i": i, "why": exc.message}) from exc
    return cleaned


def partner_for_phone(phone: str) -> ReportingPartner | None:
    if not phone:
        return None
    try:
        normal = normalize_phone(phone)
    except ValueError:
        return None
    return ReportingPartner.objects.filter(phone=normal).first() if normal else None


def submit_report(report: Report, uploads: list[Any], *, key: str = "") -> Case:
    """上报: the case (through ``accept_case``, so it is classified, placed and routed like
    any other) and its photos, in one transaction. A partner's phone gives the report the
    partner's channel and a line in their history. A repeat of the same form ``key``
    returns the case made the first time."""
    key = (key or "").strip()[:64]
    if key:
        prior = ReportKey.objects.filter(key=key).select_related("case").first()
        if prior is not None:
            return prior.case
    cleaned = clean_photos(uploads)
    partner = partner_for_phone(report.phone)
    channel = CHANNEL_OF_KIND.get(partner.kind, Channel.APP) if partner else Channel.APP
    actor = Actor.requester()
    try:
        with transaction.atomic():
            case = case_actions.accept_case(
                actor,
                case_actions.Intake(
                    channel=channel,
                    text=report.text,
                    lat=report.lat,
                    lng=report.lng,
                    address=report.address,
                    requester_name=report.name,
                    requester_phone=report.phone,
                    crs=report.crs or "wgs84",
                    extra={"via": "public_report"},
                ),
            )
            with_photos = kernel.begin(case, actor, "photo")  # the case intake has just made
            for i, photo in enumerate(cleaned):
                store_photo(
                    with_photos, photo, source=PhotoSource.REPORT, client_key=f"{key}:{i}" if key else ""
                )
            if partner is not None:
                PartnerReport.objects.create(partner=partner, case=case, created_at=clock.now())
            if key:
                ReportKey.objects.create(key=key, case=case, created_at=clock.now())
            return case
    except IntegrityError:
        prior = ReportKey.objects.filter(key=key).select_related("case").first() if key else None
        if prior is not None:
            return prior.case
        raise


def register_partner(
    *, phone: str, name: str, kind: str, station: str, unit_id: int | None = None
) -> tuple[ReportingPartner, bool]:
    """Register a reporting partner by phone. An already registered number is left as it
    is (registration proves nothing about a number, so it cannot take one over)."""
    try:
        normal = normalize_phone(phone or "")
    except ValueError as exc:
        raise Invalid("phone", _("Not a valid phone number.")) from exc
    if not normal:
        raise Invalid("phone", _("Give your phone number."))
    name = (name or "").strip()[:64]
    if not name:
        raise Invalid("name", _("Give your name."))
    if kind not in PartnerKind.values:
        raise Invalid("kind", _("Choose what you do."))
    station = (station or "").strip()[:100]
    if not station:
        raise Invalid("station", _("Name your station, company or grid."))
    unit = Unit.objects.filter(pk=unit_id, active=True).first() if unit_id else None
    existing = ReportingPartner.objects.filter(phone=normal).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            partner = ReportingPartner.objects.create(
                phone=normal, name=name, kind=kind, station=station, unit=unit, created_at=clock.now()
            )
    except IntegrityError:
        return ReportingPartner.objects.get(phone=normal), False
    return partner, True


def rate_by_requester(
    case_id: int, *, rating: str, note: str = "", expected_version: int | None = None
) -> Case:
    """评价 on the follow page. "Unsatisfied" needs a reason and sends the case back to
    the unit that held it (``reopen_case``, by the system on the requester's behalf), in
    the same transaction as the rating: the requester's verdict is never recorded without
    its consequence."""
    note = (note or "").strip()
    with transaction.atomic():
        # The rating first, so that a stale or second rating is a conflict (409) before
        # the missing reason (422); a refusal below rolls it back.
        case = case_actions.rate_case(
            Actor.requester(), case_id, rating=rating, note=note, expected_version=expected_version
        )
        if rating == Rating.UNSATISFIED and not note:
            raise Invalid("note", _("Tell us why you are not satisfied, so that it can be put right."))
        if rating == Rating.UNSATISFIED and case.owner_unit_id is not None:
            case = case_actions.reopen_case(
                Actor.system(_("Requester's rating")),
                case.pk,
                note=_("The requester is not satisfied: %(reason)s") % {"reason": note},
            )
        return case


def verify_partner(actor: Actor, partner_id: int, *, verified: bool) -> ReportingPartner:
    """确认: the station's staff confirm (or withdraw) that this person is their partner."""
    from minsheng.cases.errors import Forbidden, NotFound

    partner = ReportingPartner.objects.filter(pk=partner_id).first()
    if partner is None or not may_see_partner(actor, partner):
        raise NotFound(_("No such partner."))
    if actor.role == "leader":
        raise Forbidden(_("You may not change partners."))
    partner.verified = verified
    partner.save(update_fields=["verified"])
    return partner
