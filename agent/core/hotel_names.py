"""Which hotels a name refers to, given the short names people use.

The course's `name` arguments are what users typed: 瑞洁宾舍民宿 for 北京瑞洁宾舍民宿, 汉庭 for every 汉庭 hotel,
和颐酒店前门店 for 和颐酒店北京前门店, 山西大厦 for 北京山西(金辇)大厦. `match_names` tries, in order, and stops at
the first rule that finds something:

1. the text names a hotel in full (equal, or contains the full name, with or without 北京: 我决定入住万寿宾馆);
2. the text is part of a name (汉庭 → every 汉庭酒店(…));
3. the same with the city prefix 北京 dropped from both sides (和颐酒店前门店 ⊂ 和颐酒店前门店 of 和颐酒店北京前门店);
4. the text's characters appear in order in a name, close together (山西大厦 → 山西(金辇)大厦).

Matches keep database order, except rule 1 (the longest name first) and rule 4 (the tightest match first).

It is also the one home of how a name is taken apart: `main_name` (without the bracketed branch), `branch_of`,
`without_city` and `short_forms` (the shortened names people type, for every backend and index that needs them)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

CITY = "北京"
# Rule 4 accepts a name when the text's characters are spread over at most this many times its length.
MAX_SPREAD = 2.0
_PUNCTUATION = re.compile(r"[\s()（）\[\]【】·・.,，、\-—_/|'\"“”‘’]+")
_BRACKETS = re.compile(r"[(（][^)）]*[)）]")
BRACKET_TEXT = re.compile(r"[(（]([^)）]*)[)）]")
# What a brand is left by (汉庭 of 汉庭酒店, 龙鼎华鼎云 of 北京龙鼎华鼎云酒店), and brands that name no hotel.
_HOTEL_SUFFIX = re.compile(r"(?:大酒店|酒店|饭店|宾馆|公寓|旅馆|旅舍|客栈|大厦|招待所|民宿|连锁|快捷|商务)+$")
_GENERIC = frozenset({"国际", "商务", "假日", "精品", "主题", "青年", "国际大", "北京市"})


def normalize_name(text: str) -> str:
    """Full-width to half-width, lower case, without spaces and punctuation: (北京站店) and （北京站店） agree."""
    return _PUNCTUATION.sub("", unicodedata.normalize("NFKC", text)).lower()


def without_city(text: str, *, anywhere: bool = False, shortest_rest: int = 0) -> str:
    """`text` without the city: its leading 北京 (北京泰山饭店 → 泰山饭店), or with `anywhere` every 北京 in it;
    `text` itself when fewer than `shortest_rest` characters would be left.

    Two uses differ on purpose. Matching a hotel name (`match_names`) compares normalized names, where a branch's
    city sits mid-name (和颐酒店(北京前门店) → 和颐酒店北京前门店): every 北京 goes (anywhere=True). A place name
    keeps a 北京 inside (老北京炸酱面), and one left with a single character names nothing (北京站 is not 站), so
    the place index drops only a leading 北京 and keeps two characters (shortest_rest=2)."""
    rest = text.replace(CITY, "") if anywhere else text.removeprefix(CITY)
    return rest if len(rest) >= shortest_rest else text


def main_name(name: str) -> str:
    """A name without its bracketed branch or alias: 护国寺小吃店 of 护国寺小吃店（护国寺总店）, 北京泰山饭店 of
    北京泰山饭店(王府井店); the name itself when it is all brackets."""
    return _BRACKETS.sub("", name).strip() or name


def branch_of(name: str) -> str:
    """The text of a name's first bracket (北京前门大栅栏店 of 速8酒店(北京前门大栅栏店)), or ""."""
    match = BRACKET_TEXT.search(name)
    return match.group(1) if match else ""


def short_forms(name: str, *, branch: bool = False, brands: bool = False, shortest: int = 2) -> list[str]:
    """How people shorten a hotel's name, longest first (equal lengths in code-point order): the name, its main
    name (北京泰山饭店 of 北京泰山饭店(王府井店)), and each without a leading 北京 (泰山饭店(王府井店), 泰山饭店);
    forms shorter than `shortest` are left out.

    `branch` adds the branch, with and without its city (北京前门大栅栏店, 前门大栅栏店), and `brands` the brand of
    every form (速8 of 速8酒店, 汉庭 of 汉庭酒店(西单店)). Both only point at one of the hotels shown: across the
    database a branch or a brand names many (every chain has a 王府井店), so the lexicon of names a search may use
    leaves them out."""
    forms = {name, main_name(name)}
    if branch:
        forms.add(branch_of(name))
    forms |= {without_city(form) for form in forms}
    if brands:
        # 龙鼎华鼎云 of 北京龙鼎华鼎云酒店, but not 国际 of 北京国际饭店: a brand left after dropping the city must be
        # long enough to name one hotel.
        shortest_brand = 3 if name.startswith(CITY) else 2
        for form in list(forms):
            brand = _HOTEL_SUFFIX.sub("", form)
            if brand != form and len(brand) >= shortest_brand and brand not in _GENERIC:
                forms.add(brand)
    return sorted((form for form in forms if len(form) >= shortest), key=lambda form: (-len(form), form))


def _spread(query: str, name: str) -> int | None:
    """Length of the shortest stretch of `name` holding `query`'s characters in order (None: not there)."""
    best = None
    for start, char in enumerate(name):
        if char != query[0]:
            continue
        position = start
        for wanted in query[1:]:
            position = name.find(wanted, position + 1)
            if position < 0:
                return best
        span = position - start + 1
        best = span if best is None else min(best, span)
    return best


def match_names(text: str, names: Sequence[str]) -> list[int]:
    """Indices of the hotels in `names` that `text` refers to (rules in the module docstring)."""
    query = normalize_name(text)
    if not without_city(query, anywhere=True):
        return []  # nothing, or only the city: every hotel here is in 北京, that names none of them
    normalized = [normalize_name(n) for n in names]
    equal = [i for i, n in enumerate(normalized) if n == query]
    if equal:
        return equal
    # Names inside the text, in full or without the city (我决定入住瑞洁宾舍民宿); the longest wins, so a short
    # name inside a longer one (北京饭店 in 北京饭店二七剧场店) does not shadow it.
    inside: dict[int, int] = {}
    for i, n in enumerate(normalized):
        for variant in (n, without_city(n, anywhere=True)):
            if len(variant) >= 4 and variant in query:
                inside[i] = max(inside.get(i, 0), len(variant))
    if inside:
        longest = max(inside.values())
        return [i for i, length in inside.items() if length == longest]
    part = [i for i, n in enumerate(normalized) if query in n]
    if part:
        return part
    short_query = without_city(query, anywhere=True)
    if len(short_query) < 2:
        return []
    short_names = [without_city(n, anywhere=True) for n in normalized]
    part = [i for i, n in enumerate(short_names) if short_query in n]
    if part:
        return part
    if len(short_query) < 3:
        return []
    spreads = [(_spread(short_query, n), i) for i, n in enumerate(short_names)]
    close = [(s, i) for s, i in spreads if s is not None and s <= MAX_SPREAD * len(short_query)]
    return [i for _, i in sorted(close)]
