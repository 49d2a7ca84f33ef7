"""Check-in dates as people write them, resolved against today.

`find_date` finds the first date expression in a longer message (the rules backend reads booking requests with
it); `parse_date` reads a whole field (book_hotel's `check_in`, which a model may fill with the user's own words
or an ISO date). Both understand:

* ISO and numeric dates: 2026-12-01, 2026/12/1, 2026年12月1日;
* month and day: 12月1日, 12月1号, 十二月一号 (this year, or next year once the date has passed);
* a day of the month: 5号, 五日 (this month, or next month once it has passed);
* relative days: 今天 / 今晚 / 今儿, 明天 / 明晚 / 明儿, 后天, 大后天, 3天后;
* weekdays: 周五 / 星期五 / 礼拜五 (the next one, today included), 这周五 / 本周五 (this week's), 下周五 /
  下星期五 (next week's), 周末 (the coming Saturday); 上周五 is last week's (in the past, so refused as a
  check-in rather than read as the coming Friday).

A date before today is an error for a check-in; so is one more than a year ahead."""

from __future__ import annotations

import datetime as dt
import re

from agent.core.errors import ArgumentError

MAX_DAYS_AHEAD = 366
_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_SMALL = r"(?:\d{1,2}|[零〇一二两三四五六七八九十]{1,3})"
_WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5}
_RELATIVE = {"今天": 0, "今晚": 0, "今儿": 0, "明天": 1, "明晚": 1, "明儿": 1, "后天": 2, "后儿": 2, "大后天": 3}

_PATTERNS = (
    ("iso", re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?")),
    ("month_day", re.compile(rf"({_SMALL})\s*月\s*({_SMALL})\s*[日号]")),
    ("relative", re.compile(r"大后天|后天|后儿|明天|明晚|明儿|今天|今晚|今儿")),
    ("days_later", re.compile(rf"({_SMALL})\s*天(?:以后|之后|后)")),
    ("weekday", re.compile(r"(上上|上个?|下下|下个?|这个?|本)?\s*(?:周|星期|礼拜)([一二三四五六日天末])")),
    ("day", re.compile(rf"(?<![\d月])({_SMALL})\s*[日号](?!\s*[晚间])")),
)


def small_number(text: str) -> int | None:
    """12 → 12, 十二 → 12, 二十一 → 21, 两 → 2; None for anything else (only numbers under 100)."""
    text = text.strip()
    if text.isascii() and text.isdigit():
        return int(text)
    if not text or any(c not in _CN_DIGITS and c != "十" for c in text) or len(text) > 3:
        return None
    if "十" not in text:
        return _CN_DIGITS[text] if len(text) == 1 else None
    tens, _, ones = text.partition("十")
    if len(tens) > 1 or len(ones) > 1 or "十" in ones:
        return None
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)


def find_date(text: str, today: dt.date) -> tuple[dt.date, tuple[int, int]] | None:
    """The first date expression in `text` (earliest start; the longest there) and its span, or None.
    Resolved against `today`; not checked for being in the past (see `check_in_date`)."""
    best: tuple[int, int, dt.date] | None = None
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            day = _resolve(kind, match, today)
            if day is None:
                continue
            start, end = match.span()
            if best is None or start < best[0] or (start == best[0] and end > best[1]):
                best = (start, end, day)
            break  # the first valid match of each kind is enough
    if best is None:
        return None
    return best[2], (best[0], best[1])


def parse_date(text: str, today: dt.date) -> dt.date:
    """A whole field read as one date expression (surrounding spaces and 入住 / 住 words allowed)."""
    stripped = re.sub(r"^\s*(?:入住|住)?|(?:入住|住)?\s*$", "", text)
    found = find_date(stripped, today)
    if found is None or found[1] != (0, len(stripped)):
        raise ArgumentError(
            f"check_in {text!r} is not a date (write 2026-12-01, 12月1日, 后天 or 下周五)", field="check_in"
        )
    return found[0]


def check_in_date(value: object, today: dt.date) -> dt.date:
    """A check-in date from a model's or a form's value: a `date`, or text `parse_date` reads; not before today
    and at most a year ahead. ArgumentError naming the field otherwise."""
    if isinstance(value, dt.datetime):
        raise ArgumentError(f"check_in must be a date, not a date and time ({value.isoformat()})", field="check_in")
    if isinstance(value, dt.date):
        day = value
    elif isinstance(value, str):
        day = parse_date(value, today)
    else:
        raise ArgumentError(f"check_in must be a date such as 2026-12-01, got {value!r}", field="check_in")
    if day < today:
        raise ArgumentError(
            f"check_in {day.isoformat()} is in the past (today is {today.isoformat()})", field="check_in"
        )
    if (day - today).days > MAX_DAYS_AHEAD:
        raise ArgumentError(
            f"check_in {day.isoformat()} is more than a year ahead; bookings open a year in advance", field="check_in"
        )
    return day


def _resolve(kind: str, match: re.Match[str], today: dt.date) -> dt.date | None:
    if kind == "iso":
        return _date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    if kind == "month_day":
        month, day = small_number(match.group(1)), small_number(match.group(2))
        if month is None or day is None:
            return None
        found = _date(today.year, month, day)
        if found is not None and found < today:
            found = _date(today.year + 1, month, day)
        return found
    if kind == "relative":
        return today + dt.timedelta(days=_RELATIVE[match.group(0)])
    if kind == "days_later":
        count = small_number(match.group(1))
        return today + dt.timedelta(days=count) if count is not None else None
    if kind == "weekday":
        return _weekday(match.group(1) or "", _WEEKDAY[match.group(2)], today)
    day_of_month = small_number(match.group(1))
    if day_of_month is None:
        return None
    found = _date(today.year, today.month, day_of_month)
    if found is not None and found < today:
        year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
        found = _date(year, month, day_of_month)
    return found


def _weekday(prefix: str, weekday: int, today: dt.date) -> dt.date:
    monday = today - dt.timedelta(days=today.weekday())
    if prefix.startswith("上上"):  # in the past: check_in_date says so rather than booking a coming day
        return monday + dt.timedelta(days=weekday - 14)
    if prefix.startswith("上"):
        return monday + dt.timedelta(days=weekday - 7)
    if prefix.startswith("下下"):
        return monday + dt.timedelta(days=14 + weekday)
    if prefix.startswith("下"):
        return monday + dt.timedelta(days=7 + weekday)
    if prefix:  # 这周五 / 本周五: this week's, even when it has passed (check_in_date then says so)
        return monday + dt.timedelta(days=weekday)
    return today + dt.timedelta(days=(weekday - today.weekday()) % 7)


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None
