"""The public report page, its map data, the partners' registration, and the partners'
history for their station's staff. Thin views over ``minsheng.public.actions``."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from minsheng.accounts.actors import Actor
from minsheng.accounts.guards import signed_in
from minsheng.cases.errors import CaseError, Invalid
from minsheng.cases.models import Case
from minsheng.cases.scoping import visible_cases
from minsheng.core.conf import setting
from minsheng.core.phones import mask_phone, normalize_phone
from minsheng.media.images import max_upload_bytes
from minsheng.places.queries import city_dict

from . import actions, limits
from .forms import PartnerForm, ReportForm
from .models import ReportingPartner
from .scoping import may_see_partner, visible_partners

MAP_CACHE_KEY = "public:map.json:v1"
MAP_SECONDS = 600
REPORT_FIELD_FOR = {
    "requester.phone": "phone",
    "requester.name": "name",
    "photo": None,
    "photos": None,
    "lat": None,
    "crs": None,
    "channel": None,
}


def _phone_key(raw: str) -> str:
    raw = (raw or "").strip()
    if not raw:
        return ""
    try:
        return normalize_phone(raw) or raw
    except ValueError:
        return "".join(ch for ch in raw if ch.isdigit()) or raw[:32]


def _limited(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    response = render(request, template, {**context, "limited": True}, status=429)
    response["Retry-After"] = "600"
    return response


def _report_context(request: HttpRequest, form: ReportForm, **extra: Any) -> dict[str, Any]:
    friction = limits.needs_friction(request)
    return {
        "form": form,
        "friction": friction,
        "wait_token": limits.issue_token(request) if friction else "",
        "wait_seconds": limits.wait_seconds(),
        "max_photos": actions.max_photos(),
        "max_mb": max_upload_bytes() // (1024 * 1024),
        "tile_url": setting("MINSHENG_MAP_TILE_URL", ""),
        "tile_attribution": setting("MINSHENG_MAP_TILE_ATTRIBUTION", ""),
        **extra,
    }


@never_cache
def report(request: HttpRequest) -> HttpResponse:
    """上报: describe, place it on the map (or share the position), up to three photos,
    name and phone or anonymous; then the case number and the secret follow link."""
    if request.method != "POST":
        return render(request, "public/report.html", _report_context(request, ReportForm()))
    form = ReportForm(request.POST)
    anonymous = bool(request.POST.get("anonymous")) or not request.POST.get("phone", "").strip()
    phone = "" if request.POST.get("anonymous") else _phone_key(request.POST.get("phone", ""))
    if limits.over_limit(request, "report", phone=phone):
        return _limited(request, "public/report.html", _report_context(request, form))
    status = 422
    if form.is_valid():
        d = form.cleaned_data
        if d["website"]:
            form.add_error(None, _("The report could not be sent."))
        elif anonymous and limits.needs_friction(request) and not limits.check_token(request, d["wait"])[0]:
            form.add_error(
                None,
                _(
                    "Many anonymous reports come from your network just now. "
                    "Please wait %(n)d seconds, then send again: your text "
                    "is kept."
                )
                % {"n": limits.wait_seconds()},
            )
            status = 429
        else:
            uploads = request.FILES.getlist("photos")
            try:
                case = actions.submit_report(
                    actions.Report(
                        text=d["text"],
                        lat=d["lat"],
                        lng=d["lng"],
                        address=d["address"],
                        name=d["name"],
                        phone=d["phone"],
                    ),
                    uploads,
                    key=d["key"],
                )
            except CaseError as exc:
                field = REPORT_FIELD_FOR.get(getattr(exc, "field", ""), getattr(exc, "field", ""))
                form.add_error(field if field in form.fields else None, exc.message)
            else:
                if anonymous:
                    limits.note_anonymous(request)
                return redirect("public:sent", token=case.public_token)
    # A browser cannot put chosen files back into a form: say so beside the kept text.
    context = _report_context(request, form, photos_lost=bool(request.FILES))
    return render(request, "public/report.html", context, status=status)


@never_cache
def sent(request: HttpRequest, token: str) -> HttpResponse:
    case = Case.objects.filter(public_token=token).only("number", "public_token", "requester_phone").first()
    if case is None:
        raise Http404(_("Not found."))
    follow = request.build_absolute_uri(reverse("web:track_token", args=[case.public_token]))
    response = render(
        request,
        "public/sent.html",
        {
            "case": case,
            "follow_url": follow,
            "has_phone": bool(case.requester_phone),
        },
    )
    response["Referrer-Policy"] = "same-origin"
    return response


def _round(coords: Any) -> Any:
    if isinstance(coords, (list, tuple)):
        if coords and isinstance(coords[0], (int, float)):
            return [round(float(c), 5) for c in coords]
        return [_round(c) for c in coords]
    return coords


def map_features() -> dict[str, Any]:
    """The demo city's boundaries (towns, villages/communities) and roads as GeoJSON
    (WGS-84, 5 decimals ≈ 1 m), for the report page's vector base map."""
    city = city_dict()
    features = []
    order = {"city": 0, "town": 1, "street": 1, "village": 2, "community": 2}
    for p in sorted(city["places"], key=lambda p: order.get(p["kind"], 3)):
        geometry = p["boundary"]
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": geometry["type"], "coordinates": _round(geometry["coordinates"])},
                "properties": {"kind": p["kind"], "name": p["name"]},
            }
        )
    for r in city["roads"]:
        geometry = r["geometry"]
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": geometry["type"], "coordinates": _round(geometry["coordinates"])},
                "properties": {"kind": "road", "name": r["name"]},
            }
        )
    return {"type": "FeatureCollection", "features": features}


