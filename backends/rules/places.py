"""Hotels near a place, as users ask for them: the rules backend's recogniser and its reply.

`find_near(text)` finds a request for hotels near a place in one message, or None. A place is whatever
`agent.core.places` resolves (attractions, restaurants, hotels, subway stations; full, short and colloquial
names), but only where the message says "near" around it, so that a hotel or restaurant named in passing (我决定入住
7天优品酒店(北京国贸劲松地铁站店)) never turns into a near search:

* a place before a near word: 故宫附近 / 三里屯一带 / 西直门地铁站周边的 / 那国贸那边呢;
* a place after 离…近 / 靠近 / 挨着: 离故宫近一点的酒店, 靠近西直门地铁站的经济型酒店;
* a near word with no place before it refers back to the last place the message named:
  故宫的门票多少？周边有哪些酒店？;
* an attraction or station one stays at or visits, in a message about hotels: 想住在国贸, 去故宫玩，帮我订个酒店
  (a hotel there is a name: 我要住在万寿庄宾馆).

A near word that asks for something else than hotels (北京西单饭店附近有什么地铁站吗, 故宫附近有什么好吃的) is no
request for hotels. The clauses of the message that ask something else (故宫的门票多少) are kept, so the reply can
say that is beyond what the agent knows.

`near_reply(dialogue)` words the answer to a search with `near` that just returned: it names the place, the
hotels and, plainly, when none is near or the place is unknown."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agent.core.hotel_names import normalize_name
from agent.core.places import GENERIC_WORDS, Place, PlaceIndex, clean_query, place_index
from agent.core.turns import Dialogue, ReturnTurn, SearchTurn

MAX_PLACE_CHARS = 48  # the longest name in the databases has 45 characters
# The near words after a place (故宫附近) and before one (离故宫近, 靠近故宫).
NEAR_AFTER = re.compile(r"附近|周边|周围|旁边|边上|一带|那一带|那边|那块|跟前|不远处")
_CLAUSE = r"[^，,。？?！!；;\n]"
NEAR_BEFORE = re.compile(
    rf"(?:离|距离)(?P<before>{_CLAUSE}{{1,{MAX_PLACE_CHARS}}}?)(?:很|比较|最|更|挺|较|还|要)?(?:近|不远)"
    rf"|(?:靠近|紧挨着|紧挨|挨着|临近|紧邻|毗邻)(?P<after>{_CLAUSE}{{1,{MAX_PLACE_CHARS}}})"
)
# Staying at or visiting a sight or a station means near it (a hotel there is a name: 我要住在万寿庄宾馆).
STAY_OR_VISIT = re.compile(rf"(?:住在|去|逛|游览|参观)(?P<place>{_CLAUSE}{{2,{MAX_PLACE_CHARS}}})")
# What a near word may ask for instead of hotels (附近有什么地铁站 / 好吃的), and words that do ask for hotels.
NOT_HOTELS = re.compile(r"景点|景区|餐馆|餐厅|饭馆|吃的|好吃|美食|小吃|玩的|好玩|地铁|公交|商场|超市|医院|银行|停车场")
HOTEL_WORDS = re.compile(r"酒店|宾馆|旅馆|民宿|客栈|公寓|住|房间|经济型|舒适型|高档型|豪华型")
# A clause that asks something (for the other questions of a message) about the place or what hotels are not.
_ASKS = re.compile(r"[吗么呢？?]|多少|几点|几[个天钟]|怎么|什么|哪|如何|是否|有没有")
OFF_TOPIC = re.compile(
    r"门票|票价|开放|营业|几点|怎么走|怎么去|坐几路|交通|好玩|好吃|推荐菜|人均|天气|历史|排队|预约|多大|多远|值得"
)
_CLAUSES = re.compile(r"[^，,。？?！!；;\n]+[，,。？?！!；;\n]*")
# Words that end a hotel's name: a bare part of a name ending so (家酒店 of 如家酒店) names no place.
_HOTEL_TAIL = re.compile(r"(?:酒店|宾馆|饭店|旅馆|公寓|客栈|民宿|大厦)$")
_DEMONSTRATIVE = re.compile(r"^[这那哪该此本贵]")
_LOOSE_END = re.compile(r"^[\s，,。？?！!；;：:、]|[\s，,。？?！!；;：:、]$")
# Place names that are everyday words in a hotel request (a restaurant is called 酒吧, hotels have one): named
# right before a near word they are the place (酒吧附近), but never referred back to (有酒吧的酒店，附近…).
COMMON_WORDS = frozenset({"酒吧"})


@dataclass(frozen=True)
class NearRequest:
    query: str  # the place as the `near` argument will carry it (the user's words when they resolve to it)
    place: Place
    start: int  # where the place's words are in the message
    end: int
    rest: str  # the message with the place, its near words and the other questions blanked (for other slots)
    other_questions: tuple[str, ...] = ()  # clauses asking something the agent cannot answer (故宫的门票多少)


def find_near(text: str, index: PlaceIndex | None = None) -> NearRequest | None:
    """The request for hotels near a place in `text` (rules in the module docstring), or None."""
    if not (NEAR_AFTER.search(text) or NEAR_BEFORE.search(text) or STAY_OR_VISIT.search(text)):
        return None  # no near word: no need to load the places (~0.3 s, once per process)
    index = index or place_index()
    for found in (_before_near_word, _after_near_word, _stay_or_visit):
        hit = found(text, index)
        if hit is not None:
            return _request(text, index, *hit)
    return None


def _before_near_word(text: str, index: PlaceIndex) -> tuple[Place, int, int, int, int] | None:
    """(place, start, end, cue start, cue end) of 故宫附近, or of 周边 referring back to a place named earlier."""
    for cue in NEAR_AFTER.finditer(text):
        if _asks_for_other_than_hotels(text, cue.end()):
            continue
        clause_start = max(text.rfind(c, 0, cue.start()) for c in "，,。？?！!；;\n") + 1
        hit = _place_ending_at(text, index, max(clause_start, cue.start() - MAX_PLACE_CHARS), cue.start())
        if hit is None:
            hit = _last_place_before(text, index, clause_start)
        if hit is not None:
            return (*hit, cue.start(), cue.end())
    return None


def _after_near_word(text: str, index: PlaceIndex) -> tuple[Place, int, int, int, int] | None:
    for cue in NEAR_BEFORE.finditer(text):
        group = "before" if cue.group("before") else "after"
        if _asks_for_other_than_hotels(text, cue.end()):
            continue
        hit = _place_starting_at(text, index, cue.start(group), cue.end(group))
        if hit is not None:
            # 离故宫近: the near words hold the place; 靠近故宫的经济型酒店: they end where the place starts
            return (*hit, cue.start(), cue.end() if group == "before" else cue.start(group))
    return None


def _stay_or_visit(text: str, index: PlaceIndex) -> tuple[Place, int, int, int, int] | None:
    if not HOTEL_WORDS.search(text):
        return None  # 去故宫玩 alone asks for no hotel
    for cue in STAY_OR_VISIT.finditer(text):
        hit = _place_starting_at(text, index, cue.start("place"), cue.end("place"))
        if hit is not None and hit[0].kind in ("attraction", "station"):
            return (*hit, cue.start(), cue.start("place"))
    return None


def _asks_for_other_than_hotels(text: str, after: int) -> bool:
    """附近有什么好吃的 / 附近有地铁站吗: the words after the near word, to the clause's end, ask for no hotel."""
    clause = re.match(_CLAUSE + "*", text[after:])
    words = clause.group(0) if clause else ""
    return bool(NOT_HOTELS.search(words)) and not HOTEL_WORDS.search(words)


