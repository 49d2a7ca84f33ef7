"""Understanding one user message: the search_hotels slots it mentions and what else it asks for.

Pure functions of (text, lexicon, shown records); the dialogue state lives in backends.rules.state."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from agent.core.hotel_names import branch_of, short_forms
from backends.rules.lexicon import ASCII_LOWER, Lexicon
from backends.rules.numbers import parse_price, parse_rating
from backends.rules.places import find_near

TYPE_WORDS = {"经济": "经济型", "舒适": "舒适型", "高档": "高档型", "豪华": "豪华型"}
_TYPE_RE = re.compile(r"(经济|舒适|高档|豪华)")

# Attribute questions about hotels already shown, by the record field they ask about.
ATTRIBUTE_WORDS: dict[str, tuple[str, ...]] = {
    "phone": ("电话", "联系方式", "号码", "座机", "手机号", "联系电话"),
    "address": ("地址", "在哪", "位置", "什么地方", "哪里"),
    "subway": ("地铁",),
    "price": (
        "价格",
        "多少钱",
        "价钱",
        "多钱",
        "费用",
        "房价",
        "贵不贵",
        "便宜",
        "花多少",
        "多少块",
        "几块",
        "啥价",
        "什么价",
    ),
    "rating": ("评分", "几分", "分数", "口碑"),
    "type": ("类型", "什么类", "档次", "星级"),
}
THANKS = re.compile(r"谢谢|多谢|感谢|thank", re.I)
BYE = re.compile(r"再见|拜拜|没有(其他|别的)?(问题|事)|不用了|就这些|没事了")
CHOICE = re.compile(r"决定|就(选|订|住|要)|入住|预订这|预定这|订这|住这|就这家|选这|选择")
# How the data's added follow-up questions about shown hotels read; those are answered, not searched.
# Phrasings of the original dialogues (酒店设施… / 是否… / 该酒店… / 他家…) are searches there.
_ABOUT_SHOWN = re.compile(
    r"^(这家|这个)酒店(有没有|是不是|有免费|wifi免费)|免费的?wifi|更好|比较好|告诉我|你知道"
    r"|(这两|两家|两个|这些|这几|他们|它们).{0,6}都(有|提供)"
    r"|^(这两|两个|这些|他们)"
)
_SEARCH_PHRASING = re.compile(r"设施|是否|该酒店|他家")
# A yes/no question about what a hotel has (有没有健身房 / 有wifi吗 / 能停车不), not a request for hotels that have it.
_FACILITY_QUESTION = re.compile(
    r"(?:有没有|有没|是否有|能不能|可不可以)(?![^，,。？?]{0,12}的(?:酒店|宾馆|饭店))|(?:有|能|可以|提供)[^，,。？?的]{1,10}(?:吗|么|不|没有?)(?=$|[，,。？?！!\s])"
)
# 哪个区 / 哪个地铁站 asks where one hotel is, not which of them wins
COMPARE = re.compile(r"哪(?:个|家|一家|间)(?!区|地方|位置|地铁|站|路|街)|谁家|更(?:高|低|便宜|贵|近|好)|比较")


@dataclass(frozen=True)
class Understanding:
    slots: dict[str, Any]  # search_hotels arguments the message mentions (facilities and `near` in the user's words)
    shown_mentions: tuple[int, ...] = ()  # indices of shown records the message names
    attributes: tuple[str, ...] = ()  # record fields asked about (phone, address, ...)
    thanks: bool = False
    bye: bool = False
    choice: bool = False
    compare: bool = False
    facility_question: tuple[str, ...] = field(default=())  # facilities asked about (same as slots' facilities)
    about_shown: bool = False  # phrased as a question about the hotels shown (这家酒店有没有X / 哪家有X更好)


def find_facilities(text: str, lexicon: Lexicon) -> list[str]:
    """Facility phrases as the user wrote them: the longest known phrases or head nouns that do not overlap,
    each grown to the user's whole noun phrase (游泳池 for 泳池, 免费早餐 for 早餐), in text order."""
    taken = [False] * len(text)
    found: list[tuple[int, int]] = []
    folded = text.translate(ASCII_LOWER)  # WiFi / WIFI / spa are wifi / SPA; the user's spelling is returned
    for term in lexicon.facility_terms:
        start = folded.find(term)
        while start >= 0:
            end = start + len(term)
            if not any(taken[start:end]):
                start, end = _noun_phrase(text, start, end, taken, lexicon.facility_infixes)
                taken[start:end] = [True] * (end - start)
                found.append((start, end))
            start = folded.find(term, end)
    # 不需要早餐: a facility the user declines is no constraint (train has no such request to label).
    found = sorted((start, end) for start, end in found if not _DECLINED.search(text, 0, start))
    out = []
    for i, (start, end) in enumerate(found):
        previous_end = found[i - 1][1] if i else 0
        out.append(_with_scope(text, max(start - 20, previous_end), start, text[start:end]))
    return out


