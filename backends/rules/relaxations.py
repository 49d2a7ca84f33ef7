"""Constraints a user lifts: 价格不限 / 不限价格 (no price bounds), 评分无所谓 (no rating bounds), 类型不限 / 不要经济型了
(no type), 不要求健身房了 (that facility off the list). The next search carries the state without them.

The course data never lifts a constraint (train has no such message), so these rules come from how people say it,
not from the data."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from agent.core.facilities import canonical, similarity

_ANY = r"(?:都)?(?:不限|无所谓|随便|都行|都可以|没关系|不重要|不在乎|没有?要求|不要求|不做要求|不用管|不限制|没限制)"
_SUBJECT = {
    "price": r"价格|价钱|价位|房价|预算|多少钱|钱",
    "rating": r"评分|分数|口碑|评价|几分",
    "type": r"类型|档次|星级|什么型",
}
_LIFTS = {
    key: re.compile(rf"(?:{words})\s*{_ANY}|不限\s*(?:{words})|不在乎\s*(?:{words})|(?:{words})\s*高低?都行")
    for key, words in _SUBJECT.items()
}
_ANY_PRICE = re.compile(r"多贵都(?:行|可以)|贵点也(?:行|没关系|可以)")
_NOT_TYPE = re.compile(r"(?:不要|不想要|不住|别要?|不找)\s*(经济|舒适|高档|豪华)型?")
# 不要求健身房了 / 不需要wifi / 不用有游泳池: the phrase after the word that declines it.
_DECLINE = re.compile(
    r"(?:不要求|不需要|不用|不必|无需|用不着|不要|不一定要|可以没有|没有也行)\s*(?:有|提供|带)?\s*"
    r"([^，。！？,.!?了也]{1,12})"
)
# 游泳池不要求了 / 早餐没有也行: the phrase before the words that drop it.
_DECLINE_AFTER = re.compile(
    r"([^，。！？,.!?]{1,12}?)\s*(?:也|就)?(?:不要求|不需要|不用|不必|可以没有|没有也行|没有也可以|无所谓|不重要)了?"
)
_SAME_FACILITY = 0.5


@dataclass(frozen=True)
class Lifted:
    keys: frozenset[str] = frozenset()  # search_hotels keys to drop
    facilities: tuple[str, ...] = field(default=())  # facility phrases of the state to drop
    unset: tuple[str, ...] = ()  # what the user lifted that the search never had (评分无所谓 with no rating asked)

    def __bool__(self) -> bool:
        return bool(self.keys or self.facilities)


def lifted(text: str, previous: dict[str, Any] | None) -> Lifted:
    """What `text` lifts from the search state `previous` (only what the state holds)."""
    previous = previous or {}
    keys: set[str] = set()
    if _LIFTS["price"].search(text) or _ANY_PRICE.search(text):
        keys |= {"price_range_lower", "price_range_upper"}
    if _LIFTS["rating"].search(text):
        keys |= {"rating_range_lower", "rating_range_upper"}
    not_type = _NOT_TYPE.search(text)
    if _LIFTS["type"].search(text) or (not_type and str(previous.get("type", "")).startswith(not_type.group(1))):
        keys.add("type")
    facilities = []
    for match in [*_DECLINE.finditer(text), *_DECLINE_AFTER.finditer(text)]:
        declined = canonical(match.group(1))
        facilities += [p for p in previous.get("facilities") or [] if _same(declined, canonical(p))]
    subjects = {"price_range_lower": "价格", "rating_range_lower": "评分", "type": "类型"}
    unset = tuple(word for key, word in subjects.items() if key in keys and not _holds(previous, key))
    return Lifted(frozenset(k for k in keys if k in previous), tuple(dict.fromkeys(facilities)), unset)


def _holds(state: dict[str, Any], key: str) -> bool:
    return key in state or key.replace("lower", "upper") in state


def wanted(mentioned: dict[str, Any], lift: Lifted) -> dict[str, Any]:
    """The message's constraints without the facilities it declines (不要求无线网络了 names 无线网络 to drop it)."""
    if not lift.facilities or "facilities" not in mentioned:
        return mentioned
    dropped = [canonical(f) for f in lift.facilities]
    kept = [f for f in mentioned["facilities"] if not any(_same(canonical(f), d) for d in dropped)]
    out = {k: v for k, v in mentioned.items() if k != "facilities"}
    if kept:
        out["facilities"] = kept
    return out


def _same(a: str, b: str) -> bool:
    return bool(a) and bool(b) and (a in b or b in a or similarity(a, b) >= _SAME_FACILITY)


def unsaid(text: str) -> str:
    """The text without the types it refuses (不要经济型了，换成高档型 → ，换成高档型), so they are not read as wanted."""
    return _NOT_TYPE.sub("，", text)


def without(state: dict[str, Any], lift: Lifted) -> dict[str, Any]:
    """`state` with the lifted keys and facilities taken out (an emptied facility list goes too)."""
    out = {k: v for k, v in state.items() if k not in lift.keys}
    if lift.facilities and isinstance(out.get("facilities"), list):
        kept = [f for f in out["facilities"] if f not in lift.facilities]
        if kept:
            out["facilities"] = kept
        else:
            out.pop("facilities")
    return out