def _says_more(span: str) -> bool:
    """故宫的 / 颐和园， / 三里屯附近 are 故宫 / 颐和园 / 三里屯 with more: the shorter span is the name."""
    return clean_query(span) != unicodedata.normalize("NFKC", span).strip() or bool(_LOOSE_END.search(span))


def _trusted(span: str, index: PlaceIndex) -> Place | None:
    """The place `span` names when a recogniser may believe it (no generic or everyday word, no bare piece of
    a hotel's name, no 这/那 before a part of a name)."""
    if len(span) < 2 or span in GENERIC_WORDS or _says_more(span):
        return None
    resolution = index.resolve(span, loose=False)
    if resolution.place is None:
        return None
    if resolution.rule == "part" and (_HOTEL_TAIL.search(span) or _DEMONSTRATIVE.search(span)):
        return None
    return resolution.place


def _place_ending_at(text: str, index: PlaceIndex, floor: int, end: int) -> tuple[Place, int, int] | None:
    """The longest span ending at `end` (starting at `floor` or later) that names a place."""
    for start in range(floor, end - 1):
        place = _trusted(text[start:end], index)
        if place is not None:
            return place, start, end
    return None


def _place_starting_at(text: str, index: PlaceIndex, start: int, ceiling: int) -> tuple[Place, int, int] | None:
    """The longest span starting at `start` (ending at `ceiling` or before) that names a place."""
    for end in range(min(ceiling, start + MAX_PLACE_CHARS), start + 1, -1):
        place = _trusted(text[start:end], index)
        if place is not None:
            return place, start, end
    return None


