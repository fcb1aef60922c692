"""WGS-84 / GCJ-02 / BD-09 conversions against published vectors, and point validation."""

from __future__ import annotations

import random

import pytest

from minsheng.places import coords
from minsheng.places.coords import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    distance_m,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    normalize_crs,
    out_of_china,
    to_wgs84,
    validate_point,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

# (wgs lat, wgs lng, gcj lat, gcj lng): the test vectors of googollee/eviltransform
# (go/transform_test.go, python/test.py): Shanghai, Shenzhen, Beijing.
EVILTRANSFORM = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),
]

# wandergis/coordtransform test/app.js (also athxx/coordtransform-rs tests), input
# lng=116.404, lat=39.915 for every function; results written here as (lat, lng).
WANDERGIS_IN = (39.915, 116.404)
WANDERGIS_WGS_TO_GCJ = (39.91640428150164, 116.41024449916938)
WANDERGIS_GCJ_TO_BD = (39.92133699351021, 116.41036949371029)
WANDERGIS_BD_TO_GCJ = (39.90865673957631, 116.39762729119315)  # their one-step inverse

# Glatzel/pyxis python/tests/test_crypto.py: one triplet near 独山港, inside the demo city.
PYXIS_WGS = (30.6107779, 121.0917077)
PYXIS_GCJ = (30.608604331756705, 121.09626935575027)
PYXIS_BD = (30.61484572185035, 121.10271732371203)


@pytest.mark.parametrize(("wlat", "wlng", "glat", "glng"), EVILTRANSFORM)
def test_wgs84_to_gcj02_matches_eviltransform(wlat, wlng, glat, glng):
    lat, lng = wgs84_to_gcj02(wlat, wlng)
    assert lat == pytest.approx(glat, abs=1e-9)
    assert lng == pytest.approx(glng, abs=1e-9)


@pytest.mark.parametrize(("wlat", "wlng", "glat", "glng"), EVILTRANSFORM)
def test_gcj02_to_wgs84_is_the_exact_inverse(wlat, wlng, glat, glng):
    lat, lng = gcj02_to_wgs84(glat, glng)
    assert distance_m(lat, lng, wlat, wlng) < 0.01  # eviltransform asks < 0.5 m


def test_one_step_inverse_would_not_be_good_enough():
    """Guards the reason for iterating: the naive inverse misses by metres here."""
    glat, glng = EVILTRANSFORM[2][2:]
    dlat, dlng = glat - wgs84_to_gcj02(glat, glng)[0], glng - wgs84_to_gcj02(glat, glng)[1]
    naive = (glat + dlat, glng + dlng)
    assert distance_m(*naive, *EVILTRANSFORM[2][:2]) > 0.5
    assert distance_m(*gcj02_to_wgs84(glat, glng), *EVILTRANSFORM[2][:2]) < 0.01


def test_wandergis_vectors():
    assert wgs84_to_gcj02(*WANDERGIS_IN) == pytest.approx(WANDERGIS_WGS_TO_GCJ, abs=1e-9)
    assert gcj02_to_bd09(*WANDERGIS_IN) == pytest.approx(WANDERGIS_GCJ_TO_BD, abs=1e-9)
    # Ours refines Baidu's one-step inverse, so it differs from theirs by centimetres only.
    ours = bd09_to_gcj02(*WANDERGIS_IN)
    assert distance_m(*ours, *WANDERGIS_BD_TO_GCJ) < 0.2
    assert gcj02_to_bd09(*ours) == pytest.approx(WANDERGIS_IN, abs=1e-9)


def test_pyxis_triplet_in_pinghu():
    assert distance_m(*wgs84_to_gcj02(*PYXIS_WGS), *PYXIS_GCJ) < 0.05
    assert distance_m(*wgs84_to_bd09(*PYXIS_WGS), *PYXIS_BD) < 0.05
    assert distance_m(*gcj02_to_bd09(*PYXIS_GCJ), *PYXIS_BD) < 0.05
    assert distance_m(*gcj02_to_wgs84(*PYXIS_GCJ), *PYXIS_WGS) < 0.05
    assert distance_m(*bd09_to_wgs84(*PYXIS_BD), *PYXIS_WGS) < 0.05
    assert distance_m(*bd09_to_gcj02(*PYXIS_BD), *PYXIS_GCJ) < 0.05


def test_offset_is_hundreds_of_metres_in_pinghu():
    """The whole point of converting: unconverted AMap points land in the wrong village."""
    gcj = wgs84_to_gcj02(30.70, 121.02)
    bd = wgs84_to_bd09(30.70, 121.02)
    assert 300 < distance_m(30.70, 121.02, *gcj) < 700
    assert 800 < distance_m(30.70, 121.02, *bd) < 1500


