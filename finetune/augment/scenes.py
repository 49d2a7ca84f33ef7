"""The scenes a generated dialogue is made of, one function per thing the agent must do.

A scene writes the user's line(s), the agent's real tool calls (`Episode.search` / `book` / `cancel`) and the
agent's reply, and records its skill in `Episode.skills`. Constraints are drawn from a real hotel, so most
searches find something; some are drawn freely, so the store's relaxed results and empty ones are taught too."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agent.core.dates import parse_date
from agent.core.hotel_names import match_names
from agent.core.places import ATTRACTION, HOTEL, RESTAURANT, STATION, Place, main_name, place_index
from agent.core.schema import HOTEL_TYPES
from agent.core.search_result import SearchResult
from finetune.augment.episode import Episode, GenerationError, hotel_names, number_text
from finetune.augment.phrasings import words_of

CN_DIGITS = "零一二三四五六七八九十"
WEEKDAYS = "一二三四五六日"
CONSTRAINT_KINDS = ("type", "price_upper", "price_lower", "price_range", "rating_lower", "facility")
KIND_WEIGHTS = (5, 4, 1, 2, 3, 4)
RATING_STEPS = (4.0, 4.5, 4.2, 4.3, 4.6, 4.7, 4.8)
PRICE_STEPS = (150, 200, 250, 300, 350, 400, 500, 600, 700, 800, 1000, 1200, 1500)
# Fields of a record a user asks about, and the reply section answering each.
FIELDS = ("phone", "address", "subway", "price", "rating")
# Made-up hotel names for "no such hotel": parts that no CrossWOZ hotel name is made of (each full name is also
# checked against the store before use).
FAKE_HEADS = (
    "火星",
    "月亮湾",
    "银河港",
    "青鸾",
    "雪狐",
    "琥珀湾",
    "鲸落",
    "星槎",
    "白鹭洲",
    "蓝鲸岛",
    "云梦泽",
    "萤火虫",
)
FAKE_TAILS = ("大酒店", "度假山庄", "国际公寓", "精品客栈", "假日宾馆")
FAKE_PLACES = ("云梦泽公园", "琥珀湾广场", "蓝鲸岛博物馆", "萤火虫剧场", "白鹭洲美食街", "银河港大厦")
CHAINS = ("汉庭", "如家", "7天", "锦江之星", "格林豪泰", "速8")


# --- constraints ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ask:
    """One constraint of a request: its search arguments and how the user says it."""

    kind: str
    arguments: dict[str, Any]
    part: str  # e.g. 评分4.5以上


def _price_up(price: float, rng: random.Random) -> int:
    return int(math.ceil(price / 100) * 100) + rng.choice((0, 0, 100))


def ask_for(ep: Episode, kind: str, record: Mapping[str, Any] | None) -> Ask | None:
    """A constraint of `kind` that `record` meets (drawn freely without a record); None when it cannot."""
    rng, p = ep.rng, ep.p
    price = record["price"] if record else float(rng.choice(PRICE_STEPS))
    if kind == "type":
        value = record["type"] if record else rng.choice(HOTEL_TYPES)
        return Ask(kind, {"type": value}, p.part(rng, kind, type=value))
    if kind in ("price_upper", "price_lower", "price_range") and price <= 0:
        return None
    if kind == "price_upper":
        upper = _price_up(price, rng) if record else int(price)
        return Ask(kind, {"price_range_upper": upper}, p.part(rng, kind, p=upper))
    if kind == "price_lower":
        lower = int(price // 100 * 100)
        if lower < 100:
            return None
        return Ask(kind, {"price_range_lower": lower}, p.part(rng, kind, p=lower))
    if kind == "price_range":
        lower = int(price // 100 * 100)
        upper = lower + rng.choice((100, 100, 200))
        return Ask(
            kind, {"price_range_lower": lower, "price_range_upper": upper}, p.part(rng, kind, lo=lower, hi=upper)
        )
    if kind == "rating_lower":
        steps = [r for r in RATING_STEPS if record is None or r <= record["rating"]]
        if not steps:
            return None
        value = rng.choice(steps)
        return Ask(kind, {"rating_range_lower": _number(value)}, p.part(rng, kind, r=number_text(value)))
    words = [w for w in p.facilities if record is None or ep.world.offers(record, w)]
    if not words:
        return None
    word = rng.choice(words)
    return Ask(kind, {"facilities": [word]}, p.part(rng, kind, f=word))


def _number(value: float) -> int | float:
    return int(value) if value == int(value) else value


def draw_asks(ep: Episode, count: int, record: Mapping[str, Any] | None) -> list[Ask]:
    asks: list[Ask] = []
    used: set[str] = set()
    for _ in range(20):
        if len(asks) == count:
            break
        kind = ep.rng.choices(CONSTRAINT_KINDS, KIND_WEIGHTS)[0]
        family = "price" if kind.startswith("price") else kind
        if family in used and kind != "facility":
            continue
        if kind == "facility" and sum(a.kind == "facility" for a in asks) >= 2:
            continue
        ask = ask_for(ep, kind, record)
        if ask is None or (kind == "facility" and any(ask.arguments == a.arguments for a in asks)):
            continue
        asks.append(ask)
        used.add(family)
    return asks


def merge(asks: Sequence[Ask]) -> dict[str, Any]:
    arguments: dict[str, Any] = {}
    for ask in asks:
        for key, value in ask.arguments.items():
            if key == "facilities":
                arguments.setdefault("facilities", []).extend(value)
            else:
                arguments[key] = value
    return arguments


def noun_phrase(asks: Sequence[Ask]) -> str:
    """The constraints before 酒店: 评分4.5以上、有健身房的经济型 (the type last, as people say it)."""
    others = [a.part.removesuffix("的") for a in asks if a.kind != "type"]
    kind = "".join(a.part for a in asks if a.kind == "type")
    if not others:
        return kind
    return "、".join(others) + "的" + kind


def clauses(asks: Sequence[Ask]) -> str:
    return "，".join(a.part.removesuffix("的") for a in asks)


def request(ep: Episode, asks: Sequence[Ask]) -> str:
    if len(asks) >= 2 and ep.rng.random() < 0.3:
        return ep.pick("first_requests_clauses", clauses=clauses(asks))
    return ep.pick("first_requests_np", np=noun_phrase(asks))


def random_hotel(ep: Episode, *, priced: bool = False) -> dict[str, Any]:
    records = ep.world.store.records()
    while True:
        record = ep.rng.choice(records)
        if not priced or record["price"] > 0:
            return record


# --- presenting results --------------------------------------------------------------------------------------

_RELAXED_FAMILY = {
    "rating_range_lower": "rating",
    "rating_range_upper": "rating",
    "type": "type",
    "price_range_lower": "price",
    "price_range_upper": "price",
    "facilities": "facilities",
}


def present(ep: Episode, result: SearchResult, *, place: str | None = None, prefix: str = "") -> None:
    """The reply to a search's records: the hotels in the order shown, what had to be relaxed, or that none was found."""
    names = words_of(hotel_names(result.records))
    if not result.records:
        if place is not None:
            text = ep.pick("present_near_none", place=place)
        elif "name" in ep.args:
            text = ep.pick("present_name_none", hotel=ep.args["name"])
        else:
            text = ep.pick("present_none")
    elif place is not None:
        key = "present_near_relaxed" if result.relaxed else "present_near"
        text = ep.pick(key, place=place, names=names)
    elif result.relaxed:
        families = dict.fromkeys(_RELAXED_FAMILY[k] for k in result.relaxed)
        relaxed = "、".join(ep.p.mappings["relaxed_words"][f] for f in families)
        text = ep.pick("present_relaxed", relaxed=relaxed, names=names)
    else:
        text = ep.pick("present_one" if len(result.records) == 1 else "present_many", names=names)
    ep.reply(prefix + text)


