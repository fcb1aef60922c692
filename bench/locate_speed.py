"""How fast are point → place and address → place? p50/p99 per call on the demo city.

Why: every request placed on the map is located, every typed address goes through the
gazetteer, and bulk imports do both hundreds of thousands of times; the target is below
50 µs per locate(). Results go into docs/places.md by hand, with the machine they ran on.

    .venv/bin/python bench/locate_speed.py            # 100,000 of each
    .venv/bin/python bench/locate_speed.py --n 20000  # quicker
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import time
from collections.abc import Callable, Sequence

import rapidfuzz
import shapely
import shapely.geometry

from minsheng.places.coords import gcj02_to_wgs84, wgs84_to_gcj02
from minsheng.places.gazetteer import Gazetteer
from minsheng.places.locator import PlaceLocator, load_demo_city

PREFIXES = ["", "", "平湖市", "浙江省嘉兴市平湖市", "浙江嘉兴平湖", "嘉兴市平湖市"]
NOISE = ["", "", "附近", "门口", "对面", "旁边"]
# Characters swapped in for typos: a few common ones, so some typos hit other names.
TYPO_CHARS = "力胡民华东新湖街道路村镇区山港"
GARBAGE = [
    "我家楼下的路灯坏了好几天了",
    "小区门口垃圾没人清理",
    "噪音扰民晚上十一点还在施工",
    "上海市金山区廊下镇",
    "北京市朝阳区建国路88号",
    "12345",
    "马路上有个大坑",
]


def make_addresses(data: dict, n: int, rng: random.Random) -> list[tuple[str, str | None]]:
    """Plausible free-text addresses and the name each is about (None for unrelated text).

    Prefixes, a town (full, short or none) that mostly agrees with the road/landmark/village
    (10% name some other town), house numbers, 15% with a one-character typo, 5% unrelated.
    """
    towns = {p["code"]: p for p in data["places"] if p["kind"] in ("town", "street")}
    villages = [p for p in data["places"] if p["kind"] in ("village", "community")]
    town_of = {p["code"]: p["parent"] for p in villages}
    road_towns = []
    for road in data["roads"]:
        line = shapely.geometry.shape(road["geometry"])
        near = [
            c
            for c, t in towns.items()
            if line.intersection(shapely.geometry.shape(t["boundary"])).length > 0.002
        ]
        road_towns.append((road["name"], near or list(towns)))
    out: list[tuple[str, str | None]] = []
    for _ in range(n):
        r = rng.random()
        if r < 0.05:
            out.append((rng.choice(GARBAGE), None))
            continue
        if r < 0.55:
            name, near = rng.choice(road_towns)
            body, town = f"{name}{rng.randint(1, 400)}号", rng.choice(near)
        elif r < 0.8:
            lm = rng.choice(data["landmarks"])
            name, town = lm["name"], town_of[lm["place"]]
            body = name + rng.choice(["", f"{rng.randint(1, 30)}幢"])
        else:
            v = rng.choice(villages)
            name, town = v["name"], v["parent"]
            body = name + rng.choice(["", f"{rng.randint(1, 9)}组"])
        if rng.random() < 0.1:
            town = rng.choice(list(towns))
        town_name = towns[town]["name"]
        if rng.random() < 0.3:
            town_name = town_name.removesuffix("街道").removesuffix("镇")
        if rng.random() < 0.3:
            town_name = ""
        if rng.random() < 0.15:
            k = rng.randrange(len(name))
            body = body[:k] + rng.choice(TYPO_CHARS) + body[k + 1 :]
        out.append((rng.choice(PREFIXES) + town_name + body + rng.choice(NOISE), name))
    return out


def timed(fn: Callable[..., object], args: Sequence[tuple]) -> list[float]:
    """Per-call wall time in microseconds."""
    clock = time.perf_counter_ns
    out = []
    for a in args:
        t0 = clock()
        fn(*a)
        out.append((clock() - t0) / 1000.0)
    return out


def summary(name: str, samples: list[float]) -> str:
    qs = statistics.quantiles(samples, n=100)
    return f"| {name} | {len(samples):,} | {qs[49]:.1f} | {qs[98]:.1f} | {statistics.fmean(samples):.1f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    data = load_demo_city()

    t0 = time.perf_counter()
    locator = PlaceLocator.from_geojson(data["places"])
    t_loc = time.perf_counter() - t0
    t0 = time.perf_counter()
    gaz = Gazetteer.from_city(data, locator)
    t_gaz = time.perf_counter() - t0

    # Points over the city's bounding box plus a margin: inside, outside, in the bay.
    min_lat, min_lng, max_lat, max_lng = locator.bounds
    pts = [
        (rng.uniform(min_lat - 0.02, max_lat + 0.02), rng.uniform(min_lng - 0.02, max_lng + 0.02))
        for _ in range(args.n)
    ]
    labelled = make_addresses(data, args.n, rng)
    addresses = [(a,) for a, _name in labelled]

    # Warm up caches and the allocator before measuring.
    for lat, lng in pts[:2000]:
        locator.locate(lat, lng)
    for (a,) in addresses[:500]:
        gaz.match(a)

    loc_samples = timed(locator.locate, pts)
    found = sum(1 for lat, lng in pts if locator.locate(lat, lng) is not None)
    gaz_samples = timed(gaz.match, addresses)
    results = [gaz.match(a) for a, _name in labelled]
    matched = sum(1 for m in results if m is not None)
    right = sum(1 for m, (_a, name) in zip(results, labelled, strict=True) if (m.name if m else None) == name)
    gcj_samples = timed(gcj02_to_wgs84, [wgs84_to_gcj02(lat, lng) for lat, lng in pts[:20000]])
    t0 = time.perf_counter()
    locator.locate_many([p[0] for p in pts], [p[1] for p in pts])
    many_us = (time.perf_counter() - t0) / len(pts) * 1e6

    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    print(
        f"machine: {cpu}, {os.cpu_count()} cores, {platform.system()} {platform.machine()}; "
        f"Python {platform.python_version()}, shapely {shapely.__version__} "
        f"(GEOS {'.'.join(map(str, shapely.geos_version))}), rapidfuzz {rapidfuzz.__version__}"
    )
    print(
        f"build: PlaceLocator.from_geojson {t_loc * 1e3:.1f} ms ({len(locator)} polygons), "
        f"Gazetteer.from_city {t_gaz * 1e3:.1f} ms"
    )
    print()
    print("| call | calls | p50 µs | p99 µs | mean µs |")
    print("|---|---:|---:|---:|---:|")
    print(summary("PlaceLocator.locate", loc_samples))
    print(summary("Gazetteer.match", gaz_samples))
    print(summary("coords.gcj02_to_wgs84", gcj_samples))
    print()
    print(f"locate_many: {many_us:.2f} µs per point over {len(pts):,} points")
    print(
        f"located {found / len(pts):.0%} of the points (the rest are outside the city); "
        f"matched {matched / len(addresses):.0%} of the addresses; the intended name (or None "
        f"for unrelated text) for {right / len(addresses):.1%}"
    )


if __name__ == "__main__":
    main()
