"""Which hotels a name refers to, given the short names people use.

The course's `name` arguments are what users typed: 瑞洁宾舍民宿 for 北京瑞洁宾舍民宿, 汉庭 for every 汉庭 hotel,
和颐酒店前门店 for 和颐酒店北京前门店, 山西大厦 for 北京山西(金辇)大厦. `match_names` tries, in order, and stops at
the first rule that finds something:

1. the text names a hotel in full (equal, or contains the full name, with or without 北京: 我决定入住万寿宾馆);
2. the text is part of a name (汉庭 → every 汉庭酒店(…));
3. the same with the city prefix 北京 dropped from both sides (和颐酒店前门店 ⊂ 和颐酒店前门店 of 和颐酒店北京前门店);
4. the text's characters appear in order in a name, close together (山西大厦 → 山西(金辇)大厦).

Matches keep database order, except rule 1 (the longest name first) and rule 4 (the tightest match first)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

CITY = "北京"
# Rule 4 accepts a name when the text's characters are spread over at most this many times its length.
MAX_SPREAD = 2.0
_PUNCTUATION = re.compile(r"[\s()（）\[\]【】·・.,，、\-—_/|'\"“”‘’]+")


def normalize_name(text: str) -> str:
    """Full-width to half-width, lower case, without spaces and punctuation: (北京站店) and （北京站店） agree."""
    return _PUNCTUATION.sub("", unicodedata.normalize("NFKC", text)).lower()


def _without_city(text: str) -> str:
    return text.replace(CITY, "")


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
    if not _without_city(query):
        return []  # nothing, or only the city: every hotel here is in 北京, that names none of them
    normalized = [normalize_name(n) for n in names]
    equal = [i for i, n in enumerate(normalized) if n == query]
    if equal:
        return equal
    # Names inside the text, in full or without the city (我决定入住瑞洁宾舍民宿); the longest wins, so a short
    # name inside a longer one (北京饭店 in 北京饭店二七剧场店) does not shadow it.
    inside: dict[int, int] = {}
    for i, n in enumerate(normalized):
        for variant in (n, _without_city(n)):
            if len(variant) >= 4 and variant in query:
                inside[i] = max(inside.get(i, 0), len(variant))
    if inside:
        longest = max(inside.values())
        return [i for i, length in inside.items() if length == longest]
    part = [i for i, n in enumerate(normalized) if query in n]
    if part:
        return part
    short_query = _without_city(query)
    if len(short_query) < 2:
        return []
    short_names = [_without_city(n) for n in normalized]
    part = [i for i, n in enumerate(short_names) if short_query in n]
    if part:
        return part
    if len(short_query) < 3:
        return []
    spreads = [(_spread(short_query, n), i) for i, n in enumerate(short_names)]
    close = [(s, i) for s, i in spreads if s is not None and s <= MAX_SPREAD * len(short_query)]
    return [i for _, i in sorted(close)]