# --- searches ------------------------------------------------------------------------------------------------


def first_search(ep: Episode, *, free: float = 0.15, at_least: int = 1) -> SearchResult:
    """A first request with 1–3 constraints, its search and the reply presenting what was found."""
    for _ in range(10):
        record = None if ep.rng.random() < free else random_hotel(ep)
        asks = draw_asks(ep, ep.rng.choice((1, 1, 2, 2, 2, 3)), record)
        arguments = merge(asks)
        if asks and len(ep.world.store.search(arguments, limit=3).records) >= at_least:
            break
    ep.user(request(ep, asks))
    result = ep.search(arguments)
    present(ep, result)
    ep.skills.append("first search")
    return result


def _change_options(ep: Episode) -> list[str]:
    args = ep.args
    options = ["add", "change_type", "change_price_upper", "change_rating", "new_search"]
    if "price_range_upper" in args or "price_range_lower" in args:
        options += ["drop_price", "drop_price"]
    if "rating_range_lower" in args or "rating_range_upper" in args:
        options += ["drop_rating", "drop_rating"]
    if "type" in args:
        options += ["drop_type", "change_type"]
    if args.get("facilities"):
        options += ["drop_facility"]
    return options


def later_search(ep: Episode) -> SearchResult:
    """A search in a later turn: a constraint added, changed or dropped (价格不限, 换成高档型), or a new request."""
    args = dict(ep.args)
    if "facilities" in args:
        args["facilities"] = list(args["facilities"])
    change = ep.rng.choice(_change_options(ep))
    rng = ep.rng
    if change == "add":
        missing = [k for k in CONSTRAINT_KINDS if not _has(args, k)] or ["facility"]
        ask = None
        for _ in range(10):
            ask = ask_for(ep, rng.choice(missing), random_hotel(ep) if rng.random() < 0.7 else None)
            if ask is not None and not (
                ask.kind == "facility" and ask.arguments["facilities"][0] in args.get("facilities", [])
            ):
                break
            ask = None
        if ask is None:
            raise GenerationError("no constraint to add")
        text = ep.pick("add_constraint", part=ask.part.removesuffix("的"))
        for key, value in ask.arguments.items():
            args[key] = args.get("facilities", []) + value if key == "facilities" else value
        skill = "later search: added"
    elif change == "change_type":
        value = rng.choice([t for t in HOTEL_TYPES if t != args.get("type")])
        text = ep.pick("change_type", type=value)
        args["type"] = value
        skill = "later search: changed"
    elif change == "change_price_upper":
        value = rng.choice([p for p in PRICE_STEPS if p != args.get("price_range_upper")])
        text = ep.pick("change_price_upper", p=value)
        args["price_range_upper"] = value
        if args.get("price_range_lower", 0) >= value:
            del args["price_range_lower"]
        skill = "later search: changed"
    elif change == "change_rating":
        value = rng.choice([r for r in RATING_STEPS if r != args.get("rating_range_lower")])
        text = ep.pick("change_rating", r=number_text(value))
        args["rating_range_lower"] = _number(value)
        if args.get("rating_range_upper", 5) < value:
            del args["rating_range_upper"]
        skill = "later search: changed"
    elif change == "drop_price":
        text = ep.pick("drop_price")
        args = {k: v for k, v in args.items() if not k.startswith("price_")}
        skill = "later search: dropped"
    elif change == "drop_rating":
        text = ep.pick("drop_rating")
        args = {k: v for k, v in args.items() if not k.startswith("rating_")}
        skill = "later search: dropped"
    elif change == "drop_type":
        text = ep.pick("drop_type")
        args.pop("type")
        skill = "later search: dropped"
    elif change == "drop_facility":
        word = rng.choice(args["facilities"])
        text = ep.pick("drop_facility", f=word)
        rest = [f for f in args["facilities"] if f != word]
        args = {k: v for k, v in args.items() if k != "facilities"}
        if rest:
            args["facilities"] = rest
        skill = "later search: dropped"
    else:
        asks = draw_asks(ep, rng.choice((1, 2, 2)), random_hotel(ep))
        text = ep.pick("new_search", np=noun_phrase(asks))
        args = merge(asks)
        skill = "later search: new"
    if not args:  # nothing left to search by: ask for one more thing instead of an empty search
        asks = draw_asks(ep, 1, random_hotel(ep))
        text = ep.pick("new_search", np=noun_phrase(asks))
        args, skill = merge(asks), "later search: new"
    ep.user(text)
    near = args.get("near")
    result = ep.search(args)
    present(ep, result, place=near)
    ep.skills.append(skill)
    return result


