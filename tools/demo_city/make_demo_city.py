"""Generate ``demo_city.json``: the illustrative geography of the demo city (平湖市, Pinghu).

Why a generator and not hand-drawn data: the boundaries must tile exactly (towns tile the
city, villages tile their town, no overlap and no gap), which is tedious and error-prone to
draw by hand but easy to guarantee by construction:

1. A city outline is drawn from a couple of dozen hand-placed vertices roughly following
   Pinghu's real shape (Hangzhou Bay coast to the south-east), densified with a seeded wiggle
   so it does not look like a ruler drawing.
2. Towns/streets are the Voronoi cells of their seats (镇政府/街道办 locations), computed in a
   local kilometre frame and clipped to the outline; the shared edges are bent a little.
3. Inside each town, the first village/community sits on the seat and the others are
   spread by best-candidate sampling; their Voronoi edges, clipped to the town, split it.
4. All of that linework is noded together on the 5-decimal grid (about 1 m) with GEOS
   snap-rounding and polygonized, so neighbours share every vertex: a town is the exact
   union of its villages and the city the exact union of its towns. The script checks this
   (areas, coverage, overlaps, validity, centres strictly inside) before writing, and tries
   the next seed if a check fails.

The output is deterministic for a given seed and GEOS version; the committed JSON is the
reference copy. It is written where the runtime reads it (``minsheng/places/data/``). Run it
from the repository root::

    python -m tools.demo_city.make_demo_city

The geography is ILLUSTRATIVE: names are real or plausible, the layout follows Pinghu's
broad shape, but no boundary, road or landmark position is surveyed data.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, MultiPoint, Point, Polygon, mapping
from shapely.ops import unary_union

from minsheng.places.locator import DEMO_CITY_PATH

OUT = DEMO_CITY_PATH
BASE_SEED = 20240517
# The committed JSON was produced with this GEOS; another version may round a Voronoi vertex
# differently, so byte-for-byte reproduction is only checked against this one.
GEOS_VERSION = (3, 14, 1)
DECIMALS = 5
AREA_EPS = 1e-12  # square degrees; 1e-12 deg² is about 0.01 m²

NOTE = (
    "ILLUSTRATIVE demo geography modelled on 平湖市 (Pinghu, Jiaxing, Zhejiang). Town/street "
    "and village/community names are real or plausible, the layout follows the city's broad "
    "shape (当湖 in the centre, 乍浦/独山港 on the Hangzhou Bay coast, 新埭/广陈 to the "
    "west/north-west, 新仓 to the north-east), but every boundary, road and landmark position "
    "is generated (make_demo_city.py, Voronoi cells of seeded points) and is NOT surveyed data. "
    "Coordinates are WGS-84, GeoJSON order [lng, lat], 5 decimals; 'center' is [lat, lng]."
)

CITY = {"code": "pinghu", "name": "平湖市", "kind": "city"}

# City outline, clockwise from the west, (lng, lat). The south-east side is the coast.
OUTLINE = [
    (120.905, 30.712),
    (120.903, 30.742),
    (120.915, 30.768),
    (120.940, 30.790),
    (120.975, 30.801),
    (121.010, 30.804),
    (121.045, 30.797),
    (121.075, 30.786),
    (121.105, 30.779),
    (121.135, 30.762),
    (121.155, 30.737),
    (121.166, 30.706),
    (121.170, 30.676),
    (121.162, 30.652),  # coast starts here (border with Jinshan, Shanghai)
    (121.138, 30.634),
    (121.108, 30.617),
    (121.082, 30.604),
    (121.052, 30.600),
    (121.022, 30.605),
    (120.992, 30.616),
    (120.962, 30.632),  # coast ends here
    (120.937, 30.652),
    (120.917, 30.680),
]
COAST_FROM = 13  # index range of OUTLINE vertices on the coast (smoother wiggle)
COAST_TO = 20

# (code, name, kind, seat (lng, lat), [(village code, name, kind), ...]); the first village
# of each town is its seat and gets the town's centre as its seed.
TOWNS: list[tuple[str, str, str, tuple[float, float], list[tuple[str, str, str]]]] = [
    (
        "danghu",
        "当湖街道",
        "street",
        (121.018, 30.700),
        [
            ("donghu", "东湖社区", "community"),
            ("shuidongdai", "水洞埭社区", "community"),
            ("nanhetou", "南河头社区", "community"),
            ("hongni", "虹霓社区", "community"),
        ],
    ),
    (
        "zhongxi",
        "钟溪街道",
        "street",
        (121.062, 30.720),
        [
            ("zhongxi", "钟溪社区", "community"),
            ("zhongdai", "钟埭村", "village"),
            ("shenjianong", "沈家弄村", "village"),
        ],
    ),
    (
        "caoqiao",
        "曹桥街道",
        "street",
        (120.962, 30.680),
        [
            ("caoqiao", "曹桥社区", "community"),
            ("baofeng", "保丰村", "village"),
            ("baishou", "百寿村", "village"),
        ],
    ),
    (
        "zhapu",
        "乍浦镇",
        "town",
        (121.078, 30.628),
        [
            ("tianfei", "天妃社区", "community"),
            ("yashan", "雅山社区", "community"),
            ("jinxing", "金星村", "village"),
            ("haitang", "海塘村", "village"),
        ],
    ),
    (
        "xindai",
        "新埭镇",
        "town",
        (120.948, 30.747),
        [
            ("xindai", "新埭社区", "community"),
            ("yuqitang", "鱼圻塘村", "village"),
            ("maokou", "泖口村", "village"),
        ],
    ),
    (
        "xincang",
        "新仓镇",
        "town",
        (121.105, 30.750),
        [
            ("xincang", "新仓社区", "community"),
            ("sanchahe", "三叉河村", "village"),
            ("luwan", "芦湾村", "village"),
        ],
    ),
    (
        "dushangang",
        "独山港镇",
        "town",
        (121.130, 30.672),
        [
            ("quantang", "全塘社区", "community"),
            ("dali", "大力村", "village"),
            ("zhaojiaqiao", "赵家桥村", "village"),
        ],
    ),
    (
        "lindai",
        "林埭镇",
        "town",
        (121.012, 30.640),
        [
            ("lindai", "林埭社区", "community"),
            ("qinggang", "青港村", "village"),
            ("xujiadai", "徐家埭村", "village"),
        ],
    ),
    (
        "guangchen",
        "广陈镇",
        "town",
        (121.008, 30.772),
        [
            ("guangchen", "广陈社区", "community"),
            ("shantang", "山塘村", "village"),
        ],
    ),
]

# Roads: (name, kind, waypoints (lng, lat)). Roads are clipped to the city outline. 人民路
# exists twice on purpose (当湖 and 乍浦), as same-named roads do in real Chinese towns.
ROADS: list[tuple[str, str, list[tuple[float, float]]]] = [
    ("胜利路", "street", [(120.996, 30.7035), (121.020, 30.7045), (121.046, 30.7060)]),
    ("东湖大道", "avenue", [(121.018, 30.6880), (121.031, 30.6950), (121.038, 30.7080), (121.041, 30.7230)]),
    ("新华路", "street", [(121.0115, 30.6850), (121.0125, 30.7000), (121.0135, 30.7160)]),
    ("人民路", "street", [(120.999, 30.6955), (121.015, 30.6950), (121.032, 30.6940)]),
    ("当湖路", "street", [(121.004, 30.7085), (121.018, 30.7095), (121.031, 30.7120)]),
    ("建国路", "street", [(121.0245, 30.6840), (121.0255, 30.7000), (121.0270, 30.7170)]),
    ("解放路", "street", [(121.003, 30.6880), (121.007, 30.7000), (121.006, 30.7150)]),
    ("环城北路", "street", [(120.996, 30.7190), (121.020, 30.7220), (121.048, 30.7250)]),
    ("三港路", "street", [(121.000, 30.6800), (121.020, 30.6790), (121.045, 30.6830)]),
    ("钟埭路", "street", [(121.046, 30.7050), (121.060, 30.7180), (121.072, 30.7330)]),
    ("曹兴路", "street", [(120.945, 30.6760), (120.962, 30.6800), (120.985, 30.6880)]),
    ("人民路", "street", [(121.066, 30.6275), (121.078, 30.6285), (121.092, 30.6280)]),
    ("雅山路", "street", [(121.072, 30.6150), (121.074, 30.6280), (121.077, 30.6420)]),
    ("天妃路", "street", [(121.085, 30.6120), (121.088, 30.6250), (121.087, 30.6380)]),
    (
        "乍王公路",
        "highway",
        [(121.078, 30.6300), (121.040, 30.6500), (121.000, 30.6620), (120.962, 30.6800), (120.900, 30.7000)],
    ),
    ("平廊公路", "highway", [(121.030, 30.7030), (121.062, 30.7210), (121.105, 30.7500), (121.150, 30.7800)]),
    ("平善公路", "highway", [(121.005, 30.7120), (120.975, 30.7300), (120.948, 30.7470), (120.900, 30.7650)]),
    ("新乍公路", "highway", [(121.105, 30.7500), (121.090, 30.7050), (121.082, 30.6650), (121.078, 30.6300)]),
    ("广新公路", "highway", [(121.008, 30.7720), (120.980, 30.7620), (120.948, 30.7470)]),
    ("平兴公路", "highway", [(121.020, 30.7150), (121.012, 30.7450), (121.008, 30.7720), (121.000, 30.8100)]),
    ("林埭路", "highway", [(121.018, 30.6880), (121.015, 30.6650), (121.012, 30.6400), (121.010, 30.6080)]),
    ("独山大道", "highway", [(121.050, 30.7050), (121.095, 30.6900), (121.130, 30.6720), (121.160, 30.6600)]),
    (
        "滨海大道",
        "highway",
        [(120.985, 30.6250), (121.030, 30.6110), (121.080, 30.6110), (121.120, 30.6320), (121.155, 30.6560)],
    ),
    ("全塘路", "street", [(121.118, 30.6640), (121.130, 30.6720), (121.142, 30.6810)]),
    ("新仓路", "street", [(121.092, 30.7460), (121.105, 30.7500), (121.120, 30.7560)]),
    ("新埭大街", "street", [(120.936, 30.7430), (120.948, 30.7470), (120.962, 30.7500)]),
]

# Landmarks: (name, kind, village code, offset from the village seed (dlng, dlat), aliases).
LANDMARKS: list[tuple[str, str, str, tuple[float, float], list[str]]] = [
    ("市民中心", "public", "danghu.donghu", (0.0030, -0.0020), ["平湖市民中心"]),
    ("平湖市人民政府", "government", "danghu.donghu", (-0.0020, 0.0015), ["平湖市政府", "市政府"]),
    ("东湖公园", "park", "danghu.donghu", (0.0060, 0.0010), []),
    ("当湖街道办事处", "government", "danghu.shuidongdai", (0.0010, 0.0010), ["当湖街道办"]),
    ("东湖苑", "residential", "danghu.nanhetou", (0.0015, -0.0010), []),
    ("金桂苑", "residential", "danghu.hongni", (-0.0010, 0.0010), []),
    ("莫氏庄园", "heritage", "danghu.nanhetou", (-0.0015, 0.0010), []),
    ("李叔同纪念馆", "heritage", "danghu.donghu", (0.0070, -0.0030), []),
    ("平湖市第一人民医院", "hospital", "danghu.shuidongdai", (-0.0020, -0.0010), ["第一人民医院"]),
    ("平湖火车站", "station", "zhongxi.zhongxi", (0.0040, 0.0030), ["平湖站", "火车站"]),
    ("钟溪街道办事处", "government", "zhongxi.zhongxi", (-0.0010, -0.0010), ["钟溪街道办"]),
    ("钟埭花园", "residential", "zhongxi.zhongdai", (0.0010, -0.0010), []),
    ("曹桥街道办事处", "government", "caoqiao.caoqiao", (0.0010, 0.0005), ["曹桥街道办"]),
    ("保丰小区", "residential", "caoqiao.baofeng", (0.0010, 0.0010), []),
    ("乍浦镇人民政府", "government", "zhapu.tianfei", (0.0010, 0.0010), ["乍浦镇政府"]),
    ("乍浦港", "port", "zhapu.haitang", (0.0020, -0.0020), []),
    ("汤山", "hill", "zhapu.yashan", (-0.0020, -0.0015), []),
    ("九龙山", "scenic", "zhapu.jinxing", (0.0010, -0.0020), ["九龙山景区"]),
    ("雅山公园", "park", "zhapu.yashan", (0.0015, 0.0010), []),
    ("独山港镇人民政府", "government", "dushangang.quantang", (0.0010, 0.0010), ["独山港镇政府"]),
    ("独山港码头", "port", "dushangang.dali", (0.0020, -0.0020), []),
    ("新埭镇人民政府", "government", "xindai.xindai", (0.0010, 0.0010), ["新埭镇政府"]),
    ("泖河公园", "park", "xindai.maokou", (0.0010, 0.0010), []),
    ("新仓镇人民政府", "government", "xincang.xincang", (0.0010, 0.0010), ["新仓镇政府"]),
    ("芦湾小区", "residential", "xincang.luwan", (-0.0010, 0.0010), []),
    ("林埭镇人民政府", "government", "lindai.lindai", (0.0010, 0.0010), ["林埭镇政府"]),
    ("青港小区", "residential", "lindai.qinggang", (0.0010, -0.0010), []),
    ("广陈镇人民政府", "government", "guangchen.guangchen", (0.0010, 0.0010), ["广陈镇政府"]),
    ("山塘老街", "heritage", "guangchen.shantang", (0.0015, 0.0015), []),
    ("城北花园", "residential", "danghu.hongni", (0.0010, 0.0025), []),
]


def _round(x: float) -> float:
    return round(x, DECIMALS)


def wiggle_outline(rng: np.random.Generator) -> Polygon:
    """Densify the outline and push inland vertices sideways a little (seeded)."""
    pts: list[tuple[float, float]] = []
    n = len(OUTLINE)
    for i in range(n):
        (x0, y0), (x1, y1) = OUTLINE[i], OUTLINE[(i + 1) % n]
        coast = COAST_FROM <= i < COAST_TO
        length = math.hypot(x1 - x0, y1 - y0)
        steps = max(1, int(length / 0.006))
        nx, ny = -(y1 - y0) / length, (x1 - x0) / length  # unit normal
        amp = 0.0006 if coast else 0.0018
        for k in range(steps):
            t = k / steps
            off = 0.0 if k == 0 else float(rng.normal(0.0, amp)) * math.sin(math.pi * t)
            pts.append((_round(x0 + t * (x1 - x0) + off * nx), _round(y0 + t * (y1 - y0) + off * ny)))
    poly = Polygon(pts)
    if not poly.is_valid:
        raise ValueError("outline wiggle made an invalid polygon")
    return poly


# Local equirectangular frame in kilometres around the city centre: Voronoi diagrams and
# seed spacing are computed here so that cells are shaped by real distances, not by degrees
# (a degree of longitude is only 0.86 of a degree of latitude at 30.7°N).
LNG0, LAT0 = 121.02, 30.70
KX = 111.320 * math.cos(math.radians(LAT0))
KY = 110.574


def to_km(geom: Any) -> Any:
    return shapely.transform(geom, lambda c: np.column_stack(((c[:, 0] - LNG0) * KX, (c[:, 1] - LAT0) * KY)))


def to_deg(geom: Any) -> Any:
    return shapely.transform(geom, lambda c: np.column_stack((c[:, 0] / KX + LNG0, c[:, 1] / KY + LAT0)))


def voronoi_edges(seeds: list[Point], inside: Polygon) -> list[LineString]:
    """Internal Voronoi edges of ``seeds`` (in degrees), computed in km and clipped."""
    edges = shapely.voronoi_polygons(
        MultiPoint([to_km(p) for p in seeds]),
        extend_to=to_km(inside).buffer(50.0),
        only_edges=True,
    )
    clipped = to_deg(edges).intersection(inside)
    return [
        g
        for g in shapely.get_parts(shapely.line_merge(clipped))
        if g.geom_type == "LineString" and g.length > 0
    ]


def wiggle(line: LineString, amp_km: float, rng: np.random.Generator) -> LineString:
    """Bend an internal boundary a little (ends fixed) so it reads like a field boundary."""
    km = to_km(line)
    steps = max(2, int(km.length / 0.45))
    pts = [km.interpolate(k / steps, normalized=True) for k in range(steps + 1)]
    # Smoothed noise (a short moving average) bends the line instead of serrating it.
    noise = np.convolve(rng.normal(0.0, amp_km * 1.7, steps + 5), np.ones(5) / 5, "valid")
    out = [(pts[0].x, pts[0].y)]
    for k in range(1, steps):
        a, b = pts[k - 1], pts[k + 1]
        dx, dy = b.x - a.x, b.y - a.y
        norm = math.hypot(dx, dy) or 1.0
        off = float(noise[k]) * math.sin(math.pi * k / steps) ** 2
        out.append((pts[k].x - dy / norm * off, pts[k].y + dx / norm * off))
    out.append((pts[-1].x, pts[-1].y))
    return to_deg(LineString(out))


def faces_of(lines: list[Any], seeds: dict[str, Point]) -> dict[str, Polygon]:
    """Node ``lines`` on the 5-decimal grid, polygonize, and give each face to its seed.

    Snap-rounding all linework together is what makes neighbours share every vertex, so the
    rounded polygons tile without slivers.
    """
    noded = shapely.union_all(lines, grid_size=10.0**-DECIMALS)
    faces = [round_polygon(f) for f in shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))]
    if len(faces) != len(seeds):
        raise ValueError(f"{len(faces)} faces for {len(seeds)} seeds")
    owner: dict[str, Polygon] = {}
    for face in faces:
        inside = [code for code, p in seeds.items() if face.contains(p)]
        if len(inside) != 1:
            raise ValueError("a face does not hold exactly one seed")
        owner[inside[0]] = face
    return owner


def sample_seeds(town: Polygon, seat: Point, n: int, rng: np.random.Generator) -> list[Point]:
    """Seat first, then best-candidate samples: spread out and away from the town border."""
    town_km = to_km(town)
    chosen = [to_km(seat)]
    minx, miny, maxx, maxy = town_km.bounds
    while len(chosen) < n:
        best, best_d = None, -1.0
        for _ in range(40):
            c = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
            if not town_km.contains(c):
                continue
            d = min(min(c.distance(p) for p in chosen), 1.6 * town_km.exterior.distance(c))
            if d > best_d:
                best, best_d = c, d
        if best is None:
            raise ValueError("could not place a village seed")
        chosen.append(best)
    return [Point(_round(p.x), _round(p.y)) for p in map(to_deg, chosen)]


def round_polygon(geom: Any) -> Polygon:
    """Round a polygon's vertices to 5 decimals, dropping repeated vertices."""
    if geom.geom_type != "Polygon":
        raise ValueError(f"expected a Polygon, got {geom.geom_type}")
    if geom.interiors:
        raise ValueError("unexpected hole")
    ring: list[tuple[float, float]] = []
    for x, y in geom.exterior.coords:
        p = (_round(x), _round(y))
        if not ring or ring[-1] != p:
            ring.append(p)
    return shapely.normalize(Polygon(ring))