def test_round_trips_are_below_half_a_metre_across_china():
    rng = random.Random(7)
    worst_gcj = worst_bd = 0.0
    for _ in range(3000):
        lat, lng = rng.uniform(18.0, 53.0), rng.uniform(74.0, 134.0)
        worst_gcj = max(worst_gcj, distance_m(lat, lng, *gcj02_to_wgs84(*wgs84_to_gcj02(lat, lng))))
        worst_bd = max(worst_bd, distance_m(lat, lng, *bd09_to_wgs84(*wgs84_to_bd09(lat, lng))))
        b = (lat, lng)
        worst_bd = max(worst_bd, distance_m(*b, *gcj02_to_bd09(*bd09_to_gcj02(*b))))
    assert worst_gcj < 0.5
    assert worst_bd < 0.5
    assert worst_gcj < 0.001  # in fact far better: the iteration runs to 1e-10 degrees


@pytest.mark.parametrize("point", [(48.8566, 2.3522), (40.7128, -74.0060), (-33.86, 151.21)])
def test_outside_china_is_unchanged(point):
    assert out_of_china(*point)
    assert wgs84_to_gcj02(*point) == point
    assert gcj02_to_wgs84(*point) == point
    assert gcj02_to_bd09(*point) == point
    assert to_wgs84(*point, "bd09") == point


def test_out_of_china_box_edges():
    assert not out_of_china(30.7, 121.02)
    assert out_of_china(30.7, 72.0)
    assert out_of_china(56.0, 121.0)
    assert not out_of_china(0.8293, 72.004)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("wgs84", "wgs84"),
        ("WGS-84", "wgs84"),
        ("gcj02", "gcj02"),
        ("GCJ_02", "gcj02"),
        ("amap", "gcj02"),
        ("bd09", "bd09"),
        ("BD-09", "bd09"),
        ("bd09ll", "bd09"),
    ],
)
def test_normalize_crs(name, expected):
    assert normalize_crs(name) == expected


@pytest.mark.parametrize("name", ["bd09mc", "utm51n", "", "cgcs2000x"])
def test_unknown_crs_is_rejected(name):
    with pytest.raises(ValueError, match="unknown coordinate system"):
        to_wgs84(30.7, 121.0, name)


def test_to_and_from_wgs84_dispatch():
    w = (30.70, 121.02)
    assert to_wgs84(*w, "wgs84") == w
    for crs in coords.CRS_CHOICES:
        assert distance_m(*to_wgs84(*from_wgs84(*w, crs), crs), *w) < 0.001
    assert from_wgs84(*w, "gcj02") == wgs84_to_gcj02(*w)
    assert to_wgs84(*PYXIS_BD, "bd09") == pytest.approx(PYXIS_WGS, abs=1e-6)


def test_validate_point_accepts_and_normalises():
    assert validate_point(30.7, 121.02) == (30.7, 121.02)
    assert validate_point("30.7", "121.02") == (30.7, 121.02)
    assert validate_point(-33.86, 151.21) == (-33.86, 151.21)  # foreign, but a real place


@pytest.mark.parametrize(
    ("lat", "lng", "message"),
    [
        (121.0, 30.7, "look swapped"),
        (95.0, 10.0, "look swapped"),
        (30.7, 190.0, "longitude 190 is out of range"),
        (-91.0, 200.0, "latitude -91 is out of range"),
        (float("nan"), 121.0, "latitude must be a finite number"),
        (30.7, float("inf"), "longitude must be a finite number"),
        ("abc", 121.0, "latitude must be a number"),
        (None, 121.0, "latitude must be a number"),
        (True, 121.0, "latitude must be a number"),
        (0.0, 0.0, "no GPS fix"),
    ],
)
def test_validate_point_rejects(lat, lng, message):
    with pytest.raises(ValueError, match=message):
        validate_point(lat, lng)


def test_swapped_message_suggests_the_fix():
    with pytest.raises(ValueError, match=r"did you mean lat=30\.7, lng=121\?"):
        validate_point(121.0, 30.7)


def test_swap_detection_inside_valid_ranges():
    # Both values are in range, but only the swapped point is in China (lng always > lat).
    with pytest.raises(ValueError, match="look swapped"):
        validate_point(80.0, 40.0)
    # With the service area's bounds, a swapped point is recognised against them.
    bounds = (30.6, 120.9, 30.81, 121.17)
    with pytest.raises(ValueError, match="look swapped"):
        validate_point(121.0, 30.7, bounds=bounds)
    # Outside the bounds but not swapped: valid here, the locator decides (→ dispatcher).
    assert validate_point(31.23, 121.47, bounds=bounds) == (31.23, 121.47)