def _has(args: Mapping[str, Any], kind: str) -> bool:
    if kind == "facility":
        return len(args.get("facilities", [])) >= 2
    if kind.startswith("price"):
        return any(k.startswith("price_") for k in args)
    if kind == "rating_lower":
        return "rating_range_lower" in args
    return kind in args


# --- questions about the hotels shown --------------------------------------------------------------------------


def short_names(name: str, shown: Sequence[str]) -> list[str]:
    """Shorter forms of `name` that still name only it among the hotels shown (how people refer to a row)."""
    forms = []
    without_city = name.removeprefix("北京")
    if without_city != name and len(without_city) >= 3:
        forms.append(without_city)
    brand = main_name(name).replace("北京", "")
    if brand not in (name, without_city) and len(brand) >= 3:
        forms.append(brand)
    index = shown.index(name)
    return [f for f in forms if match_names(f, list(shown)) == [index]]


def reference(ep: Episode, index: int, *, allow_focus: bool = True) -> str:
    """How the user points at row `index` of the table shown: 第二家, 最后一家, a short name, or 这家 when it is clear."""
    shown = hotel_names(ep.shown)
    rng = ep.rng
    if allow_focus and (len(shown) == 1 or ep.focus == index) and rng.random() < 0.5:
        return rng.choice(ep.p.words["demonstratives"])
    options: list[str] = []
    if len(shown) > 1:
        options += list(ep.p.ordinals[index]) * 2
        if index == len(shown) - 1:
            options += list(ep.p.words["last_ordinals"])
    options += short_names(shown[index], shown) * 2
    return rng.choice(options or [shown[index]])


