"""Prices and ratings out of the user's words: Arabic and Chinese numerals (五百, 四分半, 五六百), ranges
(500-600, 七百到八百), and bounds (以上 / 以下 / 以内 / 不超过 / 低于 / 左右)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
CN_NUMERAL = "零〇一二两三四五六七八九十百千万"


def chinese_to_number(text: str) -> float | None:
    """五百 → 500, 一千二 → 1200, 十五 → 15, 四 → 4; None when `text` is not a Chinese numeral."""
    if not text or any(c not in _DIGITS and c not in _UNITS for c in text):
        return None
    total, current, last_unit = 0, 0, 1
    for c in text:
        if c in _DIGITS:
            current = _DIGITS[c]
        else:
            unit = _UNITS[c]
            total += (current or 1) * unit
            current, last_unit = 0, unit
    # 一千二 / 五百五: a trailing digit after a unit means one unit lower (1200, 550).
    if current and last_unit >= 100 and len(text) >= 2 and text[-2] in _UNITS:
        current *= last_unit // 10
    return float(total + current)


_NUM = rf"(?:\d+(?:\.\d+)?(?:\s*[kK千](?![米克]))?|[{CN_NUMERAL}]+(?:点[{CN_NUMERAL}]+)?)"


def to_number(token: str) -> float | None:
    token = token.strip()
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([kK千百万])", token)  # 1k, 1.5千: Arabic digits with a unit
    if m:
        return float(m.group(1)) * {"k": 1000, "K": 1000, "千": 1000, "百": 100, "万": 10000}[m.group(2)]
    m = re.fullmatch(rf"([{CN_NUMERAL}]+)点([{CN_NUMERAL}]+)", token)  # 四点五 → 4.5
    if m and chinese_to_number(m.group(1)) is not None and all(c in _DIGITS for c in m.group(2)):
        return float(f"{chinese_to_number(m.group(1)):g}." + "".join(str(_DIGITS[c]) for c in m.group(2)))
    try:
        return float(token)
    except ValueError:
        return chinese_to_number(token)


@dataclass(frozen=True)
class Bounds:
    lower: float | None = None
    upper: float | None = None

    def items(self, prefix: str) -> dict[str, float]:
        out = {}
        if self.lower is not None:
            out[prefix + "_range_lower"] = self.lower
        if self.upper is not None:
            out[prefix + "_range_upper"] = self.upper
        return out


# Words that put the number before them as a lower / upper bound, and words before a number that do so.
_LOWER_AFTER = r"(?:以上|之上|往上|起步|起|多)"
_UPPER_AFTER = r"(?:以下|之下|以内|之内|以里|内|往下)"
_LOWER_BEFORE = r"(?:高于|大于|超过|不低于|不少于|至少|最少|比|不要低于|别低于|不能低于)"
# 预算八百: a budget is a cap.
_UPPER_BEFORE = r"(?:(?<![不别要能])低于|(?<!不)小于|不超过|不高于|不大于|不到|最多|最高|别超过|不要超过|(?<!不)少于|预算(?:是|在|为)?)"
_RANGE_SEP = r"多?\s*(?:-|－|—|~|～|到|至|和|、)\s*"

_PRICE_UNIT = r"\s*(?:元|块钱|块|rmb|RMB)?"
_RATING_UNIT = r"\s*分?"

# The patterns above backtrack over a run of digits, numerals or spaces from every position the run offers:
# quadratic in the run's length (cubic for spaces between two `\s*`), minutes to hours for one long message.
# No price or rating has more than MAX_NUMBER_RUN digits in a row, and no pattern tells MAX_SPACE_RUN spaces
# from more, so `_bounded` cuts longer runs before matching and every match attempt does bounded work.
MAX_NUMBER_RUN = 16
MAX_SPACE_RUN = 8
_LONG_NUMBER = re.compile(rf"\d{{{MAX_NUMBER_RUN + 1},}}|[{CN_NUMERAL}]{{{MAX_NUMBER_RUN + 1},}}")
_LONG_SPACE = re.compile(rf"\s{{{MAX_SPACE_RUN + 1},}}")
NOT_A_NUMBER = "\ufffc"  # what a run too long to be a number becomes: no pattern reads it as one


def _bounded(text: str) -> str:
    """`text` with runs of digits or Chinese numerals too long to be a number replaced by NOT_A_NUMBER and
    runs of whitespace cut to MAX_SPACE_RUN; the same for every message a person writes."""
    text = _LONG_NUMBER.sub(NOT_A_NUMBER, text)
    return _LONG_SPACE.sub(lambda m: m.group()[:MAX_SPACE_RUN], text)


def parse_price(text: str) -> Bounds | None:
    """The price constraint in `text`, or None. Numbers under 50 are not prices (they are ratings or counts)."""
    text = _bounded(text).replace("，", ",")
    # 五六百 / 四五百: two adjacent digits before a unit mean a range of that unit.
    m = re.search(r"([一二两三四五六七八九])([一二三四五六七八九])(百|千)", text)
    if m and _DIGITS[m.group(2)] > _DIGITS[m.group(1)]:
        unit = _UNITS[m.group(3)]
        return Bounds(float(_DIGITS[m.group(1)] * unit), float(_DIGITS[m.group(2)] * unit))
    m = re.search(rf"({_NUM}){_PRICE_UNIT}{_RANGE_SEP}({_NUM}){_PRICE_UNIT}", text)
    if m:
        a, b = to_number(m.group(1)), to_number(m.group(2))
        if a is not None and b is not None and b >= 50 and a <= b:
            if a < 50 and b >= 100 and a * 100 <= b:  # 5-600: a shorthand for 500-600
                a *= 10 ** (len(str(int(b))) - len(str(int(a))))
            return Bounds(a, b)
    # 五百多 / 600多元: from that number up to the next step of its leading digit.
    m = re.search(rf"({_NUM})多{_PRICE_UNIT}(?!\s*(?:-|到|至))", text)
    if m:
        value = to_number(m.group(1))
        if value is not None and value >= 100:
            step = 10 ** (len(str(int(value))) - 1)
            return Bounds(value, value + step)
    for m in re.finditer(rf"({_UPPER_BEFORE})\s*({_NUM}){_PRICE_UNIT}", text):
        value = to_number(m.group(2))
        if value is not None and value >= 50:
            return Bounds(upper=value)
    for m in re.finditer(rf"({_LOWER_BEFORE})\s*({_NUM}){_PRICE_UNIT}(高|贵)?", text):
        value = to_number(m.group(2))
        if value is not None and value >= 50 and (m.group(1) != "比" or m.group(3)):
            return Bounds(lower=value)
    for m in re.finditer(rf"比\s*({_NUM}){_PRICE_UNIT}(低|便宜|少)", text):
        value = to_number(m.group(1))
        if value is not None and value >= 50:
            return Bounds(upper=value)
    for m in re.finditer(rf"({_NUM}){_PRICE_UNIT}\s*(?:的|之)?\s*({_LOWER_AFTER}|{_UPPER_AFTER}|左右)", text):
        value = to_number(m.group(1))
        if value is None or value < 50:
            continue
        word = m.group(2)
        if word == "左右":
            return Bounds(upper=value)
        if re.fullmatch(_LOWER_AFTER, word):
            return Bounds(lower=value)
        return Bounds(upper=value)
    return None


def parse_rating(text: str) -> Bounds | None:
    """The rating constraint in `text`, or None: 4.5分以上 → lower 4.5; 评分是5分 → exactly 5; 四分半 → 4.5."""
    text = _bounded(text)
    text = re.sub(
        r"([一二三四五12345])(分|星)半", lambda m: f"{(to_number(m.group(1)) or 0.0) + 0.5:g}{m.group(2)}", text
    )
    m = re.search(rf"({_NUM}){_RATING_UNIT}{_RANGE_SEP}({_NUM})\s*分", text)
    if m:
        a, b = to_number(m.group(1)), to_number(m.group(2))
        if a is not None and b is not None and 0 <= a <= b <= 5:
            return Bounds(a, b)
    for m in re.finditer(rf"({_NUM})\s*(?:分|星)\s*(?:及|或)?\s*(以上|之上|往上|起|以下|之下|以内|左右)?", text):
        value = to_number(m.group(1))
        if value is None or not 0 < value <= 5:
            continue
        before = text[max(0, m.start() - 4) : m.start()]
        word = m.group(2)
        if word in ("以下", "之下", "以内") or re.search(_UPPER_BEFORE + "$", before):
            return Bounds(upper=value)
        if word or re.search(_LOWER_BEFORE + "$", before) or value < 5:
            return Bounds(lower=value)
        return Bounds(value, value)
    # 评分高于4 / 评分在4.5以上 / 最低评分2星: a number after 评分 with no 分.
    # 评分不要低于四点五: a Chinese numeral counts only where a number ends (not 一 of 评分一般).
    m = re.search(
        rf"评分([^，。,\d{CN_NUMERAL}]{{0,5}}?)(\d(?:\.\d)?(?![\d元块百])|[{CN_NUMERAL}]+(?:点[{CN_NUMERAL}])?"
        rf"(?=星|以|[，。,？?！!的]|$))\s*(星级?)?\s*(以上|以下)?",
        text,
    )
    if m:
        value = to_number(m.group(2))
        if value is not None and 0 < value <= 5:
            capped = m.group(4) == "以下" or (
                re.search(_UPPER_BEFORE + "$", m.group(1)) and not re.search(_LOWER_BEFORE + "$", m.group(1))
            )
            return Bounds(upper=value) if capped else Bounds(lower=value)
    return None
