"""Photos are served only here, after checking who asks: staff see the photos of the
cases they may see (``visible_cases``); a requester holding the case's secret follow link
sees the photos of the handling. There is no public MEDIA_URL: a stored file's name is
never a way in."""

from __future__ import annotations

import hmac

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_GET

from minsheng.accounts.actors import Actor
from minsheng.accounts.guards import signed_in
from minsheng.cases.scoping import visible_cases

from .models import PUBLIC_SOURCES, Photo


def _send(photo: Photo, thumb: bool, *, private: bool = True) -> FileResponse:
    name = photo.thumbnail.name if thumb else photo.file.name
    try:
        handle = default_storage.open(name, "rb")
    except FileNotFoundError as exc:
        raise Http404("missing") from exc
    response = FileResponse(handle, content_type=photo.content_type)
    response["Cache-Control"] = "private, max-age=86400" if private else "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    response["Referrer-Policy"] = "same-origin"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@signed_in()
@require_GET
def staff_photo(request: HttpRequest, actor: Actor, pk: int, thumb: bool = False) -> FileResponse:
    photo = Photo.objects.filter(pk=pk).first()
    if photo is None or not visible_cases(actor).filter(pk=photo.case_id).exists():
        raise Http404("no such photo")
    return _send(photo, thumb)


@require_GET
def public_photo(request: HttpRequest, token: str, pk: int, thumb: bool = False) -> FileResponse:
    photo = Photo.objects.select_related("case").filter(pk=pk, source__in=PUBLIC_SOURCES).first()
    given = token.encode()
    real = (photo.case.public_token if photo is not None else "\0" * 22).encode()
    if photo is None or not hmac.compare_digest(given, real):
        raise Http404("no such photo")
    return _send(photo, thumb)