def _field_answer(ep: Episode, record: Mapping[str, Any], field: str) -> str:
    name = record["name"]
    if field == "price":
        if record["price"] <= 0:
            return ep.pick("answer_no_price", name=name)
        return ep.pick("answer_price", name=name, price=number_text(record["price"]))
    if field == "rating":
        return ep.pick("answer_rating", name=name, rating=number_text(record["rating"]))
    return ep.pick(f"answer_{field}", name=name, **{field: record[field]})


def ask_about(ep: Episode) -> None:
    """第二家的电话 / 它在哪: a question about one shown hotel, answered from its record with no search."""
    shown = ep.shown
    if not shown:
        raise GenerationError("a question about the hotels shown needs hotels shown")
    index = ep.focus if ep.focus is not None and ep.rng.random() < 0.4 else ep.rng.randrange(len(shown))
    ref = reference(ep, index)
    record = shown[index]
    fields = [f for f in FIELDS if record.get(f) not in (None, "")]
    if ep.rng.random() < 0.15:
        text = ep.pick("ask_type", ref=ref)
        answer = ep.pick("answer_type", name=record["name"], type=record["type"])
    elif ep.rng.random() < 0.2 and len(fields) >= 2:
        a, b = ep.rng.sample(fields, 2)
        words = ep.p.mappings["field_words"]
        text = ep.pick("ask_two", ref=ref, a=words[a], b=words[b])
        answer = _field_answer(ep, record, a) + _field_answer(ep, record, b)
    else:
        field = ep.rng.choice(fields)
        text = ep.pick(f"ask_{field}", ref=ref)
        answer = _field_answer(ep, record, field)
    ep.user(text)
    ep.reply(answer)
    ep.focus = index
    ep.skills.append("question about a shown hotel")


def ask_facility(ep: Episode) -> None:
    """第三家有游泳池吗: yes or no, from the hotel's record, naming what it has."""
    shown = ep.shown
    if not shown:
        raise GenerationError("a facility question needs hotels shown")
    index = ep.focus if ep.focus is not None and ep.rng.random() < 0.4 else ep.rng.randrange(len(shown))
    record = shown[index]
    words = list(ep.p.facilities)
    has = [w for w in words if ep.world.offers(record, w)]
    lacks = [w for w in words if not ep.world.offers(record, w)]
    yes = bool(has) and (not lacks or ep.rng.random() < 0.5)
    word = ep.rng.choice(has if yes else lacks)
    # Counted or named, never 这家: the course's dialogues answer 这家酒店有X吗 with a new search adding X (41 of
    # its test turns score that), and a model cannot tell the two habits apart from the words alone.
    ep.user(ep.pick("ask_facility", ref=reference(ep, index, allow_focus=False), f=word))
    if yes:
        ep.reply(ep.pick("answer_facility_yes", name=record["name"], has="、".join(ep.world.offers(record, word))))
    else:
        ep.reply(ep.pick("answer_facility_no", name=record["name"], f=word))
    ep.focus = index
    ep.skills.append("facility question")


# --- near ----------------------------------------------------------------------------------------------------


def mentions(place: Place) -> list[str]:
    """Ways to name `place` that resolve back to it (agent.core.places): the full name, shorter forms, a station
    with or without 地铁站 / 站."""
    if place.kind == STATION:
        forms = [place.name + "地铁站", place.name + "站", place.name]
    else:
        forms = [place.name, main_name(place.name), place.name.removeprefix("北京")]
    index = place_index()
    found = []
    for form in dict.fromkeys(forms):
        resolved = index.resolve(form).place
        if len(form) >= 2 and resolved is not None and (resolved.name, resolved.kind) == (place.name, place.kind):
            found.append(form)
    return found


