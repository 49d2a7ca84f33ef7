"""Is a message a question about the hotels already shown (雅悦酒店有没有健身房？ / 第二家是经济型吗？ / 这两家都有
早餐吗？) rather than a request for other hotels (有没有带健身房的酒店？)? The former is answered from the records,
with no new search; the original course dialogues search again instead, and the person asking wins."""

from __future__ import annotations

import re
from typing import Any

from backends.rules.habits import PERSON_FIRST, Habits
from backends.rules.nlu import Understanding
from backends.rules.references import Reference, without_ordinals
from backends.rules.state import changes_state

# (有停车场不 / 能刷卡不: a yes/no question asked with a trailing 不 or 没有; 哪个有健身房 asks which of them)
_YES_NO = re.compile(
    r"吗|么|？|\?|有没有|有没|是否|能不能|可不可以|是不是|能否|哪(?:个|家|一家|间)"
    r"|(?:有|是|能|可以|提供|带)[^，,。？?]{1,12}(?:不|没|没有)[。！!~～啊呀]*$"
)
# Asking for hotels: 有没有带健身房的酒店 / 推荐一家有泳池的 / 换一家有早餐的 / 还有别的吗
_WANTS_OTHERS = re.compile(
    r"的(?:酒店|宾馆|饭店|旅馆)|推荐|找|换|其他|别的|还有|再|一家|一个|有没有[^，。？?]{1,12}的(?:[吗呢？?]|$)"
    r"|有[^，。？?]{1,12}的吗"
)
# Asking about the shown hotels together: 这两家都有吗 / 哪家有早餐 / 它们
_RECORD_KEYS = frozenset(
    {"facilities", "type", "price_range_lower", "price_range_upper", "rating_range_lower", "rating_range_upper"}
)


def about_shown(
    text: str,
    understanding: Understanding,
    reference: Reference,
    previous: dict[str, Any] | None,
    shown: list[dict[str, Any]],
    habits: Habits = PERSON_FIRST,
) -> bool:
    """A yes/no question about a shown hotel the message points at in one of the ways `habits` answers (ordinal,
    name, focus, only, or "" for none: the table's rows): its facilities, or — when it names or counts the hotel
    and the habits answer record fields — its type / price / rating. A message asking for other hotels
    (有没有带泳池的酒店？) is a search."""
    slots = understanding.slots
    if not shown or not slots or not set(slots) <= _RECORD_KEYS or not _YES_NO.search(text):
        return False
    # (the row's own words first out: 头一家 / 第一家 count a shown row, they do not ask for 一家 more)
    if _WANTS_OTHERS.search(without_ordinals(text)) or reference.how not in habits.answered_references:
        return False  # 我想找一家评分4.5以上的 / 有没有带泳池的酒店: a search, even after a question
    changed = {k for k in slots if changes_state(previous, {k: slots[k]})}
    if "facilities" in slots and changed <= {"facilities"}:
        return True
    return habits.answers_record_fields and reference.how in ("ordinal", "name")
