"""Named action: attach a photo to a case (one change through the case kernel: the photo
row and the case's ``photo`` event), idempotent by the client's key."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from minsheng.accounts.actors import Actor
from minsheng.accounts.models import Role
from minsheng.cases import kernel
from minsheng.cases.errors import Conflict, Forbidden, Invalid, NotFound
from minsheng.cases.kernel import Change
from minsheng.cases.models import Case
from minsheng.cases.scoping import can_see
from minsheng.cases.states import State

from .images import CleanedPhoto, accept_photo
from .models import Photo, PhotoSource

KEY_MAX = 64


def _check_key(client_key: str) -> str:
    key = (client_key or "").strip()
    if len(key) > KEY_MAX or "\x00" in key:
        raise Invalid("client_key", _("The upload key is not valid."))
    return key


def existing(case_id: int, client_key: str) -> Photo | None:
    if not client_key:
        return None
    return Photo.objects.filter(case_id=case_id, client_key=client_key).first()


def _save_files(cleaned: CleanedPhoto, at: Any) -> tuple[str, str]:
    """Written under random names: a name says nothing about the case or the person, and
    cannot be guessed (they are never served by name anyway)."""
    stem = f"photos/{at:%Y/%m}/{uuid.uuid4().hex}"
    name = default_storage.save(f"{stem}.{cleaned.extension}", ContentFile(cleaned.content))
    try:
        thumb = default_storage.save(f"{stem}.thumb.{cleaned.extension}", ContentFile(cleaned.thumbnail))
    except Exception:
        default_storage.delete(name)
        raise
    return name, thumb


def store_photo(ch: Change, cleaned: CleanedPhoto, *, source: str, client_key: str = "") -> Photo:
    """Store a cleaned photo and append the ``photo`` event, within the caller's change to
    the case. Files of a failed insert are removed again."""
    case, actor, at = ch.case, ch.actor, ch.at
    name, thumb = _save_files(cleaned, at)
    try:
        with transaction.atomic():
            photo = Photo.objects.create(
                case=case,
                uploaded_by=actor.user,
                source=source,
                client_key=client_key,
                file=name,
                thumbnail=thumb,
                content_type=cleaned.content_type,
                width=cleaned.width,
                height=cleaned.height,
                size=len(cleaned.content),
                sha256=cleaned.sha256,
                created_at=at,
            )
            ch.event(
                "photo",
                data={"photo": photo.pk, "source": source, "width": cleaned.width, "height": cleaned.height},
            )
    except Exception:
        default_storage.delete(name)
        default_storage.delete(thumb)
        raise
    return photo


def may_attach(actor: Actor, case: Case) -> bool:
    """Staff working on a case may add photos to it; leaders only read. The requester's
    photos come with the report itself (``minsheng.public``)."""
    if actor.is_system:
        return True
    if actor.is_requester or actor.role in (None, Role.LEADER):
        return False
    return can_see(actor, case)


def attach_photo(
    actor: Actor, case_id: int, upload: Any, *, client_key: str = "", source: str = PhotoSource.FIELD
) -> Photo:
    """添加照片: check and clean the upload, store it, and log a ``photo`` event. A retry
    with the same ``client_key`` returns the photo stored the first time, without
    storing or logging anything again."""
    key = _check_key(client_key)
    if source not in PhotoSource.values:
        raise Invalid("source", _("Unknown photo source."))
    prior = existing(case_id, key)
    if prior is not None:
        _check_access(actor, prior.case)
        return prior
    cleaned = accept_photo(upload)  # decoding is slow: before the row lock, not under it

    def attachable(ch: Change) -> Photo | None:
        case = ch.case
        if not may_attach(actor, case):
            raise Forbidden(_("You may not add photos to this case."))
        prior = existing(case_id, key)
        if prior is None and case.state == State.CLOSED:
            raise Conflict(
                _("This case is closed; photos can no longer be added."),
                state=case.state,
                version=case.version,
            )
        return prior  # a retry that raced the first: the photo stored then

    try:
        with kernel.change(actor, case_id, "photo", check=attachable) as ch:
            if ch.checked is not None:
                return ch.checked
            return store_photo(ch, cleaned, source=source, client_key=key)
    except IntegrityError:
        prior = existing(case_id, key)
        if prior is not None:
            return prior
        raise


def _check_access(actor: Actor, case: Case) -> None:
    if not (actor.is_system or (not actor.is_requester and can_see(actor, case))):
        raise NotFound(_("No such case."))
    if not may_attach(actor, case):
        raise Forbidden(_("You may not add photos to this case."))