def draw_place(ep: Episode) -> tuple[Place, str] | None:
    kind = ep.rng.choices((ATTRACTION, RESTAURANT, HOTEL, STATION), (4, 3, 1, 2))[0]
    places = [p for p in place_index().places if p.kind == kind]
    for _ in range(20):
        place = ep.rng.choice(places)
        forms = mentions(place)
        if forms:
            return place, ep.rng.choice(forms)
    return None


def near_search(ep: Episode, *, followup: bool = False) -> SearchResult:
    """Hotels near a place: alone, with other constraints, inside another question, or moving the last search."""
    rng = ep.rng
    drawn = draw_place(ep)
    if drawn is None or rng.random() < 0.05:
        place, mention = None, rng.choice(FAKE_PLACES)
    else:
        place, mention = drawn
    prefix = ""
    if followup and ep.args:
        args = {**ep.args, "near": mention}
        args.pop("name", None)
        text = ep.pick("near_followups", place=mention)
        skill = "near search: follow-up"
    elif place is not None and rng.random() < 0.2:
        question = rng.choice(ep.p.near_questions[place.kind]).format(place=mention)
        text = ep.pick("near_with_question", question=question, place=mention)
        prefix = ep.pick("near_question_reply", place=mention)
        args = {"near": mention}
        skill = "near search: with another question"
    else:
        asks = draw_asks(ep, rng.choice((0, 0, 1, 1, 2)), None)
        asks = [a for a in asks if a.kind != "facility"] if rng.random() < 0.5 else asks
        np_text = noun_phrase(asks)
        text = ep.pick("near_requests", place=mention, np=np_text)
        args = {"near": mention, **merge(asks)}
        skill = "near search"
    ep.user(text)
    result = ep.search(args)
    present(ep, result, place=mention, prefix=prefix)
    ep.skills.append(skill)
    return result


# --- booking -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Wish:
    """A booking's details as the user says them, and the call's values."""

    guest: str
    date_text: str  # what the user says (and the call's check_in): 12月5号, 后天, 下周三
    nights: int
    nights_text: str

    def call(self, hotel: str) -> dict[str, Any]:
        return {"hotel": hotel, "guest": self.guest, "check_in": self.date_text, "nights": self.nights}


def date_texts(day: dt.date, today: dt.date) -> list[str]:
    """Ways to say `day` that agent.core.dates reads as exactly that day, given `today`."""
    options = [f"{day.month}月{day.day}日", f"{day.month}月{day.day}号", f"{day.year}年{day.month}月{day.day}日"]
    offset = (day - today).days
    relative = {0: "今天", 1: "明天", 2: "后天", 3: "大后天"}
    if offset in relative:
        options += [relative[offset]] * 3
    if 0 <= offset < 7:
        options.append(f"周{WEEKDAYS[day.weekday()]}")
    monday = today - dt.timedelta(days=today.weekday())
    if 7 <= (day - monday).days < 14:
        options += [f"下周{WEEKDAYS[day.weekday()]}", f"下星期{WEEKDAYS[day.weekday()]}"]
    return [t for t in options if _reads_as(t, day, today)]


def _reads_as(text: str, day: dt.date, today: dt.date) -> bool:
    try:
        return parse_date(text, today) == day
    except Exception:
        return False


def nights_text(ep: Episode, nights: int) -> str:
    cn = "两" if nights == 2 else CN_DIGITS[nights] if 0 <= nights <= 10 else str(nights)
    return ep.pick("nights_words", n=nights, cn=cn)


def draw_wish(ep: Episode) -> Wish:
    rng = ep.rng
    guest = rng.choice(ep.p.words["surnames"]) + rng.choice(ep.p.words["given_names"])
    day = ep.today + dt.timedelta(days=rng.choice((0, 1, 1, 2, 2, 3, 5, 7, 9, 12, 20, 30, 45, 60)))
    nights = rng.choice((1, 1, 2, 2, 2, 3, 3, 4, 5, 7))
    return Wish(guest, rng.choice(date_texts(day, ep.today)), nights, nights_text(ep, nights))


def detail_parts(ep: Episode, wish: Wish, which: Sequence[str]) -> list[str]:
    parts = {
        "check_in": lambda: ep.pick("detail_date", date=wish.date_text),
        "nights": lambda: ep.pick("detail_nights", nights=wish.nights_text),
        "guest": lambda: ep.pick("detail_guest", guest=wish.guest),
    }
    return [parts[w]() for w in which]