_DECLINED = re.compile(r"(?:不需要|不要|不用|不必|无需|用不着)(?:有|提供|带)?$")
# Characters a noun phrase never grows over: request and function words (有wifi, 提供wifi, 带游泳池, 能吃早餐).
_NOUN_BREAK = frozenset("的和及与或、有供提要是在能都可享用打为了带吃找个家请想去里内")
_MODIFIER_BEFORE = re.compile(r"(?:免费|收费|付费|室内|室外|露天|户外|24小时|全天候|全天)$")
# A place noun after a head (洗衣房, 停车位) is the user's noun; the data's labels drop 服务 / 设施 after one.
_PLACE_AFTER = re.compile(r"[场位室房厅馆池处区]")  # matched at the phrase's end


def _noun_phrase(text: str, start: int, end: int, taken: list[bool], infixes: frozenset[str]) -> tuple[int, int]:
    """Grow text[start:end] leftwards over the characters that make it a longer piece of a known facility
    phrase (泳池 → 游泳池, as in 室内游泳池), over modifiers before it (免费, 室内) and over a place noun after
    it (洗衣房). Rightwards only place nouns: 洗衣服 is a piece of 洗衣服务 but not the user's noun."""
    while True:
        # A whole modifier first: growing one character at a time would stop inside one (免费停车 → 费停车, a piece
        # of 收费停车位, which asks for paid parking).
        if (m := _MODIFIER_BEFORE.search(text, 0, start)) and not any(taken[m.start() : start]):
            start = m.start()
        elif (
            start > 0
            and not taken[start - 1]
            and text[start - 1] not in _NOUN_BREAK
            and text[start - 1 : end] in infixes
        ):
            start -= 1
        elif (m := _PLACE_AFTER.match(text, end)) and not any(taken[end : m.end()]):
            end = m.end()
        else:
            return start, end


_CLAUSE_END = re.compile(r"[，,。？?！!、；;：:]|并且|而且|以及|还有|还要|同时|另外")
# Words that are facilities themselves: a scope never reaches over one (…无线网络并且提供宽带上网).
_FACILITY_HEADS = re.compile(r"wifi|无线|网络|上网|热水|餐厅|服务|电话|设施", re.I)
_REQUEST_WORDS = re.compile(
    r"^(?:请问|那么|那|哪个酒店|哪家酒店|哪个|哪家|谁家|好的|还有|另外|并且|而且|以及|该酒店|这家酒店(?!内|里)|这个酒店(?!内|里)|酒店(?!内|里)|他家|它家|"
    r"是否|能否|有没有|能不能|可不可以|可以|能够|能|需要|希望|最好|要求|要|提供|还|有|都|是|的)+"
)
# Words that say where or when a facility is offered (公共区域和一些房间都有wifi, 不间断供应24小时热水): the
# data keeps them in the facility phrase.
_SCOPE = re.compile(r"区域|房间|客房|角落|所有|全部|每个|公共|不间断|场所|各处|各个")


# A request verb between scope and facility (房间要有吹风机) makes it a request, not a description of where the
# facility is: train's labels never keep one.
_ASKING = re.compile(r"要|希望|最好|必须")


def _with_scope(text: str, floor: int, start: int, phrase: str) -> str:
    """`phrase` with the scope words the user put before it in the same clause."""
    left = text[floor:start]
    cut = max((m.end() for m in _CLAUSE_END.finditer(left)), default=0)
    left = _REQUEST_WORDS.sub("", left[cut:])
    if left and _SCOPE.search(left) and not _FACILITY_HEADS.search(left) and not _ASKING.search(left):
        return left + phrase
    return phrase