def build(seed: int) -> dict[str, Any]:
    """Build the whole city for one seed; raise ValueError if a check fails."""
    rng = np.random.default_rng(seed)
    outline = wiggle_outline(rng)

    # Towns: Voronoi of the seats, internal edges bent, everything noded on the grid.
    seats = {t[0]: Point(_round(t[3][0]), _round(t[3][1])) for t in TOWNS}
    town_edges = [wiggle(e, 0.35, rng) for e in voronoi_edges(list(seats.values()), outline)]
    town_poly = faces_of([outline.exterior, *town_edges], seats)

    # Villages: seat community on the town seat, the others spread inside the town.
    seeds: list[tuple[str, str, str, str, Point]] = []
    village_edges: list[Any] = []
    for town_code, _tname, _tkind, _seat, villages in TOWNS:
        pts = sample_seeds(town_poly[town_code], seats[town_code], len(villages), rng)
        for (vcode, vname, vkind), p in zip(villages, pts, strict=True):
            seeds.append((town_code, f"{town_code}.{vcode}", vname, vkind, p))
        village_edges += [wiggle(e, 0.2, rng) for e in voronoi_edges(pts, town_poly[town_code])]
    village_poly = faces_of(
        [p.exterior for p in town_poly.values()] + village_edges,
        {s[1]: s[4] for s in seeds},
    )

    # Towns and city are rebuilt as exact unions of the village faces.
    for town_code in town_poly:
        union = unary_union([village_poly[s[1]] for s in seeds if s[0] == town_code])
        if union.geom_type != "Polygon" or union.interiors:
            raise ValueError(f"town {town_code} is not one simple polygon")
        town_poly[town_code] = round_polygon(union)
    city_union = unary_union(list(town_poly.values()))
    if city_union.geom_type != "Polygon" or city_union.interiors:
        raise ValueError("the city is not one simple polygon")
    city_poly = round_polygon(city_union)

    check_tiling(city_poly, list(town_poly.values()), "city")
    for town_code in town_poly:
        kids = [village_poly[s[1]] for s in seeds if s[0] == town_code]
        check_tiling(town_poly[town_code], kids, town_code)

    places: list[dict[str, Any]] = []
    places.append(place_record(CITY["code"], CITY["name"], CITY["kind"], None, seats["danghu"], city_poly))
    for town_code, tname, tkind, _seat, _v in TOWNS:
        places.append(
            place_record(town_code, tname, tkind, CITY["code"], seats[town_code], town_poly[town_code])
        )
    for town_code, vcode, vname, vkind, p in seeds:
        places.append(place_record(vcode, vname, vkind, town_code, p, village_poly[vcode]))

    roads = []
    for name, kind, pts in ROADS:
        line = LineString(pts).intersection(outline_of(city_poly))
        if line.geom_type == "MultiLineString":
            line = max(line.geoms, key=lambda g: g.length)
        if line.is_empty or line.geom_type != "LineString":
            raise ValueError(f"road {name} fell outside the city")
        coords = [[_round(x), _round(y)] for x, y in line.coords]
        roads.append({"name": name, "kind": kind, "geometry": {"type": "LineString", "coordinates": coords}})

    landmarks = []
    seed_point = {s[1]: s[4] for s in seeds}
    for name, kind, vcode, (dx, dy), aliases in LANDMARKS:
        base = seed_point[vcode]
        poly = village_poly[vcode]
        for _ in range(12):
            pt = Point(_round(base.x + dx), _round(base.y + dy))
            if poly.contains(pt) and poly.exterior.distance(pt) > 0.0003:
                break
            dx, dy = dx / 2, dy / 2
        else:
            raise ValueError(f"landmark {name} does not fit in {vcode}")
        rec: dict[str, Any] = {"name": name, "kind": kind, "place": vcode}
        if aliases:
            rec["aliases"] = aliases
        rec["geometry"] = {"type": "Point", "coordinates": [pt.x, pt.y]}
        landmarks.append(rec)

    return {"note": NOTE, "crs": "WGS84", "places": places, "roads": roads, "landmarks": landmarks}