def answer_result(ep: Episode, result: Mapping[str, Any]) -> None:
    """The reply to what a book_hotel / cancel_booking call did, every value copied from the result."""
    if "error" not in result:
        if result.get("status") == "cancelled":
            ep.reply(ep.pick("cancelled", booking_id=result["booking_id"], hotel=result["hotel"]))
        else:
            ep.reply(
                ep.pick("booked", **{k: result[k] for k in ("hotel", "check_in", "nights", "guest", "booking_id")})
            )
        return
    error, field = str(result["error"]), result.get("field")
    if result.get("declined"):
        ep.reply(ep.pick("cancel_declined" if "取消" in error else "booking_declined"))
    elif field == "check_in":
        key = "error_past" if "in the past" in error else "error_far" if "year ahead" in error else "error_date"
        ep.reply(ep.pick(key))
    elif field == "nights":
        ep.reply(ep.pick("error_nights"))
    elif field == "hotel" and "fits" in error:
        asked = error.split("'")[1]
        options = error[error.index("(") + 1 : error.rindex(")")].rstrip("…").split("、")
        ep.reply(ep.pick("error_ambiguous", hotel=asked, options=words_of(options[:3])))
    elif field == "hotel":
        ep.reply(ep.pick("error_hotel", hotel=error.split("'")[1]))
    else:
        raise GenerationError(f"no reply for the result {dict(result)}")


def _confirm(ep: Episode) -> bool:
    return ep.rng.random() >= 0.12


def book_at_once(ep: Episode, index: int | None = None, wish: Wish | None = None) -> dict[str, Any]:
    """订第二家，12月5号入住，住两晚，入住人王芳: every detail in one line → book_hotel → the reply to its result."""
    shown = ep.shown
    index = ep.rng.randrange(len(shown)) if index is None else index
    wish = wish or draw_wish(ep)
    order = ep.rng.sample(["check_in", "nights", "guest"], 3)
    line = "，".join([ep.pick("book_heads", ref=reference(ep, index)), *detail_parts(ep, wish, order)])
    ep.user(line)
    result = ep.book(wish.call(shown[index]["name"]), confirm=_confirm(ep))
    answer_result(ep, result)
    ep.focus = index
    ep.skills.append("booking: every detail at once" + ("" if "error" not in result else " (declined)"))
    return result


def _missing_text(ep: Episode, missing: Sequence[str]) -> str:
    words = ep.p.mappings["missing_words"]
    return words_of([words[m] for m in missing])


def book_over_turns(ep: Episode) -> dict[str, Any]:
    """Details over several turns: the agent asks for what is missing (only that), answers a question in between,
    takes a correction, and calls book_hotel once it has everything."""
    rng, shown = ep.rng, ep.shown
    index = rng.randrange(len(shown))
    wish = draw_wish(ep)
    slots = ["guest", "check_in", "nights"]
    rng.shuffle(slots)
    given = slots[: rng.choice((0, 1, 1, 2))]
    hotel_first = rng.random() < 0.8 or len(shown) == 1
    if hotel_first:
        ep.user("，".join([ep.pick("book_heads", ref=reference(ep, index)), *detail_parts(ep, wish, given)]))
    else:
        given = slots[: rng.choice((2, 3))]
        ep.user("，".join([ep.pick("book_heads_no_hotel"), *detail_parts(ep, wish, given)]))
    missing = [s for s in ("guest", "check_in", "nights") if s not in given]
    if not hotel_first:
        ep.reply(ep.pick("ask_which_hotel"))
        now = missing[: rng.choice((0, len(missing)))]
        ep.user(
            "，".join(
                [ep.pick("hotel_later", ref=reference(ep, index, allow_focus=False)), *detail_parts(ep, wish, now)]
            )
        )
        missing = [m for m in missing if m not in now]
    ep.focus = index
    asked_between = False
    while missing:
        ep.reply(ep.pick("ask_missing", missing=_missing_text(ep, missing)))
        if not asked_between and rng.random() < 0.15:
            asked_between = True
            record = shown[index]
            field = rng.choice([f for f in FIELDS if record.get(f) not in (None, "")])
            ep.user(ep.pick(f"ask_{field}", ref=rng.choice(ep.p.words["demonstratives"])))
            ep.reply(_field_answer(ep, record, field) + ep.pick("ask_missing", missing=_missing_text(ep, missing)))
        now = missing[: rng.choice(range(1, len(missing) + 1))]
        parts = detail_parts(ep, wish, now)
        missing = [m for m in missing if m not in now]
        if not missing and "nights" not in now and rng.random() < 0.2:  # the nights said before change
            nights = rng.choice([n for n in (1, 2, 3, 4, 5) if n != wish.nights])
            wish = Wish(wish.guest, wish.date_text, nights, nights_text(ep, nights))
            parts.append(ep.pick("change_nights", nights=wish.nights_text))
        ep.user(ep.pick("details_later", details="，".join(parts)))
    result = ep.book(wish.call(shown[index]["name"]), confirm=_confirm(ep))
    answer_result(ep, result)
    ep.skills.append("booking: details over several turns")
    return result