_UNKNOWN_SERVICE = re.compile(r"(?:有|提供|需要|要)([\u4e00-\u9fff]{2,4}服务)")
_NOT_A_SERVICE = re.compile(r"[这那哪什么其他别的些项种个好]|酒店|客房|服务.")


def unknown_services(text: str) -> list[str]:
    """A service the lexicon does not know (有洗涤服务吗): the data keeps such phrases as written."""
    return [m.group(1) for m in _UNKNOWN_SERVICE.finditer(text) if not _NOT_A_SERVICE.search(m.group(1))]


def find_type(text: str) -> str | None:
    m = _TYPE_RE.search(text)
    return TYPE_WORDS[m.group(1)] if m else None


_HOTEL_SUFFIX = re.compile(r"(酒店|饭店|宾馆|公寓|旅舍|客栈|大厦|旅馆|山庄|会馆|招待所|度假村|中心|店|院|园)$")


# Words of a request, not of a name: a span holding one is not taken as a hotel name.
_NOT_A_NAME = re.compile(r"提供|最好|需要|希望|服务|设施|要|能|吗|什么|啥|哪|谁|多少")


def find_name(text: str, lexicon: Lexicon) -> str | None:
    """A hotel name the user asks for: a known name or short name, else a span after 叫 / 订一下那个 ...
    that looks like a hotel name. Returns it as written."""
    for name in lexicon.names:
        start = text.find(name)
        if start >= 0:
            # 和颐酒店前门店: the user's name goes on past the known one up to a branch suffix.
            tail = re.match(r"([^，,。？?！!的\s]{1,6}?)(?:的|[，,。？?！!]|怎么样|这个|$)", text[start + len(name) :])
            if (
                tail
                and re.search(r"[店馆]$", tail.group(1))
                and not tail.group(1).startswith("这")
                and not re.search(r"[哪几什有]", tail.group(1))  # 汉庭有哪些店 asks about 汉庭
                and tail.group(1) not in ("酒店", "饭店", "宾馆")
            ):
                return name + tail.group(1)
            return name
    for m in re.finditer(
        r"叫做?(?![醒起早我])([^，,。？?！!的]{2,20}?)(?:的酒店|的地方|的宾馆|这个酒店|[，,。？?！!]|$)", text
    ):
        if not _NOT_A_NAME.search(m.group(1)):
            return m.group(1)
    for m in re.finditer(
        r"(?:订一下那个|预[订定]一下|酒店[，,](?:那个|就是)?|我想住在|我要住在|我想住|我要住)"
        r"([^，,。？?！!]{2,20}?)(?:的酒店|的房间|的信息|怎么样|这个酒店|住一晚|[，,。？?！!]|$)",
        text,
    ):
        span = m.group(1)
        if _HOTEL_SUFFIX.search(span) and not re.search(r"价格|评分|设施|型|\d", span) and not _NOT_A_NAME.search(span):
            return span
    return None


def understand(text: str, lexicon: Lexicon, shown: list[dict[str, Any]]) -> Understanding:
    shown_mentions = tuple(i for i, r in enumerate(shown) if _mentions_record(text, r))
    # Hotels near a place (故宫附近的经济型酒店): the place and its near words are no other constraint or name.
    near = find_near(text)
    wanted = near.rest if near else text
    # Words inside a shown hotel's name (温泉 in 北京金龙建国温泉酒店) are not constraints.
    unnamed = wanted
    for i in shown_mentions:
        for short in _record_short_names(shown[i]["name"]):
            unnamed = unnamed.replace(short, "，")
    slots = constraint_slots(unnamed, lexicon)
    facilities = slots.get("facilities", [])
    # Asking for a hotel by name is a request of its own in the data: no other constraint comes with it
    # (words inside the name, like 温泉 in 国际温泉酒店, do not count). A yes/no question about the named hotel's
    # facilities (北京饭店有健身房吗) asks about that hotel: it is searched by name, and the facilities are the
    # question, answered from its record.
    if not shown_mentions and not CHOICE.search(text):
        name = find_name(wanted, lexicon)
        rest = constraint_slots(wanted.replace(name, "，"), lexicon) if name else {}
        if name and (not rest or (set(rest) == {"facilities"} and _FACILITY_QUESTION.search(wanted))):
            slots = {"name": name}
    if near:
        slots["near"] = near.query
    # (asked of the message without the shown hotels' names: 格林豪泰(…地铁站店)的电话 asks for no subway)
    attributes = tuple(a for a, words in ATTRIBUTE_WORDS.items() if any(w in unnamed for w in words))
    if "subway" in attributes and not re.search(r"地址|位置", unnamed):
        attributes = tuple(a for a in attributes if a != "address")  # 坐地铁在哪站下: the station, not the address
    return Understanding(
        slots=slots,
        shown_mentions=shown_mentions,
        attributes=attributes,
        thanks=bool(THANKS.search(text)),
        bye=bool(BYE.search(text)),
        choice=bool(CHOICE.search(text)),
        compare=bool(COMPARE.search(text)),
        facility_question=tuple(facilities),
        about_shown=bool(_ABOUT_SHOWN.search(text)) and not _SEARCH_PHRASING.search(text),
    )


