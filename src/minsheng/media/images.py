"""Checking and cleaning uploaded photos before anything is stored.

Why each step:

* **Decode, don't trust names.** A file is a photo only if Pillow decodes it as JPEG, PNG,
  WebP or HEIC/HEIF (iPhones' default, through pillow-heif). The extension and the
  browser's content type are ignored: ``verify()`` checks the structure, then the image is
  opened again and fully loaded, which decodes every pixel.
* **Limits before work.** The size limit (10 MB by default) is checked before reading, and
  the pixel count before decoding, so that a small file claiming a huge canvas (a
  "decompression bomb") is refused instead of filling the memory.
* **Re-encode to strip personal data.** Phone photos carry EXIF: the GPS position of the
  person who took it (often their home), the device, the time. The image is turned upright
  by its EXIF orientation first (otherwise stripping EXIF would leave it sideways), then
  written anew as JPEG (WebP when it has transparency) with no EXIF, XMP or comments; only
  the colour profile is kept. Large photos are scaled down to a sensible size for a case
  file, and a 320-pixel thumbnail is made for lists and weak connections.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from typing import Any

import pillow_heif
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from minsheng.cases.errors import Invalid
from minsheng.core.conf import setting

pillow_heif.register_heif_opener()

ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")
JPEG_QUALITY = 85
WEBP_QUALITY = 82


class PhotoRejected(Invalid):
    """The upload is not a photo Minsheng accepts; the message says why, for the person."""

    def __init__(self, message: str):
        super().__init__("photo", message)


@dataclass(frozen=True)
class CleanedPhoto:
    content: bytes
    thumbnail: bytes
    content_type: str
    extension: str
    width: int
    height: int
    sha256: str


def max_upload_bytes() -> int:
    return setting("MINSHENG_PHOTO_MAX_BYTES", 10 * 1024 * 1024)


def _read(upload: Any) -> bytes:
    """The upload's bytes, refusing before reading when its declared size is too big and
    while reading when it turns out bigger than declared."""
    limit = max_upload_bytes()
    megabytes = limit // (1024 * 1024)
    too_big = _("The photo is larger than %(mb)d MB; send a smaller one.") % {"mb": megabytes}
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise PhotoRejected(too_big)
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(limit + 1) if hasattr(upload, "read") else bytes(upload)
    if len(data) > limit:
        raise PhotoRejected(too_big)
    if not data:
        raise PhotoRejected(_("The photo file is empty."))
    return data


def _open(data: bytes) -> Image.Image:
    max_pixels = setting("MINSHENG_PHOTO_MAX_PIXELS", 50_000_000)
    not_photo = _("This file is not a photo we accept: send a JPEG, PNG, WebP or HEIC image.")
    with warnings.catch_warnings():
        # Pillow only warns at its own limit; past ours it is an error, not a warning.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            probe = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
            if probe.width * probe.height > max_pixels:
                raise PhotoRejected(_("The photo has too many pixels; send a smaller one."))
            probe.verify()
            image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
            image.load()
        except PhotoRejected:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise PhotoRejected(_("The photo has too many pixels; send a smaller one.")) from exc
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
            raise PhotoRejected(not_photo) from exc
    return image


def _upright(image: Image.Image) -> Image.Image:
    """Turned as the camera meant (EXIF orientation), in a mode JPEG/WebP can store, with
    every piece of metadata dropped except the colour profile."""
    icc = image.info.get("icc_profile")
    out = ImageOps.exif_transpose(image) or image
    if out.mode in ("RGBA", "LA", "PA") or (out.mode == "P" and "transparency" in out.info):
        out = out.convert("RGBA")
    elif out.mode != "RGB":
        out = out.convert("RGB")
    else:
        out = out.copy()
    out.info = {"icc_profile": icc} if icc else {}
    return out


def _has_alpha(image: Image.Image) -> bool:
    if image.mode != "RGBA":
        return False
    low, _high = image.getchannel("A").getextrema()
    assert not isinstance(low, tuple)  # one band: its (min, max) are numbers
    return low < 255


def _encode(image: Image.Image) -> tuple[bytes, str, str]:
    buf = io.BytesIO()
    icc = image.info.get("icc_profile")
    extra: dict[str, Any] = {"icc_profile": icc} if icc else {}
    if _has_alpha(image):
        image.save(buf, "WEBP", quality=WEBP_QUALITY, method=4, **extra)
        return buf.getvalue(), "image/webp", "webp"
    if image.mode != "RGB":
        image = image.convert("RGB")
        image.info = {"icc_profile": icc} if icc else {}
    image.save(buf, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True, **extra)
    return buf.getvalue(), "image/jpeg", "jpg"


def accept_photo(upload: Any) -> CleanedPhoto:
    """Check an uploaded file and return the cleaned photo and its thumbnail, ready to
    store; raises :class:`PhotoRejected` with a message for the person otherwise."""
    data = _read(upload)
    image = _upright(_open(data))
    max_side = setting("MINSHENG_PHOTO_MAX_SIDE", 2560)
    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    content, content_type, ext = _encode(image)
    thumb = image.copy()
    thumb.info = dict(image.info)
    side = setting("MINSHENG_PHOTO_THUMB_SIDE", 320)
    thumb.thumbnail((side, side), Image.Resampling.LANCZOS)
    thumb_content, _type, _ext = _encode(thumb)
    return CleanedPhoto(
        content=content,
        thumbnail=thumb_content,
        content_type=content_type,
        extension=ext,
        width=image.width,
        height=image.height,
        sha256=hashlib.sha256(content).hexdigest(),
    )