def after_declined(ep: Episode, wish: Wish, hotel: str) -> None:
    """A declined confirmation, then one detail changed (the date or the nights) and booked."""
    rng = ep.rng
    if rng.random() < 0.5:
        day = ep.today + dt.timedelta(days=rng.randrange(1, 40))
        wish = Wish(wish.guest, rng.choice(date_texts(day, ep.today)), wish.nights, wish.nights_text)
        ep.user(ep.pick("change_date", date=wish.date_text))
    else:
        nights = rng.choice([n for n in (1, 2, 3, 4, 5) if n != wish.nights])
        wish = Wish(wish.guest, wish.date_text, nights, nights_text(ep, nights))
        ep.user(ep.pick("change_nights", nights=wish.nights_text))
    answer_result(ep, ep.book(wish.call(hotel)))
    ep.skills.append("booking: changed after declining")


def book_with_error(ep: Episode) -> None:
    """A booking the tool refuses (a past, impossible or far-off date; zero nights; an unknown or ambiguous hotel),
    the reply naming what to fix, and usually the corrected booking."""
    rng = ep.rng
    kind = rng.choice(("past", "impossible", "far", "zero_nights", "unknown_hotel", "ambiguous_hotel"))
    wish = draw_wish(ep)
    if kind in ("unknown_hotel", "ambiguous_hotel"):
        hotel = _fake_hotel(ep) if kind == "unknown_hotel" else rng.choice(CHAINS)
        order = rng.sample(["check_in", "nights", "guest"], 3)
        ep.user("，".join([ep.pick("book_heads", ref=hotel), *detail_parts(ep, wish, order)]))
        result = ep.book(wish.call(hotel))
        answer_result(ep, result)
        ep.skills.append(f"booking refused: {kind.replace('_', ' ')}")
        if kind == "ambiguous_hotel" and "error" in result and rng.random() < 0.8:
            options = str(result["error"])
            choice = options[options.index("(") + 1 :].split("、")[0]
            ep.user(ep.pick("hotel_later", ref=choice))
            answer_result(ep, ep.book(wish.call(choice)))
            ep.skills.append("booking: hotel named after an ambiguous name")
        return
    if not ep.shown:
        first_search(ep)
    shown = ep.shown
    index = rng.randrange(len(shown))
    if kind == "zero_nights":
        bad = Wish(wish.guest, wish.date_text, 0, nights_text(ep, 0))
    else:
        bad = Wish(wish.guest, _bad_date(ep, kind), wish.nights, wish.nights_text)
    order = rng.sample(["check_in", "nights", "guest"], 3)
    ep.user("，".join([ep.pick("book_heads", ref=reference(ep, index)), *detail_parts(ep, bad, order)]))
    result = ep.book(bad.call(shown[index]["name"]))
    if "error" not in result:
        raise GenerationError(f"a {kind} booking was accepted: {bad}")
    answer_result(ep, result)
    ep.skills.append(f"booking refused: {kind.replace('_', ' ')}")
    if rng.random() < 0.85:
        if kind == "zero_nights":
            ep.user(ep.pick("details_later", details=ep.pick("detail_nights", nights=wish.nights_text)))
        else:
            ep.user(ep.pick("change_date", date=wish.date_text))
        answer_result(ep, ep.book(wish.call(shown[index]["name"])))
        ep.skills.append("booking: corrected after a refusal")


def _bad_date(ep: Episode, kind: str) -> str:
    rng, today = ep.rng, ep.today
    if kind == "past":
        day = today - dt.timedelta(days=rng.randrange(30, 400))
        return f"{day.year}年{day.month}月{day.day}日"
    if kind == "far":
        day = today + dt.timedelta(days=rng.randrange(400, 800))
        return f"{day.year}年{day.month}月{day.day}日"
    return rng.choice(("2月30日", "2月31日", "4月31日", "6月31号", "9月31日", "11月31号", "13月2日"))


