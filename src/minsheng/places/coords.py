"""Coordinate systems used by Chinese maps: WGS-84, GCJ-02 and BD-09, and point validation.

Why this module exists: phones and GPS give WGS-84, but the map SDKs residents and staff use in
China do not. AMap (高德) and Tencent (腾讯) maps show and return GCJ-02 ("Mars coordinates",
国测局坐标), an obfuscated datum that moves points by 100–700 m; Baidu (百度) adds a second
shift on top, BD-09. Minsheng stores every point in WGS-84, so anything coming from a map
widget must be converted first, or a request lands in the neighbouring village.

No maintained library does this: the PyPI packages for it (coordTransform_py, eviltransform,
prcoords and the like) have had no release since 2018–2019. So the public algorithm is written
out here, with care:

* WGS-84 → GCJ-02 is the widely published formula (Krasovsky 1940 ellipsoid, a = 6378245 m,
  e² = 0.00669342162296594323, and the two polynomial-plus-sine offset series). It applies
  only inside a bounding box of China (the standard ``out_of_china`` rule); outside it, the
  three systems coincide and points are returned unchanged.
* GCJ-02 → WGS-84 has no closed form. The common one-step inverse (subtract the offset
  computed at the GCJ point) is wrong by up to a few metres; here the inverse is solved by
  fixed-point iteration (w ← w − (gcj(w) − g)), which converges to well under a centimetre in
  a handful of steps because the offset varies slowly.
* GCJ-02 ↔ BD-09 is Baidu's published rotation-and-stretch (x_pi = π·3000/180, the 0.0065 /
  0.006 shift). Its published inverse is itself an approximation (off by up to about 0.2 m),
  so it is refined by the same iteration.

All functions take and return ``(lat, lng)`` in degrees, matching the rest of Minsheng
(``center`` is ``[lat, lng]``); only GeoJSON uses ``[lng, lat]``.
"""

from __future__ import annotations

import math
from typing import Final

