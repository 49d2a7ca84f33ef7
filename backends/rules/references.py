"""Which shown hotel a message means: 第二家 / 最后一家 / 这家 / 刚才那个 / a shortened name.

The hotels a user can point at are those the agent showed before the message (`Dialogue.shown_records()`), in the
order of the results table. An ordinal counts rows of that table; a name or a short form of it (速8, 前门大栅栏店,
龙鼎华鼎云酒店) picks the row it fits; 这家 / 那家 / 刚才那个 mean the hotel the conversation is about (the focus):
the one the user last pointed at, or the only one the agent's last reply named, or the only one shown."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from agent.core import hotel_names
from agent.core.dates import small_number
from agent.core.turns import AssistantTurn, Dialogue, ReturnTurn, Turn, UserTurn

_NUMBER = r"(?:\d{1,2}|[一二两三四五六七八九十]{1,3})"
# 第二家 / 第2个 / 第三间 / 第一个酒店 / 第二的那个 / 排第二的 / 排名第三 / 2号那家: a row of the table. A counter word,
# 酒店, 的 + a demonstrative or counter, or 排 / 排名 before it must be there: 第一次 / 第二天 are no rows, and N号 alone
# is a date (2号那家 is a row, 2号那天 a day).
_ORDINAL = re.compile(
    rf"(倒数)?第\s*({_NUMBER})\s*(?:家|个|间|所|座|位|条|行|名|(?=酒店|宾馆|饭店)|(?=的(?:[那这]|酒店|家|个)))"
    rf"|(?<=排)(?:名|在)?(倒数)?第\s*({_NUMBER})"
    rf"|(?<![\d月])({_NUMBER})\s*号\s*(?=[那这](?:家|个|间)|酒店|宾馆|饭店)"
)
_FIRST = re.compile(r"头一(?:家|个)|首家")
_LAST = re.compile(r"最后(?:一|那|这)?(?:家|个|间)|最后的那?(?:家|个)|最后那(?:家|个)?酒店")
# "this / that hotel": the focus of the conversation.
_DEMONSTRATIVE = re.compile(
    r"这家|那家|这一家|那一家|这个酒店|那个酒店|这间|那间|刚才那|刚刚那|上面那|前面那|该酒店|此酒店|这里|那里"
    r"|这个(?=吧|了|$|[，。！？!?,])|那个(?=吧|了|$|[，。！？!?,])|(?<![其])它(?!们)"
)
# A short form that is a count of days or nights (7天 of 7天连锁酒店) would be read in "住7天".
_NOT_A_SHORT_NAME = re.compile(r"^\d+[天晚号日]?$|^北京$")


@dataclass(frozen=True)
class Reference:
    """What a message points at among the shown hotels.

    `indices`: the rows meant (one for a resolved reference). `how`: "ordinal", "name", "focus", "only" (the one
    hotel shown, no words needed) or "" (nothing); `out_of_range` names an ordinal beyond the table; `ambiguous`
    is set when the message points (这家) but the conversation has no single hotel in focus."""

    indices: tuple[int, ...] = ()
    how: str = ""
    out_of_range: int | None = None
    ambiguous: bool = False

    @property
    def one(self) -> int | None:
        return self.indices[0] if len(self.indices) == 1 else None

    @property
    def explicit(self) -> bool:
        """The message itself names the hotel (an ordinal, a name, 这家 with a focus)."""
        return self.how in ("ordinal", "name", "focus")


def short_forms(name: str) -> list[str]:
    """How people point at a shown hotel by name: 速8酒店(北京前门大栅栏店) → 速8酒店, 速8, 北京前门大栅栏店, 前门大栅栏店 …
    (hotel_names.short_forms with the branch and the brand, which single out one row of a table), longest first;
    never a bare count (7天, see _count_brands) or 北京."""
    return [f for f in _all_forms(name) if not _NOT_A_SHORT_NAME.search(f)]


def _all_forms(name: str) -> list[str]:
    return hotel_names.short_forms(name, branch=True, brands=True)


# A brand that is a number of days (7天 of 7天连锁酒店) names the hotel only as 7天那家 / 7天酒店, never in 住7天.
_COUNT_BRAND_AFTER = re.compile(r"\s*(?:[那这]一?(?:家|个|间)|酒店|连锁|快捷)")


def _count_brands(name: str, text: str) -> list[str]:
    """The short forms of `name` that are counts (7天), where `text` uses them as a hotel's name."""
    forms = [f for f in _all_forms(name) if re.fullmatch(r"\d+[天晚号日]", f)]
    return [
        f
        for f in forms
        if any(
            _COUNT_BRAND_AFTER.match(text, m.end()) and not re.search(r"[住待呆]$", text[: m.start()])
            for m in re.finditer(re.escape(f), text)
        )
    ]