def _fake_hotel(ep: Episode) -> str:
    for _ in range(50):
        name = ep.rng.choice(FAKE_HEADS) + ep.rng.choice(FAKE_TAILS)
        if not ep.world.store.find_by_name(name):
            return name
    raise GenerationError("every made-up hotel name matches a real hotel")


def book_by_name(ep: Episode) -> None:
    """帮我订<full name>，…: a hotel named in full with no search before; the loop finds it in the database."""
    record = random_hotel(ep)
    wish = draw_wish(ep)
    order = ep.rng.sample(["check_in", "nights", "guest"], 3)
    ep.user("，".join([ep.pick("book_heads", ref=record["name"]), *detail_parts(ep, wish, order)]))
    answer_result(ep, ep.book(wish.call(record["name"])))
    ep.skills.append("booking: a hotel named in full")


# --- cancelling ----------------------------------------------------------------------------------------------


def cancel_latest(ep: Episode) -> None:
    """取消刚才的预订 → cancel_booking of the latest active booking (or, with none, say there is nothing to cancel)."""
    ep.user(ep.pick("cancel_latest"))
    active = ep.ledger.active()
    if not active:
        ep.reply(ep.pick("nothing_to_cancel"))
        ep.skills.append("cancel: nothing to cancel")
        return
    result = ep.cancel(active[-1].id, confirm=ep.rng.random() >= 0.15)
    answer_result(ep, result)
    ep.skills.append("cancel" + (" (declined)" if "error" in result else ""))


def cancel_by_number(ep: Episode) -> None:
    active = ep.ledger.active()
    booking = ep.rng.choice(active)
    ep.user(ep.pick("cancel_by_number", id=booking.id))
    answer_result(ep, ep.cancel(booking.id))
    ep.skills.append("cancel: one of two by its number")


def rebook_other(ep: Episode, booking: Mapping[str, Any]) -> None:
    """After a cancellation: 改订第二家，其他不变 → book_hotel with the earlier guest, date (as the result gave it) and nights."""
    shown = ep.shown
    others = [i for i, r in enumerate(shown) if r["name"] != booking["hotel"]]
    if not others:
        return
    index = ep.rng.choice(others)
    ep.user(ep.pick("rebook", ref=reference(ep, index, allow_focus=False)))
    call = {
        "hotel": shown[index]["name"],
        "guest": booking["guest"],
        "check_in": booking["check_in"],
        "nights": booking["nights"],
    }
    answer_result(ep, ep.book(call))
    ep.skills.append("booking: another hotel after cancelling")


# --- fallbacks and closings ----------------------------------------------------------------------------------


def unclear(ep: Episode) -> None:
    """Filler, gibberish, a greeting or an off-topic line: a short clarifying question, never a search or a goodbye."""
    rng, words = ep.rng, ep.p.words
    kind = rng.choice(("filler", "filler", "particles", "punctuation", "greeting", "off_topic"))
    if kind == "filler":
        text = "".join(rng.choice(words["fillers"]) * rng.choice((1, 2, 3)) for _ in range(rng.randint(2, 4)))
        answer = "clarify_unclear"
    elif kind == "particles":
        text = "".join(rng.sample(list(words["particles"]), rng.randint(3, 6)))
        answer = "clarify_unclear"
    elif kind == "punctuation":
        text = rng.choice(("？", "。", "…", "！", "?")) * rng.randint(2, 4)
        answer = "clarify_unclear"
    elif kind == "greeting":
        text, answer = ep.pick("greetings"), "clarify_greeting"
    else:
        text, answer = ep.pick("off_topic"), "clarify_off_topic"
    ep.user(text)
    ep.reply(ep.pick(answer))
    ep.skills.append("clarifying question")


def not_chinese(ep: Episode) -> None:
    """English or a Latin keyboard mash: one line saying the agent speaks Chinese, with an example."""
    rng = ep.rng
    if rng.random() < 0.7:
        text = ep.pick("english")
    else:
        text = "".join(rng.choice("asdfghjklqwertyuiopzxcvbnm") for _ in range(rng.randint(4, 10)))
    ep.user(text)
    ep.reply(ep.pick("chinese_only"))
    ep.skills.append("Chinese-only notice")


def closing(ep: Episode) -> None:
    """Thanks and goodbye: 祝您入住愉快 only when something is booked (the loop counts it as a booking claim)."""
    ep.user(ep.pick("thanks"))
    ep.reply(ep.pick("closing_booked" if ep.ledger.active() else "closing_no_booking"))
    ep.skills.append("closing")