__all__ = [
    "CRS_CHOICES",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "distance_m",
    "from_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "normalize_crs",
    "out_of_china",
    "to_wgs84",
    "validate_point",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

CRS_CHOICES: Final = ("wgs84", "gcj02", "bd09")

_A: Final = 6378245.0  # Krasovsky 1940 semi-major axis used by GCJ-02, metres
_EE: Final = 0.00669342162296594323  # its first eccentricity squared
_X_PI: Final = math.pi * 3000.0 / 180.0  # Baidu's constant
_EARTH_R: Final = 6371008.8  # mean Earth radius for distances, metres

# Iteration stops when the forward transform reproduces the input to 1e-10 degrees (about
# 0.01 mm); it takes 3–6 rounds in practice. The cap only guards against pathological input.
_TOL_DEG: Final = 1e-10
_MAX_ITER: Final = 30


def out_of_china(lat: float, lng: float) -> bool:
    """The standard rough test: GCJ-02 is applied only inside this box around China.

    It is a box, not the border, so it also covers parts of neighbouring countries; that is
    what every GCJ-02 implementation (and the map providers) do, so we keep it as is.
    """
    return not (72.004 <= lng <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _offset(lat: float, lng: float) -> tuple[float, float]:
    """GCJ-02 minus WGS-84 at a WGS-84 point, in degrees (dlat, dlng)."""
    x = lng - 105.0
    y = lat - 35.0
    sqrt_abs_x = math.sqrt(abs(x))
    # Shared periodic term of both series.
    common = (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x
    dlat += common
    dlat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    dlat += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    dlng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x
    dlng += common
    dlng += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    dlng += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0

    rad_lat = lat / 180.0 * math.pi
    magic = 1.0 - _EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlng = (dlng * 180.0) / (_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return dlat, dlng


def wgs84_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    """WGS-84 → GCJ-02 (AMap, Tencent). Unchanged outside China."""
    if out_of_china(lat, lng):
        return lat, lng
    dlat, dlng = _offset(lat, lng)
    return lat + dlat, lng + dlng


def gcj02_to_wgs84(lat: float, lng: float) -> tuple[float, float]:
    """GCJ-02 → WGS-84, the exact inverse by iteration (error far below 0.5 m).

    Starting from the GCJ point itself, each round moves the estimate by the residual of
    the forward transform. The offset's derivatives are tiny (about 1e-3), so this is a
    contraction and the error shrinks by about a thousand times per round.
    """
    if out_of_china(lat, lng):
        return lat, lng
    w_lat, w_lng = lat, lng
    for _ in range(_MAX_ITER):
        g_lat, g_lng = wgs84_to_gcj02(w_lat, w_lng)
        d_lat, d_lng = g_lat - lat, g_lng - lng
        w_lat -= d_lat
        w_lng -= d_lng
        if abs(d_lat) < _TOL_DEG and abs(d_lng) < _TOL_DEG:
            break
    return w_lat, w_lng


def gcj02_to_bd09(lat: float, lng: float) -> tuple[float, float]:
    """GCJ-02 → BD-09 (Baidu). Unchanged outside China, like GCJ-02 itself."""
    if out_of_china(lat, lng):
        return lat, lng
    z = math.hypot(lng, lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lng) + 0.000003 * math.cos(lng * _X_PI)
    return z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065


def _bd09_to_gcj02_approx(lat: float, lng: float) -> tuple[float, float]:
    """Baidu's published one-step inverse (good to about 0.2 m)."""
    x = lng - 0.0065
    y = lat - 0.006
    z = math.hypot(x, y) - 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _X_PI)
    return z * math.sin(theta), z * math.cos(theta)


def bd09_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    """BD-09 → GCJ-02: the published inverse, refined by iteration to sub-millimetre."""
    if out_of_china(lat, lng):
        return lat, lng
    g_lat, g_lng = _bd09_to_gcj02_approx(lat, lng)
    for _ in range(_MAX_ITER):
        b_lat, b_lng = gcj02_to_bd09(g_lat, g_lng)
        d_lat, d_lng = b_lat - lat, b_lng - lng
        if abs(d_lat) < _TOL_DEG and abs(d_lng) < _TOL_DEG:
            break
        g_lat -= d_lat
        g_lng -= d_lng
    return g_lat, g_lng


def wgs84_to_bd09(lat: float, lng: float) -> tuple[float, float]:
    """WGS-84 → BD-09, through GCJ-02."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lat, lng))


def bd09_to_wgs84(lat: float, lng: float) -> tuple[float, float]:
    """BD-09 → WGS-84, through GCJ-02 (both steps exact inverses)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lat, lng))


_ALIASES: Final = {
    "wgs84": "wgs84",
    "wgs": "wgs84",
    "gps": "wgs84",
    "epsg4326": "wgs84",
    "gcj02": "gcj02",
    "gcj": "gcj02",
    "mars": "gcj02",
    "amap": "gcj02",
    "gaode": "gcj02",
    "tencent": "gcj02",
    "qq": "gcj02",
    "bd09": "bd09",
    "bd09ll": "bd09",
    "bd": "bd09",
    "baidu": "bd09",
}


def normalize_crs(crs: str) -> str:
    """Map a CRS name as clients send it ("WGS-84", "gcj_02", "BD09LL", "amap") to one of
    ``CRS_CHOICES``; raise ValueError for anything else (BD-09 Mercator metres included)."""
    key = "".join(ch for ch in str(crs).lower() if ch.isalnum())
    try:
        return _ALIASES[key]
    except KeyError:
        raise ValueError(
            f"unknown coordinate system {crs!r}: expected one of {', '.join(CRS_CHOICES)}"
        ) from None


def to_wgs84(lat: float, lng: float, crs: str) -> tuple[float, float]:
    """Convert a point given in ``crs`` ("wgs84", "gcj02" or "bd09") to WGS-84."""
    system = normalize_crs(crs)
    if system == "gcj02":
        return gcj02_to_wgs84(lat, lng)
    if system == "bd09":
        return bd09_to_wgs84(lat, lng)
    return float(lat), float(lng)


def from_wgs84(lat: float, lng: float, crs: str) -> tuple[float, float]:
    """Convert a stored WGS-84 point to ``crs`` for display on that provider's map."""
    system = normalize_crs(crs)
    if system == "gcj02":
        return wgs84_to_gcj02(lat, lng)
    if system == "bd09":
        return wgs84_to_bd09(lat, lng)
    return float(lat), float(lng)


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle (haversine) distance in metres; precise enough for checks and tests."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_R * math.asin(min(1.0, math.sqrt(h)))


def _as_float(value: object, what: str) -> float:
    if isinstance(value, bool):  # bool is an int: True would silently become 1.0
        raise ValueError(f"{what} must be a number, got {value!r}")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return number


def validate_point(
    lat: object,
    lng: object,
    bounds: tuple[float, float, float, float] | None = None,
) -> tuple[float, float]:
    """Check a point a client sent and return it as ``(lat, lng)`` floats.

    Raises ValueError with a message meant to be shown to the client for: non-numbers,
    NaN/infinity, latitude outside [-90, 90] or longitude outside [-180, 180], the point
    (0, 0) (a GPS fix that never happened), and latitude/longitude that look swapped, the most
    common client bug: for China lng (73–135) is always larger than lat (3–54), so lat=121.0,
    lng=30.7 is recognised. With ``bounds`` = (min_lat, min_lng, max_lat, max_lng) of the
    service area, a point outside it whose swap falls inside is reported as swapped too.
    Being outside ``bounds`` is otherwise not an error here: the locator answers None and
    the request goes to the city's dispatcher.
    """
    la = _as_float(lat, "latitude")
    ln = _as_float(lng, "longitude")

    def swapped_hint() -> str:
        return (
            f"latitude {la:g} and longitude {ln:g} look swapped "
            f"(did you mean lat={ln:g}, lng={la:g}?); send lat first, then lng"
        )

    if not -90.0 <= la <= 90.0:
        if -90.0 <= ln <= 90.0 and -180.0 <= la <= 180.0:
            raise ValueError(swapped_hint())
        raise ValueError(f"latitude {la:g} is out of range: it must be between -90 and 90")
    if not -180.0 <= ln <= 180.0:
        raise ValueError(f"longitude {ln:g} is out of range: it must be between -180 and 180")
    if la == 0.0 and ln == 0.0:
        raise ValueError("the point (0, 0) is not a real location: the device had no GPS fix")
    if bounds is not None:
        min_lat, min_lng, max_lat, max_lng = bounds
        inside = min_lat <= la <= max_lat and min_lng <= ln <= max_lng
        swapped_inside = min_lat <= ln <= max_lat and min_lng <= la <= max_lng
        if not inside and swapped_inside:
            raise ValueError(swapped_hint())
    elif out_of_china(la, ln) and not out_of_china(ln, la):
        raise ValueError(swapped_hint())
    return la, ln