def named_rows(text: str, shown: list[dict[str, Any]]) -> list[int]:
    """The rows whose name (or a short form of it) the text holds. A short form that the text holds only inside
    another row's longer name does not count: 西单店 in 汉庭酒店(西单店) names that row, not every 汉庭."""
    found: dict[int, str] = {}
    for i, record in enumerate(shown):
        name = str(record.get("name") or "")
        for form in short_forms(name) + _count_brands(name, text):
            if form in text:
                found[i] = form
                break
    return [
        i
        for i, form in found.items()
        if not any(
            len(other) > len(form) and form in other and text.count(form) <= text.count(other)
            for j, other in found.items()
            if j != i
        )
    ]


def ordinal_row(text: str, count: int) -> tuple[int | None, int | None]:
    """(row index, None) for 第二家 / 最后一家 / 倒数第二家 within a table of `count` rows; (None, n) when the
    message says 第n家 beyond the table; (None, None) when it names no row by position."""
    if _FIRST.search(text):
        return (0, None) if count else (None, 1)
    if _LAST.search(text):
        return (count - 1, None) if count else (None, None)
    match = _ORDINAL.search(text)
    if match is None:
        return _middle_row(text, count)
    return _counted_row(match, count)


def _counted_row(match: re.Match[str], count: int) -> tuple[int | None, int | None]:
    """(row, None) for one match of _ORDINAL in a table of `count` rows; (None, n) beyond it; (None, None) for no
    number."""
    n = small_number(match.group(2) or match.group(4) or match.group(5))
    if n is None or n < 1:
        return None, None
    if n > count:
        return None, n
    from_the_end = match.group(1) or match.group(3)
    return (count - n if from_the_end else n - 1), None


_MIDDLE = re.compile(r"中间(?:的)?(?:那|这)?(?:一)?(?:家|个|间)")


def _middle_row(text: str, count: int) -> tuple[int | None, int | None]:
    """中间那家: the middle row of a table with one (an odd number of rows, three or more)."""
    if _MIDDLE.search(text) and count >= 3 and count % 2:
        return count // 2, None
    return None, None


def ordinal_rows(text: str, count: int) -> list[int]:
    """Every row the text counts (第一家和第三家 → [0, 2]), in the order written."""
    rows = []
    for match in _ORDINAL.finditer(text):
        row, _ = _counted_row(match, count)
        if row is not None and row not in rows:
            rows.append(row)
    return rows


def without_ordinals(text: str) -> str:
    """The text with 第三家 / 最后一家 taken out, so 第三家房间里有吹风机 asks about 房间里有吹风机."""
    for pattern in (_ORDINAL, _FIRST, _LAST, _MIDDLE):
        text = pattern.sub("，", text)
    return text


# 最便宜的那家 / 评分最高的那个 / 最贵的酒店: the row that ranks first among those shown. A question comparing them
# (哪家最便宜？) is answered by the comparison replies instead, so 哪 / 谁 leave it to them.
_RANKS = (
    (re.compile(r"最便宜|最实惠|最划算|价格最低|价钱最低|房价最低"), "price", min),
    (re.compile(r"最贵|价格最高|价钱最高|房价最高"), "price", max),
    (re.compile(r"评分最高|分数最高|分最高|评分最好|评价最好|口碑最好"), "rating", max),
    (re.compile(r"评分最低|分数最低|分最低|评价最差|口碑最差"), "rating", min),
)
_RANKED_ONE = re.compile(r"(?:的)?(?:[那这]?一?(?:家|个|间)|酒店|宾馆|饭店)|的(?=$|[，,。.！!？?、吧])")


