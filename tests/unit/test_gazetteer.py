"""Address text → place: prefixes, house numbers, short names, typos, and combinations."""

from __future__ import annotations

import pytest
from shapely.geometry import Point, shape

from minsheng.places.gazetteer import MIN_SCORE, Gazetteer, normalize_address
from minsheng.places.locator import PlaceLocator, load_demo_city


@pytest.fixture(scope="module")
def data():
    return load_demo_city()


@pytest.fixture(scope="module")
def gaz(data):
    return Gazetteer.from_city(data)


@pytest.fixture(scope="module")
def locator(data):
    return PlaceLocator.from_geojson(data["places"])


def polygon(data, code):
    return next(shape(p["boundary"]) for p in data["places"] if p["code"] == code)


def on_road(data, road_name, point, town=None):
    """Is (lat, lng) on a road of that name (the one in ``town`` if given)?"""
    lat, lng = point
    for road in data["roads"]:
        line = shape(road["geometry"])
        if road["name"] == road_name and line.distance(Point(lng, lat)) < 1e-9:
            return town is None or polygon(data, town).intersects(Point(lng, lat))
    return False


# --- every name resolves to itself -----------------------------------------------------------


def test_every_place_name(gaz, data):
    for p in data["places"]:
        m = gaz.match(p["name"])
        assert m is not None and m.code == p["code"] and m.kind == "place", p["name"]
        assert m.score == 100
        assert m.point == tuple(p["center"])


def test_every_landmark_and_alias(gaz, data):
    for lm in data["landmarks"]:
        for name in [lm["name"], *lm.get("aliases", [])]:
            m = gaz.match(name)
            assert m is not None, name
            assert (m.kind, m.name, m.code, m.score) == ("landmark", lm["name"], lm["place"], 100)
            lng, lat = lm["geometry"]["coordinates"]
            assert m.point == (lat, lng)


def test_every_road(gaz, data, locator):
    for road in data["roads"]:
        m = gaz.match(road["name"])
        assert m is not None and m.kind == "road" and m.name == road["name"]
        assert on_road(data, road["name"], m.point)
        assert m.code == locator.locate(*m.point).code


# --- address noise ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "浙江省嘉兴市平湖市当湖街道胜利路128号",
        "浙江嘉兴平湖当湖街道胜利路128号",
        "中国浙江省嘉兴市平湖市当湖街道胜利路128号3幢2单元501室",
        "平湖市 当湖街道 胜利路 １２８ 号",  # spaces and full-width digits
        "当湖胜利路128号附近",
    ],
)
def test_prefixes_and_house_numbers(gaz, data, address):
    m = gaz.match(address)
    assert m is not None
    assert (m.kind, m.name, m.town_code, m.score) == ("road", "胜利路", "danghu", 100)
    assert on_road(data, "胜利路", m.point, town="danghu")


@pytest.mark.parametrize(
    ("address", "code"),
    [
        ("新埭", "xindai"),
        ("平湖新埭", "xindai"),
        ("独山港", "dushangang"),
        ("水洞埭", "danghu.shuidongdai"),
        ("当湖水洞埭", "danghu.shuidongdai"),
        ("曹桥保丰", "caoqiao.baofeng"),
        ("林埭镇青港村3组12号", "lindai.qinggang"),
        ("平湖市新埭镇鱼圻塘村", "xindai.yuqitang"),
        ("钟溪", "zhongxi"),  # the street, not its seat community 钟溪社区
        ("钟溪社区", "zhongxi.zhongxi"),
    ],
)
def test_missing_suffixes(gaz, address, code):
    m = gaz.match(address)
    assert m is not None and m.code == code
    assert m.score >= 95


def test_abbreviated_names_score_a_little_less(gaz):
    assert gaz.match("新埭").score == 95
    assert gaz.match("新埭镇").score == 100


@pytest.mark.parametrize(
    ("address", "name", "low", "high"),
    [
        ("胜力路12号", "胜利路", 60, 70),  # one typo in a 3-character name
        ("平湖市东胡大道88号", "东湖大道", 70, 80),  # ... in a 4-character one
        ("乍浦镇人民政俯", "乍浦镇人民政府", 80, 90),
        ("当湖街道胜力路", "胜利路", 65, 80),  # the town agrees: a little more sure
        ("雅山公圆", "雅山公园", 70, 80),
    ],
)
def test_typos(gaz, address, name, low, high):
    m = gaz.match(address)
    assert m is not None and m.name == name
    assert low <= m.score < high


def test_a_typed_name_keeps_its_type(gaz):
    m = gaz.match("当湖街")  # 当湖街道 cut short, not a typo of the road 当湖路
    assert m is not None and (m.code, m.kind) == ("danghu", "place")


def test_a_dropped_character(gaz):
    m = gaz.match("李叔同纪念")
    assert m is not None and m.name == "李叔同纪念馆" and 80 <= m.score < 90


def test_typo_reading_beats_the_town_it_agrees_with(gaz, data):
    m = gaz.match("当湖街道胜力路")
    assert m.kind == "road" and m.town_code == "danghu"
    assert on_road(data, "胜利路", m.point, town="danghu")


@pytest.mark.parametrize(
    "address",
    [
        "",
        "   ",
        "12345",
        "我家楼下的路灯坏了好几天了没人修",
        "湖边路上有个坑",  # 湖…路 is not a typo of 当湖路
        "利路",  # a suffix and one character prove nothing
        "上海市金山区廊下镇",  # another province-level city
        "北京市朝阳区建国路88号",  # 建国路 exists here too, but this is Beijing
        "江苏省苏州市吴江区",
        "嘉兴市海盐县武原街道",  # another county of Jiaxing
        "浙江省杭州市西湖区",
    ],
)
def test_no_match(gaz, address):
    assert gaz.match(address) is None


