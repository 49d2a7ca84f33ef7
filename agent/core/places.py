"""The places around the hotels, and which hotels are near each: what `search_hotels`' `near` argument means.

A place is an attraction (`attraction_db.json`), a restaurant (`restaurant_db.json`), a hotel (`hotel_db.json`)
or a subway station: the station part of a place's subway exit in `metro_db.json` (灯市口 of 灯市口地铁站A口);
244 stations, each with at least one hotel. Which hotels are near a place is what CrossWOZ itself records, nothing computed:

* an attraction or a restaurant: the hotels it lists in 周边酒店, plus those listing it in their 周边景点 /
  周边餐馆 (the same relation seen from the other side; in this data the two agree exactly) — "listed";
* a subway station: the hotels whose subway exit is at that station — "station";
* a hotel: the hotels listed as nearby (CrossWOZ's hotels list none) and those at its own station — a hotel's
  neighbours in this data are only ever the ones it shares a station with.

Why attractions and restaurants do not also get the hotels at their station: 65% of their listed hotels are at
another station (the list is CrossWOZ's proximity, the subway exit is only one fact about it), and every place
that lists no hotel also has no subway exit, so the station would only add less-near hotels to places that
already have near ones.

`PlaceIndex.resolve` turns what a user or a model writes into one place, trying rules in order and stopping at
the first that finds something (see `resolve`); `hotels_near` gives the hotels near it, each with its reason.
`place_index()` builds the index once per process and data directory (about 0.1 s)."""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.core import datafiles
from agent.core.errors import DataFormatError
from agent.core.hotel_names import BRACKET_TEXT, main_name, match_names, normalize_name, without_city

ATTRACTION, RESTAURANT, HOTEL, STATION = "attraction", "restaurant", "hotel", "station"
KIND_LABELS = {ATTRACTION: "景点", RESTAURANT: "餐馆", HOTEL: "酒店", STATION: "地铁站"}
# When one rule finds several places, the kind people most often mean by a bare place name comes first: a sight,
# then a station, then a restaurant (chains have many branches), then a hotel.
KIND_RANK = {ATTRACTION: 0, STATION: 1, RESTAURANT: 2, HOTEL: 3}

# Why a hotel counts as near a place (stable codes: the plain chat prints them) and how the UI says it.
LISTED, SAME_STATION = "listed", "station"
REASON_TEXT = {LISTED: "listed as nearby", SAME_STATION: "same subway station"}
REASON_LABELS = {LISTED: "列为周边", SAME_STATION: "同一地铁站"}

# Words around a place name that say "near" rather than name it (故宫附近, 三里屯一带, 国贸那边的).
NEAR_SUFFIX = re.compile(r"(?:附近|周边|周围|旁边|边上|一带|那边|那一带|那块|那儿|这边|地区|区域|的)+$")
# A subway exit after a station name (西直门地铁站A口, 国贸站C2口).
_EXIT = re.compile(r"(?:\d+号线)?[a-z]\d?口$")
_STATION_FIELD = re.compile(r"^(.+?)地铁站")
# A bare generic word names no place (酒店 is in hundreds of names; only an exact name may be this short).
GENERIC_WORDS = frozenset(
    "酒店 大酒店 宾馆 饭店 旅馆 公寓 民宿 客栈 餐厅 餐馆 饭馆 公园 博物馆 景点 景区 广场 大街 地铁 地铁站 车站 "
    "北京 北京市 这里 那里 这家 那家".split()
)
# Colloquial names no rule can derive from the data (the abbreviations every Beijinger uses).
ALIASES = {
    "北大": "北京大学",
    "清华": "清华大学",
    "人大": "中国人民大学",
    "国博": "中国国家博物馆",
    "奥森": "奥林匹克森林公园",
}


@dataclass(frozen=True)
class Place:
    name: str  # as in the database (a station: 西直门, without 地铁站)
    kind: str  # ATTRACTION, RESTAURANT, HOTEL or STATION
    station: str | None = None  # its subway station (None: the data gives none); a station: itself

    @property
    def label(self) -> str:
        """How a reply names it: 故宫, 西直门地铁站 (北京站 stays 北京站)."""
        if self.kind == STATION and not self.name.endswith("站"):
            return self.name + "地铁站"
        return self.name


