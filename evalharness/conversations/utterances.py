"""What the simulated user says: template phrasings with varied wording, the project's own.

Kept apart on purpose from the conversation suites' lines (evalharness/suites/) and from any training data
(issue 18's `finetune augment` must not copy these): an agent tuned on them would be graded on what it
memorised. Each function picks one phrasing with the caller's seeded `random.Random`."""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Mapping, Sequence

from evalharness.conversations.goals import BookingWish, Change, Constraints

CN_DIGITS = "零一二三四五六七八九十"
WEEKDAYS = "一二三四五六日"


def cn_number(n: int) -> str:
    """1-10 in Chinese numerals, 两 for 2 (两晚)."""
    return "两" if n == 2 else CN_DIGITS[n] if 0 <= n <= 10 else str(n)


# ---- constraints --------------------------------------------------------------------------------------------


def constraint_phrases(constraints: Constraints, keys: Sequence[str], rng: random.Random) -> list[str]:
    """One short phrase per constraint key, to be joined into a request."""
    phrases = []
    for key in keys:
        value = getattr(constraints, key)
        if key == "type":
            phrases.append(rng.choice((f"{value}", f"{value}", f"类型是{value}")))
        elif key == "price_upper":
            phrases.append(rng.choice((f"每晚{value}元以内", f"价格不超过{value}块", f"{value}元以下")))
        elif key == "price_lower":
            phrases.append(rng.choice((f"价格{value}元以上", f"每晚不低于{value}元")))
        elif key == "rating_lower":
            rating = f"{value:g}"
            phrases.append(rng.choice((f"评分{rating}以上", f"评分不低于{rating}分", f"评分至少{rating}分")))
        elif key == "facilities":
            for facility in value:
                phrases.append(rng.choice((f"带{facility}", f"有{facility}", f"提供{facility}")))
        elif key == "near":
            phrases.append(rng.choice((f"在{value}附近", f"离{value}近一些")))
    return phrases


def first_request(phrases: Sequence[str], rng: random.Random) -> str:
    listed = "、".join(phrases)
    commas = "，".join(phrases)
    return rng.choice(
        (
            f"你好，我想找{listed}的酒店",
            f"麻烦推荐一下{listed}的酒店",
            f"请问能找到{listed}的酒店吗",
            f"我在找酒店，要求：{commas}",
            f"想订间房，{commas}，有合适的吗",
        )
    )


def add_constraint(phrases: Sequence[str], rng: random.Random) -> str:
    listed = "，".join(phrases)
    return rng.choice((f"另外，还要{listed}", f"忘了说，最好{listed}", f"再加一个条件：{listed}"))


def restate(phrases: Sequence[str], rng: random.Random) -> str:
    listed = "、".join(phrases)
    return rng.choice((f"这些不太合适，我要的是{listed}的酒店", f"不对，我要找{listed}的"))


def change_of_mind(change: Change, constraints: Constraints, rng: random.Random) -> str:
    if change.key == "type":
        return rng.choice((f"我改主意了，换成{constraints.type}吧", f"还是看看{constraints.type}的吧"))
    if change.key == "price_upper":
        return rng.choice(("那价格不限了", "价格不限，再帮我找找", "不限价格吧"))
    return rng.choice(("评分无所谓了", "评分不限，再找找看"))


# ---- references to a shown hotel ------------------------------------------------------------------------------


def ordinal(index: int, count: int, rng: random.Random) -> str:
    if index == count - 1 and count > 1 and rng.random() < 0.3:
        return rng.choice(("最后一家", "最后那个"))
    return rng.choice((f"第{CN_DIGITS[index + 1]}家", f"第{CN_DIGITS[index + 1]}个"))


def short_name(name: str, shown_names: Sequence[str], rng: random.Random) -> str:
    """A shorter form of a hotel's name that still names only it among those shown: without 北京, or without the
    branch in brackets; the full name when no shorter form is unique."""
    forms = []
    without_city = name.removeprefix("北京")
    if without_city != name and len(without_city) >= 3:
        forms.append(without_city)
    brand = re.sub(r"[(（].*?[)）]", "", name).removeprefix("北京")
    if brand != without_city and len(brand) >= 3:
        forms.append(brand)
    unique = [f for f in forms if sum(f in other for other in shown_names) == 1]
    return rng.choice(unique) if unique else name


