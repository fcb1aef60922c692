"""Address text → place: a small gazetteer over the city's places, roads and landmarks.

Why: many requests arrive without a map point (a hotline call typed in by an operator, an SMS,
a form where the resident typed "当湖街道胜利路128号"). Routing needs a place code, and the
map needs a point. Addresses as people write them carry noise the matcher must tolerate:
province/prefecture prefixes ("浙江省嘉兴市平湖市"), house numbers ("128号", "3幢2单元"), names
without their type suffix ("新埭" for 新埭镇, "水洞埭" for 水洞埭社区) and typos, mostly
same-sounding characters ("胜力路" for 胜利路, "东胡大道" for 东湖大道).

How:

1. Normalise (NFKC, no spaces or punctuation) and strip the province/prefecture prefix. An
   address that names another province, city or county is not ours: ``None``.
2. Exact pass: every alias found as a substring is a candidate scoring 100 (aliases derived
   by dropping a suffix score a little less). Names inside a longer candidate ("乍浦" inside
   "乍浦港") are dropped.
3. Fuzzy pass, only if some Chinese text is left unexplained: rapidfuzz shortlists aliases,
   then each is scored by Levenshtein distance over windows of about its own length. Typos are
   substitutions, so Levenshtein (not the Indel ratio of ``partial_ratio``) is the right
   measure; names with a type suffix (路, 村, 镇…) must keep it and may differ by one character
   in the stem. A fuzzy score is 100·(1 − edits/length): one typo in a 3-character road name
   scores 67, in a 4-character one 75.
4. Combination: towns/streets and villages named in the address are context. A candidate
   consistent with them (a road crossing that town, a landmark or village in it) gains a
   little and absorbs them. A road or village contradicted by the town loses 30, a landmark
   (its name is unique) 10, and the town itself 10: "乍浦镇人民路" picks 乍浦's 人民路, not
   当湖's; "乍浦镇钟埭村" (钟埭村 is in 钟溪) reads as 乍浦镇 at 90, "林埭镇平湖火车站" as the
   station at 90. A road's point is the middle of its stretch inside the most specific
   consistent context, so a road crossing several towns lands in the one the address names.
5. The best interpretation wins by score, then specificity (landmark > road > village >
   town > city), then match length. Below ``MIN_SCORE`` (60): ``None``.

Scores read as: 100 exact and consistent; 90–99 exact but abbreviated, or with a minor
contradiction; below 90 a typo or a contradiction (show it to a person to confirm).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein
from shapely.geometry import Point, shape

from .locator import TOWN_KINDS, PlaceLocator, load_demo_city

__all__ = ["MIN_SCORE", "Gazetteer", "GazetteerMatch", "normalize_address"]

MIN_SCORE = 60.0

# Specificity of what a match points at: the more specific, the better the point.
_LEVEL = {"city": 0, "town": 1, "street": 1, "village": 2, "community": 2, "road": 3, "landmark": 4}
GRASSROOTS_KINDS = frozenset({"village", "community"})

# Type suffixes, longest first. Places: dropping one gives the everyday short name.
_PLACE_SUFFIXES = ("居委会", "街道", "社区", "镇", "乡", "村", "市", "区", "县")
_TYPED_SUFFIXES = ("街道", "社区", "公路", "大道", "大街", "镇", "乡", "村", "路", "街", "巷", "弄")
_SHORT_WEIGHT = 0.95  # "新埭" for 新埭镇: exact but abbreviated

# Noise that explains address text without naming anything: house numbers and positions.
_NOISE = re.compile(
    r"\d+[a-z]?(?:号楼|号|幢|栋|单元|室|楼|层|弄|组|户|座|米|-\d+)?"
    r"|附近|旁边|对面|门口|路口|交叉口|东侧|西侧|南侧|北侧|边上|这里|那里|一带|[东南西北]面"
)

_OTHER_PROVINCE = re.compile(r"^[\u4e00-\u9fff]{2,7}?(?:省|自治区|特别行政区)")
_OTHER_CITIES = (
    "北京",
    "上海",
    "天津",
    "重庆",
    "香港",
    "澳门",
    "台湾",
    "杭州",
    "宁波",
    "温州",
    "绍兴",
    "湖州",
    "金华",
    "衢州",
    "舟山",
    "台州",
    "丽水",
    "苏州",
    "南京",
)
_OTHER_JIAXING = ("南湖", "秀洲", "海宁", "桐乡", "嘉善", "海盐")


def normalize_address(text: str) -> str:
    """NFKC (full-width digits → ASCII), lower case, no whitespace or punctuation."""
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in text if ch.isalnum())


def _strip_region(text: str) -> str | None:
    """Drop 中国/浙江省/嘉兴市; None if the address names another region."""
    for prefix in ("中国",):
        text = text.removeprefix(prefix)
    if text.startswith("浙江"):
        text = text.removeprefix("浙江").removeprefix("省")
    elif _OTHER_PROVINCE.match(text) or text.startswith(_OTHER_CITIES):
        return None
    if text.startswith(_OTHER_CITIES[7:]):  # another city of Zhejiang
        return None
    if text.startswith("嘉兴"):
        text = text.removeprefix("嘉兴").removeprefix("市")
    if text.startswith(_OTHER_JIAXING):  # another district/county of Jiaxing
        return None
    return text


@dataclass(frozen=True, slots=True)
class GazetteerMatch:
    """The best reading of an address.

    ``code`` is the place the address resolves to: for a village/town/city match that place,
    for a road or landmark the lowest-level place containing ``point``. ``name`` is the
    canonical name of what matched ("胜利路", "东湖公园", "当湖街道"), ``kind`` is "place",
    "road" or "landmark", ``point`` is (lat, lng) WGS-84 (a place's centre, a landmark, or a
    point on the road near the middle of the relevant stretch). ``matched_text`` is the part
    of the normalised address that matched.
    """

    code: str
    name: str
    kind: str
    score: float
    point: tuple[float, float] | None
    town_code: str | None
    matched_text: str


@dataclass(frozen=True, slots=True)
class _Entry:
    index: int
    kind: str  # "place" | "road" | "landmark"
    name: str
    level: int
    place_kind: str | None  # for places: city/town/street/village/community
    code: str | None  # places: own code; landmarks: their place; roads: None
    town_code: str | None
    point: tuple[float, float]  # (lat, lng)
    geom: Any  # places: polygon; roads: line; landmarks: point


@dataclass(frozen=True, slots=True)
class _Alias:
    text: str
    entry: _Entry
    weight: float
    suffix: str  # type suffix the alias ends with ("" if none)


@dataclass(slots=True)
class _Candidate:
    entry: _Entry
    score: float
    start: int
    end: int
    exact: bool


def _typed_suffix(name: str) -> str:
    for suffix in _TYPED_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return suffix
    return ""


class Gazetteer:
    """Matches free-text addresses against one city's names. Immutable once built."""

    def __init__(
        self,
        entries: list[_Entry],
        aliases: list[_Alias],
        locator: PlaceLocator,
        places: dict[str, dict[str, Any]],
    ) -> None:
        self._entries = entries
        self._aliases = sorted(aliases, key=lambda a: (-len(a.text), a.entry.index))
        self._fuzzy = [a for a in self._aliases if len(a.text) >= 3]
        self._fuzzy_texts = [a.text for a in self._fuzzy]
        self._locator = locator
        self._places = places

    # -- building -------------------------------------------------------------------------

    @classmethod
    def from_city(cls, data: dict[str, Any], locator: PlaceLocator | None = None) -> Gazetteer:
        """Build from a city dict as in ``demo_city.json`` (places, roads, landmarks)."""
        places = {p["code"]: p for p in data["places"]}
        locator = locator or PlaceLocator.from_geojson(data["places"])
        entries: list[_Entry] = []
        aliases: list[_Alias] = []
        taken: set[str] = set()

        def town_of(code: str | None) -> str | None:
            node = places.get(code) if code else None
            while node is not None and node["kind"] not in TOWN_KINDS:
                node = places.get(node.get("parent") or "")
            return node["code"] if node else None

        def add_alias(text: str, entry: _Entry, weight: float) -> None:
            text = normalize_address(text)
            if len(text) >= 2:
                aliases.append(_Alias(text, entry, weight, _typed_suffix(text)))

        # Places, coarse to fine, so that a short name shared by a town and its seat
        # community ("钟溪") stays with the town.
        for p in sorted(data["places"], key=lambda p: _LEVEL.get(p["kind"], 9)):
            if not p.get("boundary"):
                continue
            lat, lng = p["center"]
            entry = _Entry(
                len(entries),
                "place",
                p["name"],
                _LEVEL.get(p["kind"], 2),
                p["kind"],
                p["code"],
                town_of(p["code"]),
                (lat, lng),
                shape(p["boundary"]),
            )
            entries.append(entry)
            add_alias(p["name"], entry, 1.0)
            taken.add(normalize_address(p["name"]))
            for suffix in _PLACE_SUFFIXES:
                short = p["name"].removesuffix(suffix)
                if short != p["name"] and len(short) >= 2 and short not in taken:
                    add_alias(short, entry, _SHORT_WEIGHT)
                    taken.add(short)
                    break
        for road in data.get("roads", []):
            line = shape(road["geometry"])
            mid = line.interpolate(0.5, normalized=True)
            entry = _Entry(
                len(entries), "road", road["name"], _LEVEL["road"], None, None, None, (mid.y, mid.x), line
            )
            entries.append(entry)
            add_alias(road["name"], entry, 1.0)
        for lm in data.get("landmarks", []):
            lng, lat = lm["geometry"]["coordinates"]
            entry = _Entry(
                len(entries),
                "landmark",
                lm["name"],
                _LEVEL["landmark"],
                None,
                lm.get("place"),
                town_of(lm.get("place")),
                (lat, lng),
                Point(lng, lat),
            )
            entries.append(entry)
            for name in [lm["name"], *lm.get("aliases", [])]:
                add_alias(name, entry, 1.0)
        return cls(entries, aliases, locator, places)

    @classmethod
    def demo(cls) -> Gazetteer:
        """The gazetteer of the bundled demo city."""
        return cls.from_city(load_demo_city())

    # -- matching -------------------------------------------------------------------------

    def match(self, address: str, min_score: float = MIN_SCORE) -> GazetteerMatch | None:
        """The best reading of ``address``, or None if nothing scores ``min_score``."""
        found = self.match_all(address, limit=1, min_score=min_score)
        return found[0] if found else None

    def match_all(self, address: str, limit: int = 5, min_score: float = MIN_SCORE) -> list[GazetteerMatch]:
        """Up to ``limit`` readings, best first (for "did you mean" lists)."""
        text = _strip_region(normalize_address(address or ""))
        if not text:
            return []
        cands = self._exact(text)
        if self._unexplained(text, cands) >= 2:
            cands += self._fuzzy_candidates(text, cands)
        cands = self._prune(cands)
        readings = []
        for c in cands:
            reading = self._interpret(c, cands, text)
            if reading is not None and reading[0].score >= min_score:
                readings.append(reading)
        # A place named only as context of a more specific reading ("当湖街道" in
        # "当湖街道胜力路") is absorbed by it: the road says all the town says, and more.
        # The city is context of everything.
        absorbed = {o.index for _m, key, consistent in readings for o in consistent if -key[1] > o.level}
        if any(-key[1] > _LEVEL["city"] for _m, key, _c in readings):
            absorbed |= {e.index for e in self._entries if e.place_kind == "city"}
        ranked = sorted((r for r in readings if r[1][3] not in absorbed), key=lambda r: r[1])
        out: list[GazetteerMatch] = []
        seen: set[tuple[str, str, str]] = set()
        for m, _key, _consistent in ranked:
            if (m.kind, m.name, m.code) in seen:
                continue
            seen.add((m.kind, m.name, m.code))
            out.append(m)
            if len(out) >= limit:
                break
        return out

    def _exact(self, text: str) -> list[_Candidate]:
        cands = []
        for alias in self._aliases:
            start = text.find(alias.text)
            while start >= 0:
                cands.append(
                    _Candidate(alias.entry, 100.0 * alias.weight, start, start + len(alias.text), True)
                )
                start = text.find(alias.text, start + 1)
        return cands

    @staticmethod
    def _unexplained(text: str, cands: Iterable[_Candidate]) -> int:
        """How many Chinese characters no exact candidate or noise pattern explains."""
        chars = list(text)
        for c in cands:
            chars[c.start : c.end] = " " * (c.end - c.start)
        rest = _NOISE.sub(" ", "".join(chars))
        return sum(1 for ch in rest if "\u4e00" <= ch <= "\u9fff")

    def _fuzzy_candidates(self, text: str, exact: list[_Candidate]) -> list[_Candidate]:
        matched = {c.entry.index for c in exact}
        covered = [False] * len(text)
        for c in exact:
            covered[c.start : c.end] = [True] * (c.end - c.start)
        shortlist = process.extract(
            text, self._fuzzy_texts, scorer=fuzz.partial_ratio, score_cutoff=50, limit=24
        )
        out = []
        for _text, _score, i in shortlist:
            alias = self._fuzzy[i]
            if alias.entry.index in matched:
                continue
            best = _fuzzy_window(alias, text)
            if best is None:
                continue
            score, start, end, edits = best
            # The match must rest on text no exact name explains: at least one of its own
            # characters right. Otherwise "当湖街道胜…" would read as a typo of 当湖街道办,
            # all of its evidence borrowed from the town's name.
            own = sum(1 for k in range(start, end) if not covered[k])
            if own - edits < 1:
                continue
            out.append(_Candidate(alias.entry, score * alias.weight, start, end, False))
        return out

    @staticmethod
    def _prune(cands: list[_Candidate]) -> list[_Candidate]:
        """Drop names inside longer matches, fuzzy matches straddling exact ones, and
        keep one candidate per entry."""
        kept = []
        for a in cands:
            drop = False
            for b in cands:
                if b is a:
                    continue
                contains = b.start <= a.start and a.end <= b.end and (b.end - b.start) > (a.end - a.start)
                if contains:
                    drop = True
                    break
                overlaps = a.start < b.end and b.start < a.end
                if overlaps and not a.exact and b.exact and not (a.start <= b.start and b.end <= a.end):
                    drop = True
                    break
            if not drop:
                kept.append(a)
        best: dict[int, _Candidate] = {}
        for c in kept:
            if c.entry.index not in best or c.score > best[c.entry.index].score:
                best[c.entry.index] = c
        return list(best.values())

    def _relation(self, c: _Entry, ctx: _Entry) -> int:
        """+1 consistent, -1 inconsistent, 0 no opinion, for candidate ``c`` given a place
        ``ctx`` named elsewhere in the address."""
        if ctx.place_kind in TOWN_KINDS:
            if c.kind == "road":
                return 1 if c.geom.intersects(ctx.geom) else -1
            if c.kind == "landmark" or c.place_kind in GRASSROOTS_KINDS:
                return 1 if c.town_code == ctx.code else -1
            return 0
        if ctx.place_kind in GRASSROOTS_KINDS:
            if c.kind == "road":
                return 1 if c.geom.intersects(ctx.geom) else -1
            if c.kind == "landmark":
                return 1 if c.code == ctx.code else -1
            if c.place_kind in TOWN_KINDS:
                return 1 if ctx.town_code == c.code else -1
        return 0

    def _interpret(
        self, c: _Candidate, cands: list[_Candidate], text: str
    ) -> tuple[GazetteerMatch, tuple[float, int, int, int], list[_Entry]] | None:
        """One reading: the match, its sort key, and the context places it agrees with."""
        e = c.entry
        score = c.score
        consistent: list[_Entry] = []
        finer: dict[tuple[int, int], list[int]] = {}
        for other in cands:
            o = other.entry
            if o is e or other.score < 90:
                continue  # only confident names count as evidence
            if other.start < c.end and c.start < other.end:
                continue  # overlapping text cannot be both
            if o.kind == "place" and o.level < e.level:
                rel = self._relation(e, o)
                if rel > 0:
                    score += 5
                    consistent.append(o)
                elif rel < 0:
                    # Contradicted by a coarser place. Road and village names repeat and
                    # are misremembered, so the reading sinks; a landmark's name is
                    # unique and usually right even when its town is not.
                    score -= 10 if e.kind == "landmark" else 30
            elif e.kind == "place" and o.level > e.level:
                finer.setdefault((other.start, other.end), []).append(self._relation(o, e))
        # A place contradicted by a finer name (every entry of that name lies elsewhere) is
        # dented but usually still wins over a road or village: its dispatcher sees the text.
        if any(rels and all(r < 0 for r in rels) for rels in finer.values()):
            score -= 10
        score = max(0.0, min(100.0, score))

        if e.kind == "place":
            code, town_code, point = e.code, e.town_code, e.point
        else:
            point = e.point
            if e.kind == "road" and consistent:
                point = _point_on(e.geom, max(consistent, key=lambda o: o.level).geom) or point
            if e.kind == "landmark" and e.code:
                code, town_code = e.code, e.town_code
            else:
                found = self._locator.locate(*point)
                if found is None:
                    return None
                code, town_code = found.code, found.town_code
        assert code is not None
        match = GazetteerMatch(
            code=code,
            name=e.name,
            kind=e.kind,
            score=round(score, 1),
            point=point,
            town_code=town_code,
            matched_text=text[c.start : c.end],
        )
        key = (-match.score, -e.level, -(c.end - c.start), e.index)
        return match, key, consistent