# How people name the database's four types by another scale: 快捷酒店 are budget chains (经济型), and the star classes
# match the types (五星 豪华型, 四星 高档型, 三星 舒适型, 二星 / 一星 经济型). With 评分 / 分 in the message, 四星 is a
# rating instead (评分不低于2星级).
_BUDGET_CHAIN = re.compile(r"快捷(?:酒店|宾馆|型|的|连锁|一点)?")
_STAR_CLASS = re.compile(
    r"(?<![\d.点])([一二两三四五1-5])\s*星(?:级)?(?!半)(?=级|酒店|宾馆|饭店|的|那种|标准|以上|$|[，,。.！!？?])"
)
_STAR_TYPES = {"五": "豪华型", "5": "豪华型", "四": "高档型", "4": "高档型", "三": "舒适型", "3": "舒适型"}


def _hotel_class(text: str, lexicon: Lexicon) -> tuple[str, tuple[int, int]] | None:
    """(the type a class word means, its span): 快捷酒店 → 经济型, 五星级 → 豪华型; None without one. A hotel's own
    name (如家快捷酒店) is no class word."""
    for name in lexicon.names:
        if name in text:
            text = text.replace(name, "，" * len(name))  # (same length: the span stays right)
    chain = _BUDGET_CHAIN.search(text)
    if chain:
        return "经济型", chain.span()
    star = _STAR_CLASS.search(text)
    if star and not re.search(r"评分|分数|评价|\d\s*分|[一二三四五]分", text):
        return _STAR_TYPES.get(star.group(1), "经济型"), star.span()
    return None


def constraint_slots(text: str, lexicon: Lexicon) -> dict[str, Any]:
    """The type, facility, price and rating slots a message mentions."""
    slots: dict[str, Any] = {}
    hotel_type = find_type(text)
    hotel_class = _hotel_class(text, lexicon)
    if hotel_class:
        start, end = hotel_class[1]
        hotel_type = hotel_type or hotel_class[0]
        text = text[:start] + "，" + text[end:]  # 五星级 is a class, not a rating of 5
    if hotel_type:
        slots["type"] = hotel_type
    facilities = find_facilities(text, lexicon) or unknown_services(text)
    if facilities:
        slots["facilities"] = facilities
    price = parse_price(text)
    if price:
        slots.update(price.items("price"))
    rating = parse_rating(text)
    if rating:
        slots.update(rating.items("rating"))
    return slots


def _mentions_record(text: str, record: dict[str, Any]) -> bool:
    name = record.get("name") or ""
    return bool(name) and any(short in text for short in _record_short_names(name))


def _record_short_names(name: str) -> list[str]:
    """The forms that name a shown hotel outright, longest first: its name and main name with or without 北京
    (short_forms) and its branch as written (北京首都机场店). A branch without its city (首都机场店) or a brand (速8)
    only points at a row (references.short_forms): the reply to such a pointer names the hotel it took
    (backend._rows reads the difference), so they are no mention here."""
    branch = branch_of(name)
    forms = short_forms(name, shortest=3) + ([branch] if len(branch) >= 3 else [])
    return sorted(dict.fromkeys(forms), key=len, reverse=True)
