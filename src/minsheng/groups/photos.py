"""Photos in the group thread, cleaned exactly like every other photo of a case: decoded,
size-checked, turned upright and re-encoded without EXIF/GPS by
:func:`minsheng.media.images.accept_photo`; the thread keeps its own storage and access
check (only people who may see the case see its thread)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.utils.translation import gettext as _

from minsheng.cases.errors import Invalid
from minsheng.media.images import PhotoRejected, accept_photo

MAX_PHOTOS = 4


@dataclass(frozen=True)
class CheckedPhoto:
    content: ContentFile
    content_type: str
    width: int
    height: int
    size: int


def check_photo(upload: Any) -> CheckedPhoto:
    """Clean one uploaded file; refusals are 422 on the ``photos`` field with the reason."""
    try:
        cleaned = accept_photo(upload)
    except PhotoRejected as exc:
        raise Invalid("photos", exc.message) from exc
    return CheckedPhoto(
        content=ContentFile(cleaned.content, name=f"photo.{cleaned.extension}"),
        content_type=cleaned.content_type,
        width=cleaned.width,
        height=cleaned.height,
        size=len(cleaned.content),
    )


def check_photos(uploads: list[Any]) -> list[CheckedPhoto]:
    uploads = [u for u in uploads if u is not None]
    if len(uploads) > MAX_PHOTOS:
        raise Invalid("photos", _("At most %(n)d photos per message.") % {"n": MAX_PHOTOS})
    return [check_photo(u) for u in uploads]