def again(rng: random.Random) -> str:
    """A later reference to the hotel already talked about."""
    return rng.choice(("这家", "它", "这个酒店", "刚才那家"))


# ---- questions ----------------------------------------------------------------------------------------------


def ask(field: str, ref: str, rng: random.Random) -> str:
    of = ref
    options: Mapping[str, Sequence[str]] = {
        "phone": (f"{of}的电话是多少", f"{of}的联系电话给我一下", f"怎么联系{of}，电话多少"),
        "address": (f"{of}在哪儿", f"{of}的具体地址是？", f"{of}地址在什么地方"),
        "subway": (f"{of}附近是哪个地铁站", f"去{of}坐地铁在哪站下"),
        "price": (f"{of}一晚上多少钱", f"{of}房价多少"),
        "rating": (f"{of}的评分怎么样", f"{of}评分几分"),
    }
    return rng.choice(options[field])


# ---- booking ------------------------------------------------------------------------------------------------


def date_text(day: dt.date, today: dt.date, rng: random.Random) -> str:
    """A check-in date as a person writes it; relative forms only where they name exactly this day."""
    options = [f"{day.month}月{day.day}日", f"{day.month}月{day.day}号", f"{day.year}年{day.month}月{day.day}日"]
    offset = (day - today).days
    relative = {0: "今天", 1: "明天", 2: "后天", 3: "大后天"}
    if offset in relative:
        options += [relative[offset]] * 2
    next_monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=7)
    if next_monday <= day < next_monday + dt.timedelta(days=7):
        options.append(f"下周{WEEKDAYS[day.weekday()]}")
    return rng.choice(options)


def nights_text(nights: int, rng: random.Random) -> str:
    return rng.choice((f"{cn_number(nights)}晚", f"{nights}晚", f"{cn_number(nights)}个晚上"))


def book_all(ref: str, wish: BookingWish, date: str, nights: str, rng: random.Random) -> str:
    guest = wish.guest
    return rng.choice(
        (
            f"就{ref}了，帮我订{date}入住，住{nights}，入住人是{guest}",
            f"{ref}不错，订它吧：{date}入住，住{nights}，名字写{guest}",
            f"麻烦帮我订{ref}，入住人{guest}，{date}入住，一共住{nights}",
            f"我要预订{ref}，{date}入住，住{nights}，客人叫{guest}",
        )
    )


def book_start(ref: str, given: Sequence[str], rng: random.Random) -> str:
    """Asking to book with only some details (`given`: phrases for them)."""
    head = rng.choice((f"我想订{ref}", f"帮我预订{ref}", f"{ref}挺好，就订这家吧"))
    return "，".join((head, *given))


def slot_phrase(slot: str, wish: BookingWish, date: str, nights: str, rng: random.Random) -> str:
    if slot == "guest":
        return rng.choice((f"入住人写{wish.guest}", f"我叫{wish.guest}", f"名字是{wish.guest}"))
    if slot == "check_in":
        return rng.choice((f"{date}入住", f"入住日期是{date}"))
    return rng.choice((f"住{nights}", f"一共{nights}"))


def slot_answer(phrases: Sequence[str], rng: random.Random) -> str:
    joined = "，".join(phrases)
    return rng.choice((joined, f"好的，{joined}", f"嗯，{joined}"))


def retry_booking(name: str, wish: BookingWish, date: str, nights: str, rng: random.Random) -> str:
    """Every detail again, after the agent proposed nothing."""
    return rng.choice(
        (
            f"请帮我预订{name}：{date}入住，住{nights}，入住人{wish.guest}",
            f"我再说一遍：订{name}，入住人{wish.guest}，{date}入住，住{nights}",
        )
    )


def correct_booking(name: str, wish: BookingWish, date: str, nights: str, rng: random.Random) -> str:
    """Every detail again, after declining a proposal that got some of them wrong."""
    return rng.choice(
        (
            f"不对，订{name}，{date}入住，住{nights}，入住人{wish.guest}",
            f"信息有误，应该是{name}，入住人{wish.guest}，{date}入住，住{nights}",
        )
    )


def cancel(rng: random.Random) -> str:
    return rng.choice(("帮我把刚订的取消", "刚才的预订不要了，取消吧", "取消这个预订"))


def goodbye(rng: random.Random) -> str:
    return rng.choice(("好的，谢谢", "没有别的了，谢谢", "行，再见"))