def ranked_rows(text: str, shown: list[dict[str, Any]]) -> list[int]:
    """The rows 最便宜的那家 / 评分最高的那个 means (every row tied for first), [] when the text ranks none."""
    if re.search(r"哪|谁", text):
        return []
    for pattern, field, best in _RANKS:
        match = pattern.search(text)
        if match is None or not _RANKED_ONE.match(text, match.end()):
            continue
        values = {
            i: float(r[field]) for i, r in enumerate(shown) if isinstance(r.get(field), int | float) and r[field] > 0
        }
        if not values:
            return []
        top = best(values.values())
        return [i for i, v in values.items() if v == top]
    return []


def points_at_one(text: str) -> bool:
    """这家 / 那家 / 刚才那个 …: the message points at a hotel without naming it."""
    return bool(_DEMONSTRATIVE.search(text))


def _seen(dialogue: Dialogue) -> tuple[Turn, ...]:
    """The turns the user had seen when writing the latest message."""
    if dialogue.turns and isinstance(dialogue.turns[-1], UserTurn):
        return dialogue.before_last_user().turns
    return dialogue.turns


def _latest_table(turns: tuple[Turn, ...]) -> int | None:
    """Index of the latest return that showed hotels: a search that found nothing leaves the previous table the
    one on the screen."""
    return max((i for i, t in enumerate(turns) if isinstance(t, ReturnTurn) and t.records), default=None)


def shown_rows(dialogue: Dialogue) -> list[dict[str, Any]]:
    """The rows of the latest results table the user had seen when writing the latest message, in table order."""
    turns = _seen(dialogue)
    index = _latest_table(turns)
    return list(turns[index].records) if index is not None else []  # type: ignore[union-attr]  # a ReturnTurn


def focus(dialogue: Dialogue) -> int | None:
    """The shown row the conversation is about before the latest user message: the one the user last named or
    counted, or the only one a later agent reply named; None when there is no single one."""
    turns = _seen(dialogue)
    start = _latest_table(turns)
    if start is None:
        return None
    shown = turns[start].records  # type: ignore[union-attr]  # a ReturnTurn, found just above
    current: int | None = None
    for turn in turns[start + 1 :]:
        if isinstance(turn, UserTurn):
            row, _ = ordinal_row(turn.content, len(shown))
            ranked = ranked_rows(turn.content, shown)
            named = named_rows(turn.content, shown)
            if row is not None:
                current = row
            elif len(ranked) == 1:
                current = ranked[0]
            elif len(named) == 1:
                current = named[0]
        elif isinstance(turn, AssistantTurn):
            named = named_rows(turn.content, shown)
            if len(named) == 1:
                current = named[0]
    return current


def resolve(text: str, dialogue: Dialogue) -> Reference:
    """The shown row(s) `text` (the latest user message of `dialogue`) points at."""
    shown = shown_rows(dialogue)
    if not shown:
        return Reference()
    row, beyond = ordinal_row(text, len(shown))
    if row is not None:
        rows = ordinal_rows(text, len(shown))
        return Reference(tuple(rows) if len(rows) > 1 else (row,), "ordinal")
    if beyond is not None:
        return Reference(how="ordinal", out_of_range=beyond)
    ranked = ranked_rows(text, shown)
    if ranked:  # 最便宜的那家: counted by price or rating instead of position
        return Reference(tuple(ranked), "ordinal")
    named = named_rows(text, shown)
    if named:
        return Reference(tuple(named), "name")
    if points_at_one(text):
        current = focus(dialogue)
        if current is not None:
            return Reference((current,), "focus")
        if len(shown) == 1:
            return Reference((0,), "only")
        return Reference(ambiguous=True)
    if len(shown) == 1:
        return Reference((0,), "only")
    return Reference()