@dataclass(frozen=True)
class Resolution:
    """What a `near` text refers to: one place, or None when no rule finds one."""

    query: str  # the text as given
    place: Place | None
    alternatives: tuple[Place, ...] = field(default=())  # other places the same rule found (best first)
    rule: str = ""  # which rule found it: name, station, short, part or fuzzy ("" when none did)

    @property
    def known(self) -> bool:
        return self.place is not None


def station_of(subway: str | None) -> str | None:
    """灯市口 of 灯市口地铁站A口; None when the field is empty."""
    if not subway:
        return None
    m = _STATION_FIELD.match(subway)
    return m.group(1) if m else None


def clean_query(text: str) -> str:
    """A `near` text without the words that say "near" (三里屯附近 → 三里屯), NFKC-normalized and stripped."""
    text = unicodedata.normalize("NFKC", text).strip()
    stripped = NEAR_SUFFIX.sub("", text).strip()
    return stripped or text


class PlaceIndex:
    """Every place of the CrossWOZ databases, the hotels near each, and name resolution."""

    def __init__(
        self,
        hotels: Sequence[tuple[str, Mapping[str, Any]]],
        attractions: Sequence[tuple[str, Mapping[str, Any]]],
        restaurants: Sequence[tuple[str, Mapping[str, Any]]],
        metro: Sequence[tuple[str, Mapping[str, Any]]] = (),
    ) -> None:
        """`metro` (metro_db.json) gives each place's subway exit; a place it lacks keeps its own 地铁 field
        (in CrossWOZ the two always agree)."""
        exits = {name: record.get("地铁") for name, record in metro}
        self.hotel_ids = {name: i for i, (name, _) in enumerate(hotels)}
        self.places: list[Place] = []
        listed: dict[tuple[str, str], set[int]] = {}
        for kind, entries in ((ATTRACTION, attractions), (RESTAURANT, restaurants), (HOTEL, hotels)):
            for name, record in entries:
                self.places.append(Place(name, kind, station_of(exits.get(name, record.get("地铁")))))
                listed.setdefault((kind, name), set()).update(self._ids(record.get("周边酒店")))
        # The same relation from the hotels' side: a hotel listing an attraction in 周边景点 is near it.
        for hotel_id, (_, record) in enumerate(hotels):
            for kind, key in ((ATTRACTION, "周边景点"), (RESTAURANT, "周边餐馆"), (HOTEL, "周边酒店")):
                for name in record.get(key) or []:
                    listed.setdefault((kind, name), set()).add(hotel_id)
        self._listed = listed
        self._at_station: dict[str, list[int]] = {}
        for hotel_id, (name, record) in enumerate(hotels):
            station = station_of(exits.get(name, record.get("地铁")))
            if station:
                self._at_station.setdefault(station, []).append(hotel_id)
        stations = dict.fromkeys(p.station for p in self.places if p.station)
        self.places.extend(Place(s, STATION, s) for s in stations)
        self._order = {p: i for i, p in enumerate(self.places)}
        self._build_keys()

    def _ids(self, names: Iterable[str] | None) -> set[int]:
        return {self.hotel_ids[n] for n in names or () if n in self.hotel_ids}

    def _build_keys(self) -> None:
        """Lookup tables of normalized names: full names; stations; the short forms (rule 3)."""
        self._exact: dict[str, list[Place]] = {}
        self._stations: dict[str, Place] = {}
        self._short: dict[str, list[Place]] = {}
        self._mains: list[tuple[str, Place]] = []  # (normalized main name, place) for rule 4
        by_name = {p.name: p for p in self.places if p.kind != STATION}
        for place in self.places:
            key = normalize_name(place.name)
            if place.kind == STATION:
                self._stations[key] = place
                self._mains.append((key, place))
                continue
            self._exact.setdefault(key, []).append(place)
            main = normalize_name(main_name(place.name))
            forms = {main, without_city(key, shortest_rest=2), without_city(main, shortest_rest=2)}
            if place.kind == ATTRACTION:  # 鸟巢（国家体育场）: the bracket holds another name, not a branch
                forms.update(normalize_name(t) for t in BRACKET_TEXT.findall(place.name))
            for form in forms - {key}:
                if len(form) >= 2:
                    self._short.setdefault(form, []).append(place)
            self._mains.append((without_city(main, shortest_rest=2), place))
        for alias, name in ALIASES.items():
            if name in by_name:
                self._short.setdefault(normalize_name(alias), []).append(by_name[name])
        # Rule 4 at the start of a name, by the name's first two characters (a recogniser tries many spans).
        self._heads: dict[str, list[tuple[str, Place]]] = {}
        for main, place in self._mains:
            self._heads.setdefault(main[:2], []).append((main, place))
        self._all_names = [p.name for p in self.places if p.kind != STATION]
        self._named = [p for p in self.places if p.kind != STATION]

    # --- nearness --------------------------------------------------------------------------------------

    def hotels_near(self, place: Place) -> dict[int, str]:
        """hotel_id → reason (LISTED or SAME_STATION) for every hotel near `place`, in hotel_id order; a
        hotel is never near itself."""
        reasons: dict[int, str] = {}
        if place.kind != STATION:
            for hotel_id in self._listed.get((place.kind, place.name), ()):
                reasons[hotel_id] = LISTED
        if place.kind in (STATION, HOTEL) and place.station:
            for hotel_id in self._at_station.get(place.station, ()):
                reasons.setdefault(hotel_id, SAME_STATION)
        if place.kind == HOTEL:
            reasons.pop(self.hotel_ids.get(place.name, -1), None)
        return dict(sorted(reasons.items()))

    def _support(self, place: Place) -> tuple[int, int, int]:
        """Sort key of the best-supported place first: kind, more hotels near, database order (CrossWOZ lists
        the best-known places first: 故宫, 颐和园, 八达岭长城...)."""
        return (KIND_RANK[place.kind], -len(self.hotels_near(place)), self._order[place])

    # --- resolution ------------------------------------------------------------------------------------

    def resolve(self, text: str, *, loose: bool = True) -> Resolution:
        """The place `text` names. Rules, in order (the first that finds something wins; with several finds
        the best-supported comes first, the others are `alternatives`):

        1. a full name (故宫, 北京贵都大酒店; punctuation, width and a leading 北京 do not matter);
        2. a subway station: 西直门, 西直门站, 西直门地铁站, 西直门地铁站A口;
        3. a short form: the name without its bracket (护国寺小吃店), without 北京 (海洋馆), an attraction's
           other name in brackets (国家体育场 of 鸟巢（国家体育场）), a colloquial alias (北大);
        4. part of a name, outside its bracket (三里屯 → 三里屯酒吧街, 天安门 → 天安门广场), not a generic word;
           with `loose=False` only the start of a name (what a recogniser of running text may trust: 铁站 is in
           many a name but names nothing);
        5. (`loose`) hotel_names.match_names over every name: characters in order, close together.

        Words that say "near" around the name are ignored (三里屯附近, 国贸那边)."""
        query = clean_query(text)
        written = NEAR_SUFFIX.sub("", text.strip()) or text.strip()
        key = normalize_name(query)
        keys = list(dict.fromkeys((key, without_city(key, shortest_rest=2))))
        specific = key not in GENERIC_WORDS and len(without_city(key, shortest_rest=2)) >= 2
        # The text as written before the text without 北京: 北京西单美爵酒店 is that hotel, not the restaurant
        # 西单美爵酒店.
        rules: tuple[tuple[str, Callable[[], list[Place]]], ...] = (
            ("name", lambda: self._rule(keys[:1], self._exact) or self._rule(keys[1:], self._exact)),
            ("station", lambda: self._station(key)),
            ("short", lambda: self._rule(keys[:1], self._short) or self._rule(keys[1:], self._short)),
            ("part", lambda: self._part(keys, anywhere=loose) if specific else []),
        )
        for rule, find in rules:
            found = find()
            if found:
                # the place spelled exactly so first (新石器烤肉(通州北苑店) and （通州北苑店） are two restaurants)
                ranked = sorted(set(found), key=lambda p: (p.name != written, *self._support(p)))
                return Resolution(text, ranked[0], tuple(ranked[1:6]), rule)
        if loose and specific and len(without_city(key, shortest_rest=2)) >= 3:
            matches = [self._named[i] for i in match_names(query, self._all_names)]
            if matches:
                return Resolution(text, matches[0], tuple(matches[1:6]), "fuzzy")
        return Resolution(text, None)

    @staticmethod
    def _rule(keys: Sequence[str], table: Mapping[str, list[Place]]) -> list[Place]:
        return [place for k in keys for place in table.get(k, ())]

    def _station(self, key: str) -> list[Place]:
        base = _EXIT.sub("", key)
        stems = [base[: -len(suffix)] for suffix in ("地铁站", "地铁", "站") if base.endswith(suffix)]
        for candidate in (base, *stems, *(stem + "站" for stem in stems)):
            if candidate in self._stations:
                return [self._stations[candidate]]
        return []

    def _part(self, keys: Sequence[str], anywhere: bool) -> list[Place]:
        if anywhere:
            return [place for main, place in self._mains if any(k in main for k in keys)]
        return [place for k in keys for main, place in self._heads.get(k[:2], ()) if main.startswith(k)]

    def near(self, text: str) -> tuple[Resolution, dict[int, str]]:
        """`resolve(text)` and the hotels near what it found (empty for an unknown place)."""
        resolution = self.resolve(text)
        return resolution, (self.hotels_near(resolution.place) if resolution.place else {})

    def surface_forms(self) -> dict[str, Place]:
        """Every way rules 1–3 name a place exactly (normalized), each with the place `resolve` gives it: what a
        recogniser can look for in running text."""
        forms: dict[str, Place] = {}
        for table in (self._short, self._exact):  # full names last: they win over a short form spelled alike
            for key, places in table.items():
                forms[key] = min(places, key=self._support)
        for key, place in self._stations.items():
            forms.setdefault(key, place)  # a full name spelled like a station stays the named place (苏州街)
        return forms


