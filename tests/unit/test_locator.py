"""The demo city's geography (tiling, names, codes) and point → place resolution."""

from __future__ import annotations

import json
import random
import time

import pytest
import shapely
from shapely.geometry import Point, shape
from shapely.ops import unary_union

from minsheng.places.coords import validate_point
from minsheng.places.locator import DEMO_CITY_PATH, LocatedPlace, PlaceLocator, load_demo_city

AREA_EPS = 1e-10  # square degrees, about 1 m²: rounding noise, not a gap or an overlap

TOWNS = {
    "danghu": ("当湖街道", "street"),
    "zhongxi": ("钟溪街道", "street"),
    "caoqiao": ("曹桥街道", "street"),
    "zhapu": ("乍浦镇", "town"),
    "xindai": ("新埭镇", "town"),
    "xincang": ("新仓镇", "town"),
    "dushangang": ("独山港镇", "town"),
    "lindai": ("林埭镇", "town"),
    "guangchen": ("广陈镇", "town"),
}


@pytest.fixture(scope="module")
def data():
    return load_demo_city()


@pytest.fixture(scope="module")
def locator(data):
    return PlaceLocator.from_geojson(data["places"])


@pytest.fixture(scope="module")
def polys(data):
    return {p["code"]: shape(p["boundary"]) for p in data["places"]}


def children(data, code):
    return [p["code"] for p in data["places"] if p["parent"] == code]


def assert_tiles(whole, parts):
    assert abs(sum(p.area for p in parts) - whole.area) < AREA_EPS
    assert unary_union(parts).symmetric_difference(whole).area < AREA_EPS
    for i, a in enumerate(parts):
        for b in parts[i + 1 :]:
            assert a.intersection(b).area < AREA_EPS


# --- the data file ---------------------------------------------------------------------------


def test_file_shape_and_size(data):
    assert set(data) == {"note", "crs", "places", "roads", "landmarks"}
    assert data["crs"] == "WGS84"
    assert "ILLUSTRATIVE" in data["note"]
    assert DEMO_CITY_PATH.stat().st_size < 300 * 1024
    # The file is valid JSON on its own (not only through load_demo_city).
    assert json.loads(DEMO_CITY_PATH.read_text(encoding="utf-8")) == data


def test_place_records(data, polys):
    codes = [p["code"] for p in data["places"]]
    assert len(codes) == len(set(codes))
    for p in data["places"]:
        assert set(p) == {"code", "name", "kind", "parent", "center", "boundary"}
        assert p["code"].isascii()
        assert p["kind"] in {"city", "town", "street", "village", "community"}
        assert p["boundary"]["type"] == "Polygon"
        ring = p["boundary"]["coordinates"][0]
        assert ring[0] == ring[-1]
        for lng, lat in ring:  # GeoJSON order, WGS-84, 5 decimals
            assert 120.8 < lng < 121.3 and 30.5 < lat < 30.9
            assert round(lng, 5) == lng and round(lat, 5) == lat
        poly = polys[p["code"]]
        assert poly.is_valid
        lat, lng = p["center"]
        assert poly.contains(Point(lng, lat)), p["code"]


def test_tree_and_named_places(data):
    by_code = {p["code"]: p for p in data["places"]}
    city = by_code["pinghu"]
    assert (city["name"], city["kind"], city["parent"]) == ("平湖市", "city", None)
    assert sorted(children(data, "pinghu")) == sorted(TOWNS)
    for code, (name, kind) in TOWNS.items():
        assert (by_code[code]["name"], by_code[code]["kind"]) == (name, kind)
        kids = children(data, code)
        assert 2 <= len(kids) <= 4, code
        for kid in kids:
            assert by_code[kid]["kind"] in {"village", "community"}
            assert kid.startswith(code + ".")
    names = {(p["name"], p["parent"]) for p in data["places"]}
    assert ("水洞埭社区", "danghu") in names
    assert by_code["danghu.shuidongdai"]["name"] == "水洞埭社区"
    village_names = {p["name"] for p in data["places"]}
    for name in ("钟埭村", "沈家弄村", "大力村", "青港村", "保丰村"):
        assert name in village_names
    lat, lng = city["center"]
    assert abs(lat - 30.70) < 0.05 and abs(lng - 121.02) < 0.05


def test_towns_tile_the_city(data, polys):
    assert_tiles(polys["pinghu"], [polys[c] for c in children(data, "pinghu")])


@pytest.mark.parametrize("town", sorted(TOWNS))
def test_villages_tile_their_town(data, polys, town):
    assert_tiles(polys[town], [polys[c] for c in children(data, town)])


def test_city_extent_is_pinghu_sized(polys):
    minx, miny, maxx, maxy = polys["pinghu"].bounds
    assert 120.88 < minx < 120.93 and 121.14 < maxx < 121.19
    assert 30.58 < miny < 30.63 and 30.77 < maxy < 30.82


def test_roads_and_landmarks(data, polys):
    roads = data["roads"]
    assert 20 <= len(roads) <= 30
    road_names = {r["name"] for r in roads}
    for name in ("胜利路", "东湖大道", "新华路", "人民路", "当湖路", "建国路", "乍王公路", "平廊公路"):
        assert name in road_names
    for r in roads:
        assert r["geometry"]["type"] == "LineString"
        assert polys["pinghu"].contains(shape(r["geometry"])), r["name"]
    landmarks = data["landmarks"]
    assert 25 <= len(landmarks) <= 35
    lm_names = {lm["name"] for lm in landmarks}
    for name in ("市民中心", "东湖公园", "平湖火车站", "乍浦港", "汤山", "东湖苑"):
        assert name in lm_names
    for lm in landmarks:
        lng, lat = lm["geometry"]["coordinates"]
        assert polys[lm["place"]].contains(Point(lng, lat)), lm["name"]