# --- combinations ----------------------------------------------------------------------------


def test_road_crossing_several_towns_lands_in_the_named_one(gaz, data):
    towns = {p["code"]: p for p in data["places"] if p["kind"] in {"town", "street"}}
    checked = 0
    names = [r["name"] for r in data["roads"]]
    for road in data["roads"]:
        if names.count(road["name"]) > 1:
            continue
        line = shape(road["geometry"])
        crossed = [c for c, t in towns.items() if line.intersection(shape(t["boundary"])).length > 0.003]
        if len(crossed) < 2:
            continue
        for code in crossed:
            m = gaz.match(f"平湖市{towns[code]['name']}{road['name']}99号")
            assert m is not None and m.kind == "road" and m.name == road["name"]
            assert m.town_code == code, (road["name"], code)
            assert on_road(data, road["name"], m.point, town=code)
            checked += 1
    assert checked >= 10  # the demo city has a dozen roads crossing towns


def test_road_without_a_town_resolves_to_the_place_of_its_middle(gaz, data, locator):
    m = gaz.match("平廊公路")
    line = next(shape(r["geometry"]) for r in data["roads"] if r["name"] == "平廊公路")
    mid = line.interpolate(0.5, normalized=True)
    assert m.point == (mid.y, mid.x)
    assert m.code == locator.locate(mid.y, mid.x).code


@pytest.mark.parametrize(
    ("address", "town"),
    [
        ("乍浦镇人民路5号", "zhapu"),
        ("当湖街道人民路5号", "danghu"),
        ("浙江省嘉兴市平湖市乍浦人民路", "zhapu"),
    ],
)
def test_same_named_roads_follow_the_town(gaz, data, address, town):
    m = gaz.match(address)
    assert m.name == "人民路" and m.town_code == town and m.score == 100
    assert on_road(data, "人民路", m.point, town=town)


def test_village_and_town_together(gaz):
    m = gaz.match("当湖街道水洞埭社区")
    assert (m.code, m.town_code, m.score) == ("danghu.shuidongdai", "danghu", 100)


def test_contradiction_lowers_the_score(gaz):
    # 钟埭村 is in 钟溪街道: the town named wins, but not with full marks.
    m = gaz.match("乍浦镇钟埭村")
    assert m is not None and m.code == "zhapu" and m.score == 90
    both = gaz.match_all("乍浦镇钟埭村")
    assert [(x.code, x.score) for x in both] == [("zhapu", 90), ("zhongxi.zhongdai", 70)]
    # A landmark's name is unique: it wins over the wrong town, without full marks.
    m = gaz.match("林埭镇平湖火车站附近")
    assert (m.name, m.code, m.score) == ("平湖火车站", "zhongxi.zhongxi", 90)
    # A road that does not reach the named town is not placed there.
    m = gaz.match("独山港镇钟埭路")
    assert m.code == "dushangang" and m.kind == "place"


def test_landmarks_win_over_the_names_inside_them(gaz):
    assert gaz.match("乍浦港").name == "乍浦港"  # not the town 乍浦
    assert gaz.match("平湖市民中心").name == "市民中心"  # not the city 平湖市
    assert gaz.match("东湖苑12幢301室").name == "东湖苑"  # not the community 东湖社区
    assert gaz.match("当湖路15号").name == "当湖路"  # not the street 当湖街道


def test_city_alone_and_as_context(gaz):
    m = gaz.match("浙江省嘉兴市平湖市")
    assert (m.code, m.kind, m.town_code) == ("pinghu", "place", None)
    assert gaz.match("平湖市东湖公园").name == "东湖公园"


def test_match_all_is_ranked_and_bounded(gaz):
    found = gaz.match_all("当湖街道胜力路", limit=5)
    assert found and all(MIN_SCORE <= m.score <= 100 for m in found)
    assert [m.score for m in found] == sorted((m.score for m in found), reverse=True)
    assert len(gaz.match_all("乍浦镇钟埭村", limit=1)) == 1


def test_min_score_is_adjustable(gaz):
    assert gaz.match("胜力路", min_score=90) is None
    assert gaz.match("胜力路").name == "胜利路"


def test_normalize_address():
    assert normalize_address("平湖市 当湖街道（胜利路）１２８号") == "平湖市当湖街道胜利路128号"
    assert normalize_address("No.5 ZHAPU") == "no5zhapu"


def test_works_with_a_small_hand_made_city():
    sq = {"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 1], [0, 1], [0, 0]]]}
    west = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    east = {"type": "Polygon", "coordinates": [[[1, 0], [2, 0], [2, 1], [1, 1], [1, 0]]]}
    city = {
        "places": [
            {
                "code": "c",
                "name": "示范市",
                "kind": "city",
                "parent": None,
                "center": [0.5, 1.0],
                "boundary": sq,
            },
            {
                "code": "w",
                "name": "西镇",
                "kind": "town",
                "parent": "c",
                "center": [0.5, 0.5],
                "boundary": west,
            },
            {
                "code": "e",
                "name": "东镇",
                "kind": "town",
                "parent": "c",
                "center": [0.5, 1.5],
                "boundary": east,
            },
        ],
        "roads": [
            {"name": "长安路", "geometry": {"type": "LineString", "coordinates": [[0.2, 0.5], [1.8, 0.5]]}}
        ],
        "landmarks": [],
    }
    gaz = Gazetteer.from_city(city)
    assert gaz.match("东镇长安路").code == "e"
    assert gaz.match("西镇长安路").code == "w"
    assert gaz.match("东镇长安路").point == (0.5, 1.4)
