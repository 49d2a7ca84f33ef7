"""The booking details a message gives: the guest's name, the check-in date and the number of nights.

Pure functions of the text. The check-in date is returned as the user wrote it (12月1日, 后天, 下周五): book_hotel
accepts the user's words and the dialogue loop resolves them against its own today, so a conversation reads the
same on any day and "后天" means the day after tomorrow of the moment the booking is made."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from agent.core.dates import find_date, small_number

_NUMBER = r"(\d{1,3}|[一二两三四五六七八九十]{1,3})"
# 两晚 / 2个晚上 / 三夜 (not 今晚 / 明晚: those are dates)
_NIGHTS = re.compile(rf"{_NUMBER}\s*个?\s*(?:晚上|晚|夜)")
# 住3天 / 待两天 / 住上五天: days of a stay, counted as nights (the brief's 住3天 → 3)
_DAYS = re.compile(rf"(?:住|待|呆|停留)(?:上|了)?\s*{_NUMBER}\s*(?:天|日)(?!后|以后|之后)")
# 住一周 / 两个星期: weeks of a stay (not 下周五 / 周末: no count before them)
_WEEKS = re.compile(rf"{_NUMBER}\s*个?\s*(?:周|星期|礼拜)(?![一二三四五六日天末])")
_RANGE_JOIN = re.compile(r"\s*(?:到|至|~|～|-|—)\s*")

# Saying who stays: 入住人张三 / 名字是张三 / 姓名：张三 / 我叫张三 / 用张三的名字 / 客人是王小明.
_CJK_NAME = r"[\u4e00-\u9fff·]{2,4}?"
_LATIN_NAME = r"[A-Za-z][A-Za-z .'-]{0,29}[A-Za-z]"
_NAME_END = r"(?=$|[，,。.！!？?、；;\s]|吧|呢|啊|哦|入住|住|预订|预定|订|的|两|一|\d)"
_GUEST = re.compile(
    rf"(?:入住人|住客|客人|姓名|名字|名称|预订人|联系人)(?:的?姓名)?\s*"
    rf"(?:改成|改为|换成|应该是|还是|也是|就是|都是|是|叫|为|写|填|用)?\s*[:：]?\s*"
    rf"({_LATIN_NAME}|{_CJK_NAME}){_NAME_END}"
    rf"|(?:我叫|我的名字是|本人)\s*({_LATIN_NAME}|{_CJK_NAME}){_NAME_END}"
    rf"|(?:用|以)\s*({_CJK_NAME})\s*的(?:名字|名义)"
)
# Common surnames (single and compound): a bare 张三 is taken as a name only when it starts with one.
_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔"
    "钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛"
    "邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝"
    "路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂"
    "全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
_COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "令狐", "慕容", "司徒", "夏侯", "尉迟", "长孙")
# Words a bare segment must not hold to be a name (高档 starts with the surname 高, 谢谢 with 谢, 明天 with 明), and
# characters no given name here has. Surnames that are also words (周, 钱, 高) stay names: 周明, 钱进.
_NOT_A_NAME = re.compile(
    r"谢谢|好的|可以|确认|确定|是的|没问题|算了|不用|不要|取消|酒店|宾馆|饭店|经济|舒适|高档|豪华|电话|地址|地铁|设施"
    r"|价格|价钱|多少|什么|明天|今天|后天|今晚|明晚|周末|星期|礼拜|下周|本周|这周|上午|下午|晚上|早上|中午|入住|预订|预定"
    r"|[的吗呢吧了啊哦嗯家店间型档晚号订住价元这那哪第帮请想找\d]"
)
# After a cue word (入住人 / 名字是) a question is no name (名字是什么), nor a correction (入住人写错了，应该是赵敏: the name
# is the one after 是).
_NOT_A_CUED_NAME = re.compile(r"什么|谁|多少|哪|吗|呢|错|改|换|不对|应该|了")
_CORRECTED_NAME = re.compile(rf"(?:应该是|改成|改为|换成|是|叫|为|成)\s*({_LATIN_NAME}|{_CJK_NAME}){_NAME_END}")
_SEGMENT_SPLIT = re.compile(r"[，,。.！!？?、；;\s]+")


@dataclass(frozen=True)
class Details:
    """What one message says about a booking (None: not said)."""

    guest: str | None = None
    check_in: str | None = None  # the user's words for the date
    nights: int | None = None
    past: str | None = None  # a check-in said in words that name a day gone by (上周五 / 昨天), and no other date

    def any(self) -> bool:
        return self.guest is not None or self.check_in is not None or self.nights is not None or self.past is not None

    def count(self) -> int:
        return sum(x is not None for x in (self.guest, self.check_in, self.nights))


def looks_like_name(text: str) -> bool:
    """A bare 张三 / 王小明 / 欧阳娜娜 / Tom Smith: how a person answers "入住人姓名？"."""
    text = text.strip()
    if re.fullmatch(_LATIN_NAME, text):
        return len(text.split()) <= 4
    if not re.fullmatch(r"[\u4e00-\u9fff·]{2,4}", text) or _NOT_A_NAME.search(text):
        return False
    return text[0] in _SURNAMES or text.startswith(_COMPOUND_SURNAMES)


_SELF = re.compile(r"^(?:我是|我姓名是|是|叫)")


def answers_name(text: str, *, latin: bool = True) -> bool:
    """A reply to "入住人姓名？" that is just the name: 张三 / 我是张三 / 是王小明 (/ Tom Smith, when `latin`)."""
    name = bare_name(text)
    return looks_like_name(name) and (latin or not name.isascii())


def bare_name(text: str) -> str:
    return _SELF.sub("", text.strip()).rstrip("。.！!~～").strip()


def find_guest(text: str, bare: bool = True) -> str | None:
    """The guest's name: said with a cue word (名字张三), or, when `bare`, a segment of the message that is a
    name and nothing else (帮我订第二家，张三，两晚)."""
    match = _GUEST.search(text)
    if match:
        name = next(g for g in match.groups() if g)
        if not _NOT_A_CUED_NAME.search(name):
            return name.strip()
        for corrected in _CORRECTED_NAME.finditer(text, match.start()):
            if looks_like_name(corrected.group(1)):
                return corrected.group(1).strip()
    if bare:
        for segment in _SEGMENT_SPLIT.split(text):
            if looks_like_name(segment):
                return segment.strip()
    return None


# Ways of writing a date or a count that agent.core.dates does not read, in the words it does: 明儿 is 明天, 俩 is
# 两, and 12.5 / 12/5 (a month and a day, where a date is expected: before 入住 / 号 / 到, or after 入住 / 到) is
# 12月5日. The check-in passed to book_hotel is the rewritten text, which the loop resolves as usual.
_SPOKEN: tuple[tuple[str, str], ...] = (
    ("大后儿个", "大后天"),
    ("大后儿", "大后天"),
    ("明儿个", "明天"),
    ("明儿", "明天"),
    ("今儿个", "今天"),
    ("今儿", "今天"),
    ("后儿个", "后天"),
    ("后儿", "后天"),
    ("俩", "两"),
)
_NUMERIC_DATE = re.compile(r"(?<![\d.])(1[0-2]|0?[1-9])\s*[./]\s*(3[01]|[12]\d|0?[1-9])(?![\d.])(?:\s*[号日])?")
_DATE_CONTEXT_AFTER = re.compile(r"\s*(?:入住|住|开始|到|至|-|~|～|退房|离店)")
_DATE_CONTEXT_BEFORE = re.compile(r"(?:入住(?:日期)?[是为在:：]?|到|至|[-~～])\s*$")


def spoken_dates(text: str) -> str:
    """`text` with colloquial dates and counts in the words agent.core.dates reads (明儿 → 明天, 12.5 → 12月5日)."""
    for said, meant in _SPOKEN:
        text = text.replace(said, meant)

    def dated(match: re.Match[str]) -> str:
        if (
            match.group(0)[-1] in "号日"
            or _DATE_CONTEXT_AFTER.match(text, match.end())
            or _DATE_CONTEXT_BEFORE.search(text, 0, match.start())
        ):
            return f"{int(match.group(1))}月{int(match.group(2))}日"
        return match.group(0)

    return _NUMERIC_DATE.sub(dated, text)


# A check-in before today said in words (上周五 / 昨天 / 上个月5号): no date to book, and no later date either
# (agent.core.dates would read 周五 of 上周五 as the coming Friday).
_PAST = re.compile(
    r"上上?个?(?:周|星期|礼拜)[一二三四五六日天末]|上周末|大前天|前天|昨天|昨晚|上个?月\s*(?:\d{1,2}|[一二三四五六七八九十]{1,3})\s*[号日]"
)
# A check-out date: 住到10号 / 待到12月10日 / 10号退房 / 12月10日离店.
_UNTIL_BEFORE = re.compile(r"(?:住到|待到|呆到|一直到|到|至)\s*")
_UNTIL_AFTER = re.compile(r"\s*(?:退房|离店|离开|走)")


def find_check_in(text: str, today: dt.date | None = None) -> tuple[str, int | None, tuple[int, int]] | None:
    """(the check-in date as written, nights when a range or a check-out date gives them (12月1日到12月3日 → 2,
    12月7号入住，10号退房 → 3), the span covered)."""
    today = today or dt.date.today()
    found = find_date(text, today)
    if found is None:
        return None
    day, (start, end) = found
    join = _RANGE_JOIN.match(text, end) if end < len(text) else None
    if join:
        rest = text[join.end() :]
        until = find_date(rest, today)
        if until is not None and until[1][0] == 0 and until[0] > day:
            return text[start:end], (until[0] - day).days, (start, join.end() + until[1][1])
    checkout = _check_out(text, end, day)
    if checkout is not None:
        return text[start:end], checkout[0], (start, checkout[1])
    return text[start:end], None, (start, end)


def _check_out(text: str, after: int, check_in: dt.date) -> tuple[int, int] | None:
    """(nights, where the check-out date ends) for a check-out date said after the check-in (住到10号 / 10号退房),
    read against the check-in day (10号 after 12月7日 is December 10th); None without one."""
    for marker in _UNTIL_BEFORE.finditer(text, after):
        until = find_date(text[marker.end() :], check_in)
        if until is not None and until[1][0] == 0 and until[0] > check_in:
            return (until[0] - check_in).days, marker.end() + until[1][1]
    rest = text[after:]
    until = find_date(rest, check_in)
    if until is not None and _UNTIL_AFTER.match(rest, until[1][1]) and until[0] > check_in:
        return (until[0] - check_in).days, after + until[1][1]
    return None


def find_nights(text: str) -> int | None:
    """两晚 → 2, 住3天 → 3, 住一周 → 7, 两个星期 → 14; None when the message says nothing of the length."""
    for pattern, factor in ((_NIGHTS, 1), (_DAYS, 1), (_WEEKS, 7)):
        match = pattern.search(text)
        if match:
            n = small_number(match.group(1))
            if n is not None and n > 0:
                return n * factor
    return None


def find_details(text: str, *, bare_name: bool = True) -> Details:
    """Everything `text` says about a booking; dates are read first, so 12月1日 is never a count of nights."""
    text = spoken_dates(text)
    past = _PAST.search(text)
    if past is not None:
        text = text[: past.start()] + "，" + text[past.end() :]
    check_in, nights, rest = None, None, text
    dated = find_check_in(text)
    if dated is not None:
        check_in, nights, (start, end) = dated
        rest = text[:start] + "，" + text[end:]
    if nights is None:
        nights = find_nights(rest)
    gone = past.group(0) if past is not None and check_in is None else None
    return Details(find_guest(rest, bare=bare_name), check_in, nights, gone)