def _point_on(line: Any, area: Any) -> tuple[float, float] | None:
    """The middle of the longest stretch of ``line`` inside ``area``, as (lat, lng)."""
    part = line.intersection(area)
    pieces = [g for g in getattr(part, "geoms", [part]) if g.geom_type == "LineString"]
    pieces = [g for g in pieces if g.length > 0]
    if not pieces:
        return None
    mid = max(pieces, key=lambda g: g.length).interpolate(0.5, normalized=True)
    return (mid.y, mid.x)


def _fuzzy_window(alias: _Alias, text: str) -> tuple[float, int, int, int] | None:
    """Best Levenshtein match of ``alias`` over windows of ``text`` of about its length,
    as (score, start, end, edits).

    Typed names (ending in 路, 村, 镇…) must keep their suffix in the text, and may differ
    in the stem by one edit (two for names of eight characters or more): that is what a
    typo looks like, while "当湖街" is not a typo of 当湖路. Untyped names (landmarks) need
    four characters or more for the same reason.
    """
    n = len(alias.text)
    max_edits = 1 if n < 8 else 2
    if not alias.suffix and n < 4:
        return None
    starts: Iterable[int]
    if alias.suffix:
        ends = []
        pos = text.find(alias.suffix)
        while pos >= 0:
            ends.append(pos + len(alias.suffix))
            pos = text.find(alias.suffix, pos + 1)
        # A shortened window only for names of four characters or more: "利路" is not
        # evidence of 胜利路, "东湖道" is of 东湖大道.
        lengths = (n - 1, n, n + 1) if n >= 4 else (n, n + 1)
        windows = [
            (end - w, end) for end in ends for w in lengths if w >= len(alias.suffix) + 1 and end - w >= 0
        ]
    else:
        hint = fuzz.partial_ratio_alignment(alias.text, text)
        if hint is None:
            return None
        starts = range(max(0, hint.dest_start - 1), min(len(text), hint.dest_start + 2))
        windows = [(s, s + w) for s in starts for w in (n - 1, n, n + 1) if s + w <= len(text)]
    best: tuple[float, int, int, int] | None = None
    best_rank: tuple[float, int, int] = (0.0, 0, 0)
    for start, end in windows:
        window = text[start:end]
        edits = Levenshtein.distance(alias.text, window, score_cutoff=max_edits)
        if edits > max_edits:
            continue
        score = 100.0 * (1.0 - edits / max(n, len(window)))
        # On equal scores prefer the window of the alias's own length (a substitution
        # reads more naturally than a deletion), then the longer one.
        rank = (score, -abs(len(window) - n), len(window))
        if best is None or rank > best_rank:
            best, best_rank = (score, start, end, edits), rank
    return best