@require_GET
def map_json(request: HttpRequest) -> HttpResponse:
    data = cache.get(MAP_CACHE_KEY)
    if data is None:
        data = map_features()
        cache.set(MAP_CACHE_KEY, data, MAP_SECONDS)
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "separators": (",", ":")})
    response["Cache-Control"] = f"public, max-age={MAP_SECONDS}"
    return response


# --- partners ---------------------------------------------------------------------------


@never_cache
def join(request: HttpRequest) -> HttpResponse:
    """Riders, couriers and grid workers register as reporting partners (phone, name,
    station). The answer is the same whether the number was new or not."""
    if request.method != "POST":
        return render(request, "public/join.html", {"form": PartnerForm()})
    form = PartnerForm(request.POST)
    if limits.over_limit(request, "join", phone=_phone_key(request.POST.get("phone", ""))):
        return _limited(request, "public/join.html", {"form": form})
    if form.is_valid():
        d = form.cleaned_data
        if not d["website"]:
            try:
                actions.register_partner(
                    phone=d["phone"], name=d["name"], kind=d["kind"], station=d["station"], unit_id=d["unit"]
                )
            except Invalid as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        if not form.errors:
            return render(request, "public/join_done.html", {})
    return render(request, "public/join.html", {"form": form}, status=422)


@signed_in()
def partner_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    partners = (
        visible_partners(actor)
        .select_related("unit")
        .annotate(n=Count("reports"))
        .order_by("-verified", "station", "name")[:500]
    )
    return render(request, "public/partners.html", {"partners": partners})


@signed_in()
def partner_detail(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    """A partner's report history, for their station's recognition (表彰)."""
    partner = ReportingPartner.objects.select_related("unit").filter(pk=pk).first()
    if partner is None or not may_see_partner(actor, partner):
        raise Http404(_("No such partner."))
    if request.method == "POST":
        try:
            actions.verify_partner(actor, pk, verified=request.POST.get("verified") == "1")
        except CaseError as exc:
            raise Http404(exc.message) from exc
        return redirect("public:partner", pk=pk)
    reports = list(partner.reports.select_related("case__matter").order_by("-created_at")[:500])
    visible = set(
        visible_cases(actor).filter(pk__in=[r.case_id for r in reports]).values_list("pk", flat=True)
    )
    counts = partner.reports.aggregate(total=Count("pk"), closed=Count("pk", filter=Q(case__state="closed")))
    return render(
        request,
        "public/partner.html",
        {
            "partner": partner,
            "phone": mask_phone(partner.phone),
            "reports": reports,
            "visible": visible,
            "counts": counts,
        },
    )