def _last_place_before(text: str, index: PlaceIndex, end: int) -> tuple[Place, int, int] | None:
    """The last place named in full or short form (no part of a name) in text[:end]: the longest name ending
    at each position, scanning from the end."""
    forms = _forms(index)
    for stop in range(end, 1, -1):
        for start in range(max(0, stop - MAX_PLACE_CHARS), stop - 1):
            span = text[start:stop]
            if _says_more(span) or span in GENERIC_WORDS or span in COMMON_WORDS:
                continue
            place = forms.get(normalize_name(span))
            if place is not None:
                return place, start, stop
    return None


@functools.lru_cache(maxsize=2)
def _forms(index: PlaceIndex) -> dict[str, Place]:
    """Full and short names, and stations with their suffixes (什刹海站 is the station, 什刹海 the sight)."""
    forms = index.surface_forms()
    for place in index.places:
        if place.kind == "station":
            for suffix in ("站", "地铁站"):
                forms.setdefault(normalize_name(place.name + suffix), place)
    return forms


def _request(
    text: str, index: PlaceIndex, place: Place, start: int, end: int, cue_start: int, cue_end: int
) -> NearRequest:
    words = text[start:end]
    # The store resolves the argument with every rule; when those would pick another place, name it in full.
    query = words if index.resolve(words).place == place else place.name
    others = [
        (m.start(), m.end())
        for m in _CLAUSES.finditer(text)
        if not (m.start() <= cue_start < m.end())
        and _ASKS.search(m.group(0))
        and (words in m.group(0) or OFF_TOPIC.search(m.group(0)))
        and not HOTEL_WORDS.search(m.group(0))
        and not NEAR_AFTER.search(m.group(0))
    ]
    blank = sorted([(start, end), (cue_start, cue_end), *others])
    rest, position = [], 0
    for a, b in blank:
        if a >= position:
            rest.append(text[position:a] + "，")
            position = b
        else:
            position = max(position, b)
    rest.append(text[position:])
    questions = tuple(re.sub(r"[，,。？?！!；;\s]+$", "", text[a:b]) for a, b in others)
    return NearRequest(query, place, start, end, "".join(rest), questions)


def without_replaced_place(previous: dict[str, Any] | None, mentioned: dict[str, Any]) -> dict[str, Any] | None:
    """The dialogue state before a message that names a hotel or a new place: a hotel's name and a place to be
    near are both where to stay, so a new one of either replaces the other (汉庭, then 那故宫附近呢)."""
    if previous is None:
        return None
    replaced = {"near"} if "name" in mentioned else {"name"} if "near" in mentioned else set()
    return {k: v for k, v in previous.items() if k not in replaced}


# ---- the reply ------------------------------------------------------------------------------------------------


def near_reply(dialogue: Dialogue, unmet: Callable[[dict[str, Any], dict[str, Any]], list[str]]) -> str | None:
    """The reply to a search with `near` that has just returned, or None when the dialogue is not there.
    `unmet(record, arguments)` lists the constraints a record surely misses (backends.rules.nlg.unmet)."""
    turns = dialogue.turns
    if len(turns) < 2 or not isinstance(turns[-1], ReturnTurn) or not isinstance(turns[-2], SearchTurn):
        return None
    arguments = turns[-2].arguments
    if not isinstance(arguments.get("near"), str):
        return None
    records = turns[-1].records[:3]
    user = dialogue.last_user_text()
    request = find_near(user)
    aside = _aside(request.other_questions) if request else ""
    index = place_index()
    resolution, hotels = index.near(arguments["near"])
    if resolution.place is None:
        return f"抱歉，我不知道“{arguments['near']}”是哪里，您可以换成景点、餐馆、酒店或地铁站的名称再试试。" + aside
    label = resolution.place.label
    if not hotels:
        return f"抱歉，数据库里没有{label}附近的酒店，您可以换一个地点试试。" + aside
    if not records:
        return f"抱歉，{label}附近没有找到符合您要求的酒店。" + aside
    names = "、".join(str(r.get("name")) for r in records)
    # "符合您要求" only where every constraint can be checked on the records: the user's facility words cannot,
    # and a relaxed facility must not be claimed met.
    constrained = any(k != "near" for k in arguments) and "facilities" not in arguments
    missed = {key for r in records for key in unmet(r, arguments)}
    if missed == {"type"}:
        return f"抱歉，{label}附近没有{arguments['type']}酒店，附近的有{names}。" + aside
    if missed:
        return f"抱歉，{label}附近没有完全符合您要求的酒店，附近的有{names}。" + aside
    return f"{label}附近{'符合您要求' if constrained else ''}的酒店有{names}。" + aside


def _aside(questions: tuple[str, ...]) -> str:
    if not questions:
        return ""
    return f"至于“{'；'.join(questions)}”，我回答不了，我只能帮您查找和预订北京的酒店。"
