"""Photos in the group thread: a file is stored only if Pillow decodes it as an image.

Deliberately small: the case photo module (with EXIF stripping and thumbnails) will take
over the cleaning, and the thread will then accept ids of photos stored there.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from minsheng.cases.errors import Invalid

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_PHOTOS = 4
FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"),
           "WEBP": ("image/webp", "webp"), "GIF": ("image/gif", "gif")}


@dataclass(frozen=True)
class CheckedPhoto:
    content: ContentFile
    content_type: str
    width: int
    height: int
    size: int


def check_photo(upload: Any) -> CheckedPhoto:
    """Read one uploaded file and decode it; the name and the browser's content type are
    not trusted. Refusals are 422 on the ``photos`` field."""
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_BYTES:
        raise Invalid("photos", _("A photo may be at most 10 MB."))
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise Invalid("photos", _("A photo may be at most 10 MB."))
    if not data:
        raise Invalid("photos", _("The photo is empty."))
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise Invalid("photos", _("The photo has too many pixels."))
            probe.verify()
        with Image.open(io.BytesIO(data)) as img:
            img.load()  # decode every pixel: a truncated file fails here
    except Invalid:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError) as exc:
        raise Invalid("photos", _("That file is not a photo (JPEG, PNG, WebP or GIF).")) from exc
    if fmt not in FORMATS:
        raise Invalid("photos", _("That file is not a photo (JPEG, PNG, WebP or GIF)."))
    content_type, extension = FORMATS[fmt]
    return CheckedPhoto(content=ContentFile(data, name=f"photo.{extension}"),
                        content_type=content_type, width=width, height=height, size=len(data))


def check_photos(uploads: list[Any]) -> list[CheckedPhoto]:
    uploads = [u for u in uploads if u is not None]
    if len(uploads) > MAX_PHOTOS:
        raise Invalid("photos", _("At most %(n)d photos per message.") % {"n": MAX_PHOTOS})
    return [check_photo(u) for u in uploads]
