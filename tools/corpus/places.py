"""The places a line of the corpus names.

The demo city's own places are read from its data file (``minsheng/places/data/demo_city.json``,
written by ``tools/demo_city``): towns/streets, their communities and villages, roads,
residential estates and landmarks, so the corpus and the city cannot drift apart. The
corpus also has pools of its own for things the demo city does not hold (more estates,
rivers, companies, bus lines, schools, hospitals, shops).
"""

from __future__ import annotations

from typing import Any

from minsheng.places.locator import TOWN_KINDS, load_demo_city

# Which roads the corpus's sentences put in which town/street (by code). The demo city's
# roads carry no town (several cross towns), so this pairing is the corpus's own. It does
# not always follow the demo city's geometry (新乍公路 never reaches 林埭镇, 平兴公路 runs
# through 广陈镇 rather than 新仓镇, 平善公路 through 新埭镇 rather than 曹桥街道), and
# 乍浦's 人民路 is left out so that each (town, road) pair is unique; changing the pairing
# changes the corpus and the figures measured on it. Every name must be a demo city road.
ROADS_BY_TOWN: dict[str, list[str]] = {
    "danghu": ["胜利路", "东湖大道", "新华路", "人民路", "当湖路", "建国路", "解放路", "环城北路", "三港路"],
    "zhongxi": ["钟埭路", "平廊公路"],
    "caoqiao": ["曹兴路", "平善公路"],
    "zhapu": ["雅山路", "天妃路", "乍王公路"],
    "xindai": ["新埭大街", "广新公路"],
    "xincang": ["新仓路", "平兴公路"],
    "dushangang": ["独山大道", "滨海大道", "全塘路"],
    "lindai": ["林埭路", "新乍公路"],
    "guangchen": ["广新公路"],
}
# The demo city's landmarks the corpus names, in the corpus's order, each by its name or an
# alias; then one the demo city does not hold.
CITY_LANDMARKS = [
    "市民中心",
    "东湖公园",
    "平湖火车站",
    "第一人民医院",
    "乍浦港",
    "九龙山",
    "雅山公园",
    "泖河公园",
    "山塘老街",
    "莫氏庄园",
    "李叔同纪念馆",
]
OTHER_LANDMARKS = ["平湖汽车站"]
# Residential estates (小区) beside the demo city's own.
OTHER_ESTATES = ["南河头小区", "虹霓新村", "雅山花园", "当湖新村", "天妃家园", "新埭阳光苑"]


def towns_of(city: dict[str, Any]) -> dict[str, dict[str, list[str]]]:
    """Town/street name → its communities, villages (in the data's order) and the roads the
    corpus puts there."""
    places = city["places"]
    town_places = [p for p in places if p["kind"] in TOWN_KINDS]
    if {t["code"] for t in town_places} != set(ROADS_BY_TOWN):
        raise ValueError("ROADS_BY_TOWN must name every town/street of the demo city, and only those")
    road_names = {r["name"] for r in city["roads"]}
    unknown = sorted({r for roads in ROADS_BY_TOWN.values() for r in roads} - road_names)
    if unknown:
        raise ValueError(f"not roads of the demo city: {', '.join(unknown)}")
    towns: dict[str, dict[str, list[str]]] = {}
    for town in town_places:
        kids = [p for p in places if p["parent"] == town["code"]]
        towns[town["name"]] = {
            "communities": [p["name"] for p in kids if p["kind"] == "community"],
            "villages": [p["name"] for p in kids if p["kind"] == "village"],
            "roads": list(ROADS_BY_TOWN[town["code"]]),
        }
    return towns


def landmarks_of(city: dict[str, Any]) -> list[str]:
    known = {n for lm in city["landmarks"] for n in [lm["name"], *lm.get("aliases", [])]}
    unknown = [n for n in CITY_LANDMARKS if n not in known]
    if unknown:
        raise ValueError(f"not landmarks of the demo city: {', '.join(unknown)}")
    return CITY_LANDMARKS + OTHER_LANDMARKS


def estates_of(city: dict[str, Any]) -> list[str]:
    return [lm["name"] for lm in city["landmarks"] if lm["kind"] == "residential"] + OTHER_ESTATES


_CITY = load_demo_city()
TOWNS = towns_of(_CITY)
ESTATES = estates_of(_CITY)
LANDMARKS = landmarks_of(_CITY)
RIVERS = [
    "上海塘",
    "东湖",
    "平湖塘",
    "广陈塘",
    "泖河",
    "嘉善塘",
    "黄姑塘",
    "白马堰港",
    "村里的河浜",
    "小区后面那条河",
]
SURNAMES = list("王李张陆沈顾朱徐陈周吴金钱蒋曹戴俞姚")
COMPANY_HEADS = [
    "平湖市华达",
    "浙江嘉禾",
    "乍浦恒信",
    "独山港宏远",
    "新仓永和",
    "当湖美佳",
    "平湖博瑞",
    "新埭东方",
    "林埭星河",
    "平湖景兴",
    "曹桥鑫达",
    "广陈丰源",
]
COMPANY_TRADES = [
    "服装",
    "箱包",
    "光电科技",
    "精密机械",
    "新材料",
    "食品",
    "包装",
    "汽配",
    "电子",
    "纺织",
    "五金",
]
BUS_LINES = [
    "1路",
    "3路",
    "5路",
    "8路",
    "K201路",
    "K206路",
    "306路",
    "211路",
    "平湖到乍浦的城乡公交",
    "去独山港的那趟车",
    "火车站到市民中心的公交",
    "广陈到城区的班车",
    "新仓到城区的公交",
]
SCHOOLS = [
    "当湖中学",
    "平湖市实验小学",
    "乍浦小学",
    "新埭中学",
    "钟溪幼儿园",
    "林埭小学",
    "东湖幼儿园",
    "平湖中学",
    "曹桥小学",
]
HOSPITALS = [
    "第一人民医院",
    "中医院",
    "乍浦镇卫生院",
    "新仓卫生院",
    "社区卫生服务中心",
    "妇幼保健院",
    "独山港镇卫生院",
]
FOOD_SHOPS = [
    "一家面馆",
    "小区门口的小超市",
    "菜市场的熟食摊",
    "一家外卖店",
    "学校门口的小吃店",
    "一家奶茶店",
    "一家烧烤店",
    "一家蛋糕店",
    "一家快餐店",
    "超市",
    "一家饭店",
]
SHOPS = [
    "一家健身房",
    "一家美容院",
    "一家理发店",
    "家具城",
    "一家装修公司",
    "一家4S店",
    "一家手机店",
    "商场里的一家店",
    "一家婚纱摄影店",
    "一家电器店",
    "一家干洗店",
    "网上一家店",
]


def _all(key: str) -> list[tuple[str, str]]:
    return [(town, item) for town, t in TOWNS.items() for item in t[key]]


ROADS = _all("roads")  # (town, road)
COMMUNITIES = _all("communities")  # (town, community)
VILLAGES = _all("villages")  # (town, village)