def test_generator_is_deterministic(data):
    """The committed file is exactly what the committed script produces."""
    from tools.demo_city import make_demo_city as mod

    if shapely.geos_version != mod.GEOS_VERSION:
        pytest.skip(f"file made with GEOS {mod.GEOS_VERSION}, this is {shapely.geos_version}")
    assert mod.dump(mod.build(mod.BASE_SEED)) == DEMO_CITY_PATH.read_text(encoding="utf-8")


# --- the locator -----------------------------------------------------------------------------


def test_indexes_only_the_lowest_level(data, locator):
    lowest = [p for p in data["places"] if p["kind"] in {"village", "community"}]
    assert len(locator) == len(lowest)


def test_every_centre_locates_to_its_own_place(data, locator):
    by_code = {p["code"]: p for p in data["places"]}
    for p in data["places"]:
        found = locator.locate(*p["center"])
        assert found is not None, p["code"]
        if p["kind"] in {"village", "community"}:
            assert found.code == p["code"]
            assert found.village_code == p["code"]
            assert found.town_code == p["parent"]
            assert found.town_name == by_code[p["parent"]]["name"]
            assert found.name == p["name"]
        elif p["kind"] in {"town", "street"}:
            assert found.town_code == p["code"]


def test_landmarks_locate_to_their_place(data, locator):
    for lm in data["landmarks"]:
        lng, lat = lm["geometry"]["coordinates"]
        assert locator.locate(lat, lng).code == lm["place"]


def test_known_point():
    loc = PlaceLocator.demo()
    found = loc.locate(30.7, 121.018)
    assert found == LocatedPlace("danghu.donghu", "东湖社区", "community", "danghu", "当湖街道")


@pytest.mark.parametrize(
    ("lat", "lng"),
    [
        (30.55, 121.05),  # Hangzhou Bay, south of 乍浦
        (30.62, 121.17),  # the sea off 独山港
        (30.73, 120.85),  # Jiaxing, west of the city
        (31.23, 121.47),  # Shanghai
        (0.0, 0.0),
        (-30.7, -121.0),
        (float("nan"), 121.0),
    ],
)
def test_outside_returns_none(locator, lat, lng):
    assert locator.locate(lat, lng) is None


def test_point_in_the_bay_but_inside_the_bounding_box(locator, polys):
    # South-east corner of the bounding box: sea, yet within the bbox fast path.
    _minx, miny, maxx, _maxy = polys["pinghu"].bounds
    lat, lng = miny + 0.002, maxx - 0.002
    assert not polys["pinghu"].contains(Point(lng, lat))
    assert locator.locate(lat, lng) is None


def test_agrees_with_brute_force_and_locate_many(data, locator, polys):
    lowest = [p["code"] for p in data["places"] if p["kind"] in {"village", "community"}]
    rng = random.Random(3)
    lats = [rng.uniform(30.58, 30.82) for _ in range(3000)]
    lngs = [rng.uniform(120.88, 121.19) for _ in range(3000)]
    many = locator.locate_many(lats, lngs)
    for lat, lng, batch in zip(lats, lngs, many, strict=True):
        one = locator.locate(lat, lng)
        assert one == batch
        truth = [c for c in lowest if polys[c].intersects(Point(lng, lat))]
        assert (one.code if one else None) == (truth[0] if truth else None)


def test_point_on_a_shared_border_is_deterministic(data, locator, polys):
    a, b = "danghu.donghu", "danghu.shuidongdai"
    border = polys[a].intersection(polys[b])
    assert border.length > 0
    pt = border.interpolate(0.5, normalized=True)
    first = locator.locate(pt.y, pt.x)
    assert first is not None and first.code in {a, b}
    assert all(locator.locate(pt.y, pt.x) == first for _ in range(5))
    assert locator.locate_many([pt.y], [pt.x]) == [first]


def test_bounds_work_with_validate_point(locator):
    min_lat, min_lng, max_lat, max_lng = locator.bounds
    assert min_lat < 30.7 < max_lat and min_lng < 121.02 < max_lng
    with pytest.raises(ValueError, match="swapped"):
        validate_point(121.02, 30.7, bounds=locator.bounds)


def test_rejects_bad_input():
    square = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    with pytest.raises(ValueError, match="duplicate"):
        PlaceLocator.from_geojson(
            [
                {"code": "a", "name": "A", "kind": "town", "parent": None, "boundary": square},
                {"code": "a", "name": "A", "kind": "town", "parent": None, "boundary": square},
            ]
        )
    with pytest.raises(ValueError, match="valid polygon"):
        PlaceLocator.from_geojson(
            [{"code": "a", "name": "A", "kind": "town", "parent": None, "boundary": bowtie}]
        )


def test_a_town_without_villages_is_its_own_lowest_level():
    sq = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    loc = PlaceLocator.from_geojson(
        [
            {"code": "c", "name": "C", "kind": "city", "parent": None},
            {"code": "t", "name": "T", "kind": "town", "parent": "c", "boundary": sq},
        ]
    )
    found = loc.locate(0.5, 0.5)
    assert found == LocatedPlace("t", "T", "town", "t", "T")
    assert found.village_code is None


def test_fast_enough(locator):
    rng = random.Random(5)
    pts = [(rng.uniform(30.6, 30.8), rng.uniform(120.9, 121.17)) for _ in range(20000)]
    start = time.perf_counter()
    for lat, lng in pts:
        locator.locate(lat, lng)
    per_call = (time.perf_counter() - start) / len(pts)
    assert per_call < 200e-6  # target 50 µs; measured ~7 µs (bench/locate_speed.py), CI slack