def _read_pairs(path: Path) -> list[tuple[str, Mapping[str, Any]]]:
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise DataFormatError(f"not valid JSON ({e.msg} at line {e.lineno})", path=str(path)) from None
    if not isinstance(entries, list) or not all(
        isinstance(e, list) and len(e) == 2 and isinstance(e[0], str) and isinstance(e[1], dict) for e in entries
    ):
        raise DataFormatError("expected a JSON list of [name, record] pairs", path=str(path))
    return [(name, record) for name, record in entries]


@functools.lru_cache(maxsize=2)
def _index_for(directory: Path) -> PlaceIndex:
    del directory  # the cache key: a test or a user switching HOTEL_AGENT_DATA gets that directory's places
    return PlaceIndex(
        _read_pairs(datafiles.data_path(datafiles.HOTEL_DB)),
        _read_pairs(datafiles.data_path(datafiles.ATTRACTION_DB)),
        _read_pairs(datafiles.data_path(datafiles.RESTAURANT_DB)),
        _read_pairs(datafiles.data_path(datafiles.METRO_DB)),
    )


def place_index() -> PlaceIndex:
    """The index of the data directory in use, built on first use and kept for the process."""
    return _index_for(datafiles.data_dir().resolve())


def near_reasons(near: str, records: Sequence[Mapping[str, Any]]) -> list[str | None]:
    """For each record, why it is near the place `near` names (LISTED / SAME_STATION), or None when it is not
    (a front end showing saved results, which carry no reasons)."""
    _, hotels = place_index().near(near)
    return [hotels.get(r.get("hotel_id", -1)) for r in records]
