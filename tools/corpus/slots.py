"""Slots: ``{name}`` in any phrase or frame is replaced by a fresh random value (``SLOTS``);
a line's address is drawn by the kind of place its matter happens at (``ADDRESS``)."""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from .places import (
    BUS_LINES,
    COMMUNITIES,
    COMPANY_HEADS,
    COMPANY_TRADES,
    ESTATES,
    FOOD_SHOPS,
    HOSPITALS,
    LANDMARKS,
    RIVERS,
    ROADS,
    SCHOOLS,
    SHOPS,
    SURNAMES,
    TOWNS,
    VILLAGES,
)

Slot = Callable[[random.Random], str]


def _road_spot(r: random.Random) -> str:
    town, road = r.choice(ROADS)
    other = r.choice([x for _t, x in ROADS if x != road])
    spot = r.choice(
        [
            f"{road}与{other}交叉口",
            f"{road}{r.randint(2, 388)}号门口",
            f"{road}靠近{r.choice(LANDMARKS)}那一段",
            f"{road}公交站旁边",
            f"{road}菜场对面",
            f"{road}红绿灯往东一百米",
            f"{road}桥下面",
            f"{road}加油站边上",
            f"{road}辅道上",
            f"{road}人行道上",
            f"{road}中段",
            f"{road}路口",
            f"{town}{road}",
            f"{town}{road}{r.randint(2, 388)}号附近",
            f"{road}{r.choice(ESTATES)}门口",
        ]
    )
    return spot


def _estate_spot(r: random.Random) -> str:
    e = r.choice(ESTATES)
    town, comm = r.choice(COMMUNITIES)
    return r.choice(
        [
            f"{e}{r.randint(1, 32)}幢",
            f"{e}小区里",
            f"{comm}{e}",
            f"{e}{r.randint(1, 32)}幢{r.randint(1, 4)}单元",
            f"{town}{e}",
            f"{e}{r.randint(1, 32)}号楼",
            f"{e}门口",
            f"{e}小区北门",
        ]
    )


def _village_spot(r: random.Random) -> str:
    town, v = r.choice(VILLAGES)
    return r.choice(
        [
            f"{v}{r.randint(1, 12)}组",
            f"{town}{v}",
            f"{v}{r.choice(SURNAMES)}家门口",
            f"{v}村委会旁边",
            f"{town}{v}{r.randint(1, 12)}组",
            f"{v}村口",
            f"{v}文化礼堂边上",
        ]
    )


def _river_spot(r: random.Random) -> str:
    town, v = r.choice(VILLAGES)
    _t, road = r.choice(ROADS)
    river = r.choice(RIVERS)
    return r.choice(
        [
            f"{town}{river}",
            f"{v}边上的河",
            f"{road}桥下的{river}",
            f"{river}{road}段",
            f"{v}门口那条河",
            f"{town}{v}的河道",
        ]
    )


def _company(r: random.Random) -> str:
    return f"{r.choice(COMPANY_HEADS)}{r.choice(COMPANY_TRADES)}有限公司"


def _company_spot(r: random.Random) -> str:
    town = r.choice(list(TOWNS))
    return r.choice(
        [
            f"{town}工业园区",
            f"{town}{r.choice(TOWNS[town]['roads'])}",
            "平湖经济技术开发区",
            "独山港经济开发区",
            f"{town}的厂区",
            "乍浦港区",
        ]
    )


def _site_spot(r: random.Random) -> str:
    return r.choice(
        [
            f"{_road_spot(r)}的工地",
            f"{r.choice(ESTATES)}旁边在建的楼盘",
            f"{r.choice(list(TOWNS))}一个工地",
            f"{_road_spot(r)}",
            f"{_estate_spot(r)}",
        ]
    )


def _market_spot(r: random.Random) -> str:
    town = r.choice(list(TOWNS))
    return r.choice(
        [
            f"{town}农贸市场",
            f"{r.choice(ROADS)[1]}菜场门口",
            f"{r.choice(SCHOOLS)}门口",
            f"{r.choice(LANDMARKS)}附近",
            _road_spot(r),
        ]
    )


def _sensor_id(r: random.Random) -> str:
    return f"PH-{r.choice(['DH', 'ZX', 'CQ', 'ZP', 'XD', 'XC', 'DSG', 'LD', 'GC'])}-{r.randint(1, 240):03d}"


SLOTS: dict[str, Slot] = {
    "n": lambda r: str(r.choice([2, 2, 3, 3, 4, 5, 6, 8, 10, 12, 15, 20, 30])),
    "cm": lambda r: str(r.randint(12, 75)),
    "big": lambda r: str(r.choice([20, 30, 40, 50, 80, 100, 150, 200])),
    "f": lambda r: f"{r.uniform(0.05, 9.5):.2f}",
    "town": lambda r: r.choice(list(TOWNS)),
    "road": lambda r: r.choice(ROADS)[1],
    "estate": lambda r: r.choice(ESTATES),
    "community": lambda r: r.choice(COMMUNITIES)[1],
    "village": lambda r: r.choice(VILLAGES)[1],
    "landmark": lambda r: r.choice(LANDMARKS),
    "river": lambda r: r.choice(RIVERS[:8]),
    "company": _company,
    "line": lambda r: r.choice(BUS_LINES),
    "school": lambda r: r.choice(SCHOOLS),
    "hospital": lambda r: r.choice(HOSPITALS),
    "shop": lambda r: r.choice(SHOPS),
    "foodshop": lambda r: r.choice(FOOD_SHOPS),
    "surname": lambda r: r.choice(SURNAMES),
    "sid": _sensor_id,
    "phone": lambda r: f"1{r.choice('3578')}{r.randint(0, 9)}****{r.randint(0, 9999):04d}",
    "month": lambda r: f"{r.randint(1, 12)}月",
    "date": lambda r: f"{r.randint(1, 12)}月{r.randint(1, 28)}日",
    "hour": lambda r: f"{r.randint(1, 23)}:{r.choice(['00', '15', '30', '45'])}",
}
ADDRESS: dict[str, Slot] = {
    "road": _road_spot,
    "estate": _estate_spot,
    "village": _village_spot,
    "river": _river_spot,
    "company": _company_spot,
    "site": _site_spot,
    "market": _market_spot,
    "school": lambda r: r.choice(SCHOOLS),
    "hospital": lambda r: r.choice(HOSPITALS),
    "bus": lambda r: r.choice(
        [f"{r.choice(BUS_LINES)}", f"{r.choice(LANDMARKS)}公交站", f"{r.choice(ROADS)[1]}公交站"]
    ),
    "foodshop": lambda r: r.choice(
        [
            f"{r.choice(ROADS)[1]}上{r.choice(FOOD_SHOPS)}",
            f"{r.choice(ESTATES)}附近{r.choice(FOOD_SHOPS)}",
            f"{r.choice(list(TOWNS))}{r.choice(FOOD_SHOPS)}",
        ]
    ),
    "shop": lambda r: r.choice(
        [f"{r.choice(ROADS)[1]}上{r.choice(SHOPS)}", f"{r.choice(list(TOWNS))}{r.choice(SHOPS)}"]
    ),
    "area": lambda r: r.choice(
        [
            f"{r.choice(ROADS)[1]}一带",
            f"{r.choice(LANDMARKS)}附近",
            r.choice(list(TOWNS)),
            f"{r.choice(ESTATES)}附近",
        ]
    ),
    "none": lambda r: "",
}
_SLOT_RE = re.compile(r"\{(\w+)\}")


def fill(template: str, r: random.Random) -> str:
    return _SLOT_RE.sub(lambda m: SLOTS[m.group(1)](r), template)
