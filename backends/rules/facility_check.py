"""Does a hotel offer what the user asks for (有没有健身房 / 有wifi吗 / 能停车吗)? Decided from its record.

The user's phrase is mapped to the database's facility names with the store's own facility map (learned from the
training searches, `agent.core.facilities`), so the answer agrees with what a search would find; a phrase the map
does not know is matched by its core noun (免费wifi → …提供wifi) and then by character similarity."""

from __future__ import annotations

import functools
import re
from typing import Any

from agent.core.datafiles import HOTEL_DB, TRAIN, cache_dir, data_path
from agent.core.errors import DataMissingError
from agent.core.facilities import FacilityMap, canonical, load_facility_map, similarity
from agent.core.store import read_source

# Words around a facility that do not change which one it is (免费wifi is wifi; 24小时热水 stays itself).
_MODIFIERS = re.compile(r"^(?:免费的?|收费的?|付费的?|提供|有|带)|(?:服务|设施|设备)$")
_CLOSE_ENOUGH = 0.5
# Facilities the database splits by where or how they are offered: asked whether a hotel has wifi (部分房间有无线网,
# 免费wifi) or breakfast, any of its kind answers yes — and the answer names the one the hotel has.
_FAMILIES = ("wifi", "早餐")


@functools.lru_cache(maxsize=1)
def facility_map() -> FacilityMap:
    """The map the hotel store searches with (cached in the same file, keyed the same way)."""
    records = read_source(data_path(HOTEL_DB))
    try:
        train = data_path(TRAIN)
    except DataMissingError:
        train = None
    return load_facility_map([frozenset(r["facilities"]) for r in records], train, cache_dir())


def offered(record: dict[str, Any], phrase: str, facilities: FacilityMap | None = None) -> str | None:
    """The record's facility that `phrase` asks for, or None when the record has none of it."""
    have = [str(f) for f in record.get("facilities") or []]
    facilities = facilities or facility_map()
    mapped = set(facilities.map(phrase))
    # 房间里有吹风机 holds the database's 吹风机: that is what is asked.
    mapped |= {f for f in facilities.facilities if len(canonical(f)) >= 2 and canonical(f) in canonical(phrase)}
    for family in _FAMILIES:
        if family in canonical(phrase) or any(family in canonical(f) for f in mapped):
            mapped |= {f for f in facilities.facilities if family in canonical(f)}
    for name in have:
        if name in mapped:
            return name
    core = canonical(_MODIFIERS.sub("", phrase.strip()))
    if len(core) >= 2:
        for name in have:
            if core in canonical(name):
                return name
    if mapped:
        return None  # the map knows what the phrase means, and the record has none of it
    best = max(((similarity(phrase, name), name) for name in have), default=(0.0, None))
    return best[1] if best[0] >= _CLOSE_ENOUGH else None


_TOGETHER = re.compile(r"哪|谁|这些|这几|这两|这三|都|它们|他们")


def _named(phrase: str) -> str:
    """How to name what was asked in a no: the database's name inside the phrase (房间里有吹风机 → 吹风机), else the
    phrase without a leading 有 / 提供."""
    inside = [f for f in facility_map().facilities if len(canonical(f)) >= 2 and canonical(f) in canonical(phrase)]
    if inside:
        return max(inside, key=len)
    return _MODIFIERS.sub("", phrase.strip()) or phrase


def _joined(items: list[str]) -> str:
    return items[0] if len(items) == 1 else "、".join(items[:-1]) + "和" + items[-1]


def _offers(facilities: list[str]) -> str:
    """提供早餐服务和会议室 / 公共区域和部分房间提供wifi: the database's names that say where they are offered
    (…提供wifi) read as they are."""
    plain = [f for f in facilities if "提供" not in f]
    located = [f.removeprefix("酒店") for f in facilities if "提供" in f]  # 这家酒店各处提供wifi, not 酒店酒店
    return "，".join((["提供" + _joined(plain)] if plain else []) + located)


def facility_answer(
    phrases: list[str],
    records: list[dict[str, Any]],
    user: str,
    *,
    subject: str = "这家酒店",
    together: bool | None = None,
) -> str | None:
    """Answer 有没有X(和Y) about one hotel (`records[0]`, called `subject`) or, when the question is about them
    together (哪家有X / 这两家都有X吗, or `together`), about each of `records` — from their own facility lists,
    never from the question. None without records or phrases."""
    if not records or not phrases:
        return None
    if together is None:
        together = bool(_TOGETHER.search(user))
    if len(records) == 1 or not together:
        found = [(phrase, offered(records[0], phrase)) for phrase in phrases]
        yes = list(dict.fromkeys(f for _, f in found if f))
        no = [phrase for phrase, f in found if not f]
        if not no:
            return f"是的，{subject}{_offers(yes)}。"
        if not yes:
            return f"抱歉，{subject}没有{_joined([_named(p) for p in no])}。"
        return f"{subject}{_offers(yes)}，但没有{_joined([_named(p) for p in no])}。"
    return "；".join(dict.fromkeys(_each(phrase, records) for phrase in phrases)) + "。"


def _each(phrase: str, records: list[dict[str, Any]]) -> str:
    """Which of the records offer `phrase`: 甲、乙都提供早餐服务 / 甲提供早餐服务，乙没有早餐."""
    by_facility: dict[str, list[str]] = {}
    lacking = []
    for record in records:
        found = offered(record, phrase)
        if found:
            by_facility.setdefault(found, []).append(str(record["name"]))
        else:
            lacking.append(str(record["name"]))
    if not by_facility:
        return f"抱歉，这几家酒店都没有{_named(phrase)}"
    parts = ["、".join(names) + ("都" if len(names) > 1 else "") + _offers([f]) for f, names in by_facility.items()]
    if lacking:
        parts.append("、".join(lacking) + f"没有{_named(phrase)}")
    return "，".join(parts)