def outline_of(city_poly: Polygon) -> Polygon:
    """Roads are clipped a hair inside the boundary so their ends stay inside the city."""
    return city_poly.buffer(-0.0005)


def place_record(
    code: str, name: str, kind: str, parent: str | None, center: Point, poly: Polygon
) -> dict[str, Any]:
    if not poly.is_valid:
        raise ValueError(f"{code}: invalid polygon ({shapely.is_valid_reason(poly)})")
    if not poly.contains(center) or poly.exterior.distance(center) < 0.001:
        raise ValueError(f"{code}: centre not well inside its polygon")
    geom = mapping(poly)
    return {
        "code": code,
        "name": name,
        "kind": kind,
        "parent": parent,
        "center": [_round(center.y), _round(center.x)],
        "boundary": {
            "type": "Polygon",
            "coordinates": [[[x, y] for x, y in ring] for ring in geom["coordinates"]],
        },
    }


def check_tiling(whole: Polygon, parts: list[Polygon], label: str) -> None:
    """Parts must cover ``whole`` exactly: equal area, empty difference, no overlap."""
    total = sum(p.area for p in parts)
    if abs(total - whole.area) > AREA_EPS:
        raise ValueError(f"{label}: parts' areas {total} != whole {whole.area}")
    if unary_union(parts).symmetric_difference(whole).area > AREA_EPS:
        raise ValueError(f"{label}: parts do not cover the whole exactly")
    for i, a in enumerate(parts):
        for b in parts[i + 1 :]:
            if a.intersection(b).area > AREA_EPS:
                raise ValueError(f"{label}: parts overlap")


def dump(data: dict[str, Any]) -> str:
    """One record per line: small, diff-friendly, still valid JSON."""

    def one(obj: Any) -> str:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))

    lines = ["{", f'"note":{one(data["note"])},', f'"crs":{one(data["crs"])},']
    for i, key in enumerate(("places", "roads", "landmarks")):
        items = data[key]
        lines.append(f'"{key}":[')
        lines.extend(one(item) + ("," if j < len(items) - 1 else "") for j, item in enumerate(items))
        lines.append("]," if i < 2 else "]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main() -> int:
    last_error = None
    for attempt in range(200):
        try:
            data = build(BASE_SEED + attempt)
        except ValueError as exc:
            last_error = exc
            continue
        text = dump(data)
        OUT.write_text(text, encoding="utf-8")
        print(
            f"seed {BASE_SEED + attempt}: wrote {OUT.name} "
            f"({len(text.encode()) // 1024} KB, {len(data['places'])} places, "
            f"{len(data['roads'])} roads, {len(data['landmarks'])} landmarks)"
        )
        return 0
    print(f"no seed passed the checks; last error: {last_error}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
