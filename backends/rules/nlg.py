"""Replies grounded in the records in context, phrased the way the train replies are.

Mining turns every train reply into a template: the names of the records it talks about become {n0},
{n1}, ... and their phone, address, subway, price and rating become {phone0}, {address0}, ... A reply
whose text keeps a fact we cannot place (a name or number not in its records) is dropped, so a filled
template never states what the records do not say. Templates are grouped by the situation (a search just
returned k records, relaxed or not, asked by name; or a follow-up of a given kind), and for each group we
keep the template closest on average to all the others (the medoid under character BLEU): the phrasing
that scores best against replies we have not seen."""

from __future__ import annotations

import functools
import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from agent.core.turns import Dialogue, ReturnTurn, SearchTurn
from backends.rules.facts import has_fact, unknown_fact
from backends.rules.places import near_reply

_PLACEHOLDER = re.compile(r"\{(n|phone|address|subway|price|rating)(\d)\}")


# ---- the situation a reply answers -------------------------------------------------------------------


def unmet(record: dict[str, Any], arguments: dict[str, Any]) -> list[str]:
    """The constraints a record surely does not meet: type, price, rating, and facilities named in the
    database's own words (the user's colloquial phrases cannot be checked against a record's list)."""
    failed = []
    if "type" in arguments and record.get("type") != arguments["type"]:
        failed.append("type")
    for key in ("price", "rating"):
        value = record.get(key)
        lower, upper = arguments.get(key + "_range_lower"), arguments.get(key + "_range_upper")
        if lower is None and upper is None:
            continue
        # The direction is part of it: "价格比您要求的高一些" must not be said of a cheaper hotel.
        if not isinstance(value, (int, float)) or value < 0:
            failed.append(key)
        elif lower is not None and value < float(lower):
            failed.append(key + "_low")
        elif upper is not None and value > float(upper):
            failed.append(key + "_high")
    if any(_surely_lacks(record, phrase) for phrase in arguments.get("facilities") or []):
        failed.append("facilities")
    return failed


@functools.lru_cache(maxsize=1)
def database_facilities() -> tuple[str, ...]:
    import json

    from agent.core.datafiles import HOTEL_DB, data_path

    db = json.loads(data_path(HOTEL_DB).read_text(encoding="utf-8"))
    return tuple(sorted({f.strip() for _, r in db for f in r["酒店设施"] if f.strip()}))


def _surely_lacks(record: dict[str, Any], phrase: str) -> bool:
    """True only when the phrase is the database's own wording of facilities (吹风机, 棋牌室, wifi) and the
    record has none of them; colloquial phrases cannot be checked this way."""
    named = [f for f in database_facilities() if phrase.lower() in f.lower()]
    return bool(named) and not any(f in (record.get("facilities") or []) for f in named)


def reply_kind(user: str, shown: list[dict[str, Any]]) -> str:
    """The kind of follow-up a user message is (for a reply without a new search)."""
    from backends.rules.nlu import ATTRIBUTE_WORDS, BYE, CHOICE, COMPARE, THANKS

    if CHOICE.search(user) and not re.search(r"[吗？?]", user):
        return "choice"
    if COMPARE.search(user) and len(shown) > 1:
        for attribute in ("rating", "price", "subway", "phone"):
            if any(w in user for w in ATTRIBUTE_WORDS[attribute]) or (attribute == "price" and "便宜" in user):
                return "compare-" + attribute
        return "compare"
    if "地铁" in re.sub(r"[(（][^)）]*[)）]|地铁站店", "", user):
        return "ask-subway"  # 坐地铁在哪站下 asks for the station, though 在哪 asks for an address elsewhere
    for attribute, words in ATTRIBUTE_WORDS.items():
        if any(w in user for w in words):
            return "ask-" + attribute
    if THANKS.search(user) or BYE.search(user):
        return "bye"
    if re.search(r"有没有|有.*[吗么]|提供|能不能|可以", user):
        return "ask-facility"
    if re.search(r"[吗么？?]|哪|什么|怎么|多少", user):
        return "question"
    return "other"


def situation(dialogue: Dialogue, referenced: list[int] | None = None) -> tuple[str, list[dict[str, Any]]]:
    """(group key, the records the reply is about, in the order placeholders refer to them). `referenced`: the
    shown rows the user's message points at (第二家, 这家 with a hotel in focus), when the caller resolved them;
    without it, the rows the message names."""
    turns = dialogue.turns
    if turns and isinstance(turns[-1], ReturnTurn):
        records = turns[-1].records[:3]
        arguments = dialogue.last_search() or {}
        if not records:
            shown = Dialogue(turns[:-2]).last_records()[:3]
            if shown and len([t for t in turns if isinstance(t, SearchTurn)]) > 1:
                # A follow-up question became a search that found nothing: the data then answers the
                # question about the hotels already shown.
                key, records = _followup(dialogue.last_user_text(), shown)
                return "q0_" + key, records
            return "ret0", []
        if "name" in arguments:
            return f"ret{len(records)}-name", list(records)
        failed = sorted({f for r in records for f in unmet(r, arguments)})
        # Which constraint was relaxed is part of the key: a template that says 评分不够 must not be
        # used where the price was the one relaxed.
        return f"ret{len(records)}{'-relaxed_' + '_'.join(failed) if failed else ''}", list(records)
    return _followup(dialogue.last_user_text(), dialogue.last_records()[:3], referenced)


def _followup(
    user: str, shown: list[dict[str, Any]], referenced: list[int] | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """A follow-up about the records shown: its kind, and the records with those it names first."""
    if referenced is not None:
        mentioned = [shown[i] for i in referenced if i < len(shown)]
    else:
        mentioned = [r for r in shown if _mentions(user, r["name"])]
    kind = reply_kind(user, shown)
    records = mentioned + [r for r in shown if r not in mentioned]
    if referenced is not None and len(mentioned) > 1 and kind.startswith("compare"):
        records = mentioned  # 第一家和第二家哪个便宜？ compares those two, not the whole table
    # Comparisons refer to records by rank, so a template saying "{n0} is higher" stays true.
    if kind == "compare-rating":
        records.sort(key=lambda r: -(r.get("rating") or 0))
    elif kind == "compare-price":
        records.sort(key=lambda r: r["price"] if isinstance(r.get("price"), (int, float)) and r["price"] > 0 else 1e9)
    many = "many" if len(shown) > 1 and not mentioned else "one"
    # Replies echo how the user referred to the hotel (这家酒店的价格是… / 这个酒店的价格是…).
    reference = next(
        (word for word in ("这家", "这个", "他家", "它家", "该酒店") if word in user), "name" if mentioned else "none"
    )
    return f"{kind}-{many}-{reference}", records


def _mentions(text: str, name: str) -> bool:
    base = re.sub(r"[(（].*?[)）]", "", name)
    return name in text or (len(base) >= 4 and base in text and base != name)


# ---- templates ---------------------------------------------------------------------------------------


def _format_number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_FACILITY_WORDS = (
    "wifi",
    "WIFI",
    "网",
    "热水",
    "餐厅",
    "会议室",
    "健身",
    "无烟",
    "商务中心",
    "接站",
    "接机",
    "洗衣",
    "寄存",
    "叫醒",
    "唤醒",
    "暖气",
    "早餐",
    "外宾",
    "残疾",
    "租车",
    "长途",
    "市内电话",
    "酒吧",
    "棋牌",
    "泳",
    "桑拿",
    "SPA",
    "停车",
    "看护",
    "温泉",
    "吹风",
    "设施",
    "经济",
    "舒适",
    "高档",
    "豪华",
)
# (also: claims that something was booked or done, which only the booking flow may say)
_UNGROUNDED = re.compile("|".join(_FACILITY_WORDS) + "|wi-?fi|预定了|预订了|订好|已经帮|已为您|已经为您", re.I)
# ...and must not claim the hotel fits after all (有您需要的服务 / 其他方面都可以满足).
_CLAIMS_FIT = re.compile(r"(?<![没不无未])(满足|有您需要|有你需要|符合您的要求|都符合)")
# A reply to a relaxed search must say so: its template needs one of these words.
_HONEST = re.compile(r"抱歉|不好意思|报歉|遗憾|没有|没找到|不过|但|只是|稍|不是|不太|略|接近")
# What a relaxed reply may talk about: only the constraints that were actually relaxed.
_TOPIC_WORDS = {"price": re.compile(r"价|贵|便宜|元"), "rating": re.compile(r"评分|分")}
# Superlatives we cannot check outside a ranked comparison.
_SUPERLATIVE = re.compile(r"最(高|低|优惠|便宜|贵|好|近)")


def make_template(reply: str, records: list[dict[str, Any]]) -> str | None:
    """`reply` with the records' names and attributes replaced by placeholders; None when the reply
    states a hotel name or a number that none of its records carries (it would not transfer)."""
    template = reply
    replacements: list[tuple[str, str]] = []
    for i, record in enumerate(records):
        name = record.get("name") or ""
        if name:
            replacements.append((name, f"{{n{i}}}"))
        for field_name in ("phone", "address", "subway"):
            value = record.get(field_name)
            if isinstance(value, str) and len(value) >= 3:
                replacements.append((value, f"{{{field_name}{i}}}"))
    for value, placeholder in sorted(replacements, key=lambda p: -len(p[0])):
        template = template.replace(value, placeholder)
    for i, record in enumerate(records):  # numbers last, so they do not break names or phones apart
        for field_name in ("price", "rating"):
            value = record.get(field_name)
            if isinstance(value, (int, float)) and value > 0:
                text = _format_number(value)
                template = re.sub(rf"(?<![\d.{{]){re.escape(text)}(?![\d.])", f"{{{field_name}{i}}}", template, count=1)
    stripped = _PLACEHOLDER.sub("", template)
    if _UNGROUNDED.search(stripped):
        return None  # names a facility or type we would not check against the new records
    if re.search(r"\d", stripped) or re.search(r"(酒店|饭店|宾馆|公寓|客栈|旅馆)[(（]", stripped):
        return None
    if re.search(r"[\u4e00-\u9fff]{2,}(大酒店|饭店|宾馆|公寓|客栈|旅舍|旅馆)", stripped):
        return None
    return template


def in_table_order(template: str) -> str:
    """The template with its records renumbered by first mention, so a reply that lists several hotels lists
    them in the order of the results table ("第二家" in the reply is the table's second row). Only for templates
    whose records play the same part (a search's results); every field of a record moves with its name."""
    order: list[str] = []
    for m in _PLACEHOLDER.finditer(template):
        if m.group(2) not in order:
            order.append(m.group(2))
    mapping = {old: str(new) for new, old in enumerate(order)}
    return _PLACEHOLDER.sub(lambda m: "{" + m.group(1) + mapping[m.group(2)] + "}", template)


def fill(template: str, records: list[dict[str, Any]]) -> str | None:
    """The template with the records' values; None when it needs a record or value that is not there."""
    out = []
    pos = 0
    for m in _PLACEHOLDER.finditer(template):
        kind, index = m.group(1), int(m.group(2))
        if index >= len(records):
            return None
        value = records[index].get("name" if kind == "n" else kind)
        if (
            value is None
            or value == ""
            or (kind in ("price", "rating") and (not isinstance(value, (int, float)) or value <= 0))
        ):
            return None
        out.append(template[pos : m.start()])
        out.append(_format_number(value) if kind in ("price", "rating") else str(value))
        pos = m.end()
    out.append(template[pos:])
    return "".join(out)


def reply_example(context: Dialogue, reply: str) -> dict[str, Any] | None:
    """What mining keeps of one train reply: its situation key and template (or None)."""
    key, records = situation(context)
    template = make_template(reply, records)
    if template is None or (not key.startswith("compare") and _SUPERLATIVE.search(template)):
        return None
    if "relaxed" in key:
        relaxed = key.split("relaxed_", 1)[1]
        if not _HONEST.search(template) or _CLAIMS_FIT.search(template):
            return None
        text = _PLACEHOLDER.sub("", template)
        if any(words.search(text) and topic not in relaxed for topic, words in _TOPIC_WORDS.items()):
            return None
    return {"key": key, "template": template}


@dataclass(frozen=True)
class TemplateBank:
    """For each situation key, templates best first."""

    by_key: dict[str, list[str]]

    @classmethod
    def from_examples(cls, examples: Iterable[dict[str, Any]], keep: int = 8) -> TemplateBank:
        groups: dict[str, list[str]] = defaultdict(list)
        for example in examples:
            parts = example["key"].split("-")
            for n in range(len(parts), 0, -1):  # also under each coarser key, for unseen situations
                groups["-".join(parts[:n])].append(example["template"])
        return cls({key: _medoids(templates, keep) for key, templates in groups.items()})


def _medoids(templates: list[str], keep: int) -> list[str]:
    """Templates ordered by mean character BLEU-4 (the course's metric: NLTK sentence_bleu, method3
    smoothing) against the whole group, with placeholders rendered as fixed names."""

    def render(t: str) -> str:
        return _PLACEHOLDER.sub(lambda m: "北京某某大酒店" if m.group(1) == "n" else "某值", t)

    counts: dict[str, int] = defaultdict(int)
    for t in templates:
        counts[t] += 1
    candidates = sorted(counts, key=lambda t: -counts[t])[:30]
    references = [(_ngrams(render(t)), len(render(t)), weight) for t, weight in counts.items()]
    total = sum(counts.values())
    scored = []
    for t in candidates:
        hyp = render(t)
        grams = _ngrams(hyp)
        score = sum(weight * _bleu4(grams, len(hyp), ref, length) for ref, length, weight in references)
        scored.append((score / total, t))
    scored.sort(key=lambda p: -p[0])
    return [t for _, t in scored[:keep]]


def _ngrams(text: str) -> list[dict[tuple[str, ...], int]]:
    out = []
    for n in range(1, 5):
        grams: dict[tuple[str, ...], int] = defaultdict(int)
        for i in range(len(text) - n + 1):
            grams[tuple(text[i : i + n])] += 1
        out.append(grams)
    return out


def _bleu4(hyp: list[dict], hyp_len: int, ref: list[dict], ref_len: int) -> float:
    """Character BLEU-4 from precomputed n-gram counts, as NLTK's sentence_bleu with method3 computes it
    (the evaluation harness holds the reference implementation; backends may not import it)."""
    if not hyp_len or not ref_len:
        return 0.0
    log_sum, k = 0.0, 1
    for n in range(4):
        denominator = max(1, hyp_len - n)
        numerator = sum(min(c, ref[n].get(g, 0)) for g, c in hyp[n].items())
        if n == 0 and numerator == 0:
            return 0.0
        if numerator == 0:
            precision = 1 / (2**k * denominator)
            k += 1
        else:
            precision = numerator / denominator
        log_sum += 0.25 * math.log(precision)
    brevity = 1.0 if hyp_len > ref_len else math.exp(1 - ref_len / hyp_len)
    return brevity * math.exp(log_sum)


# ---- generation --------------------------------------------------------------------------------------

_FALLBACK = {
    "ret0": "抱歉，没有找到符合您要求的酒店，您可以换个条件试试。",
    "choice": "好的，祝您入住愉快！",
    "bye": "不客气，有需要随时找我，再见！",
}
# Farewells that presume a booking (the data's 好的，祝您入住愉快！ after a decision): said only when one was made.
PRESUMES_BOOKING = re.compile(r"入住愉快|预[订定](?:成功|好了)|已.{0,4}预[订定]|订好了|帮您预[订定]")
_NOT_BOOKED = "好的，还没有为您预订。如需预订，请告诉我要订哪家，以及入住人姓名、入住日期和住几晚。"


def facility_answer(phrases: list[str], records: list[dict[str, Any]], user: str) -> str | None:
    """Answer 有没有X / 哪家有X from the records' own facility lists (never from the question)."""
    if not records:
        return None
    if not phrases:
        if re.search(r"什么设施|哪些设施|其他设施|设施有哪些", user):
            return "这家酒店提供的设施有" + "、".join(records[0].get("facilities") or []) + "。"
        return None
    from backends.rules.facility_check import facility_answer as answer  # the store's facility map: loaded once

    return answer(phrases, records, user)


_YES = re.compile(r"^(是的|是呀|是啊|对的|对|有的|当然|必须的|没错)")
_NO = re.compile(r"^(不是|没有|不|抱歉|不好意思|报歉|很遗憾|非常遗憾)")
_ASKED_FIELDS = ("phone", "address", "price", "rating", "subway")


def polarity(template: str) -> str | None:
    """'yes' / 'no' when a template opens by confirming or denying, else None."""
    if _YES.search(template):
        return "yes"
    if _NO.search(template):
        return "no"
    return None


def question_truth(user: str, record: dict[str, Any]) -> str | None:
    """Whether the record meets what a yes/no question asks (是经济型吗 / 评分4.5分以上吗 / 价格是300-400吗);
    None when the question sets no checkable condition."""
    from backends.rules.nlu import find_type
    from backends.rules.numbers import parse_price, parse_rating

    conditions: dict[str, Any] = {}
    asked_type = find_type(user)
    if asked_type:
        conditions["type"] = asked_type
    for key, parse in (("price", parse_price), ("rating", parse_rating)):
        bounds = parse(user)
        if bounds:
            conditions.update(bounds.items(key))
    if not conditions:
        return None
    return "no" if unmet(record, conditions) else "yes"


def _acceptable(template: str, kind: str, truth: str | None) -> bool:
    """A template may answer only if its yes/no matches the records and it gives the field asked for."""
    stance = polarity(template)
    if stance is not None and stance != truth:
        return False
    parts = kind.split("-")
    if parts[0] == "ask" and len(parts) > 1 and parts[1] in _ASKED_FIELDS:
        return "{" + parts[1] in template
    return True


def _summary(record: dict[str, Any]) -> str:
    facts = [f"{record['name']}是{record['type']}酒店" if record.get("type") else record["name"]]
    if isinstance(record.get("price"), (int, float)) and record["price"] > 0:
        facts.append(f"价格是{_format_number(record['price'])}元")
    if isinstance(record.get("rating"), (int, float)):
        facts.append(f"评分是{_format_number(record['rating'])}分")
    return "，".join(facts) + "。"


_ASKS_DETAILS = re.compile(r"(地址|电话).{0,8}(告诉|给我|发我|一起|一并|说说)|(告诉我|给我|说说).{0,8}(地址|电话)")
_DETAIL_WORDS = (("address", "地址", "地址是{}"), ("phone", "电话", "电话是{}"))


def _requested_details(user: str, record: dict[str, Any], text: str) -> str:
    """The address / phone the user asked for along with the search (把地址、电话一起告诉我)."""
    if not _ASKS_DETAILS.search(re.sub(r"(国际|长途|市内|本地|国内)[^，。？]{0,4}电话", "", user)):
        return ""
    details = [
        form.format(record[field])
        for field, word, form in _DETAIL_WORDS
        if word in user and record.get(field) and str(record[field]) not in text
    ]
    return ("，".join(details) + "。") if details else ""


def generate(
    dialogue: Dialogue,
    bank: TemplateBank,
    facilities: list[str] | None = None,
    referenced: list[int] | None = None,
    *,
    name_hotel: bool = False,
    booked: bool = True,
) -> str:
    """The reply for the dialogue's situation. `referenced`: the shown rows the user pointed at (see
    `situation`); `name_hotel`: prefer a phrasing that names the hotel (the user counted rows: 第二家的电话？);
    `booked`: False when no reply may presume a booking (none was made)."""
    near = near_reply(dialogue, unmet)  # a search near a place just returned: its own wording (no train reply has one)
    if near is not None:
        return near
    key, records = situation(dialogue, referenced)
    kind = key[3:] if key.startswith("q0_") else key
    user = dialogue.last_user_text()
    if kind.startswith("ask-facility") or (kind.startswith(("ask-", "other", "compare")) and facilities):
        answer = facility_answer(list(facilities or []), records, user)
        if answer:
            return answer
    answers_question = key.startswith("q0_") or not key.startswith("ret")
    asked = kind.split("-")[1] if kind.startswith("ask-") else ""
    if answers_question and records and asked in _ASKED_FIELDS and not has_fact(records[0], asked):
        # 多少钱一晚 of a hotel the data has no price for: say so, never another fact in its place.
        return unknown_fact(records[0], asked)
    truth = question_truth(user, records[0]) if answers_question and records else None
    for candidate_key in _fallback_keys(key):
        templates = bank.by_key.get(candidate_key, [])
        if name_hotel:
            # 第二家的电话？ is answered naming the hotel, so the user sees which row was meant.
            templates = sorted(templates, key=lambda t: "{n0}" not in t)
        for template in templates:
            if answers_question and not _acceptable(template, kind, truth):
                continue
            if not booked and PRESUMES_BOOKING.search(template):
                continue
            text = fill(in_table_order(template) if key.startswith("ret") else template, records)
            if text is not None:
                return text + (_requested_details(user, records[0], text) if key.startswith("ret") and records else "")
    base = key.split("-")[0]
    if "relaxed" in key and records:
        return "抱歉，没有找到完全符合您要求的酒店，推荐您去" + "、".join(r["name"] for r in records) + "。"
    if base in _FALLBACK:
        return _FALLBACK[base] if booked or not PRESUMES_BOOKING.search(_FALLBACK[base]) else _NOT_BOOKED
    if answers_question and records:
        return _summary(records[0])
    if records:
        return "推荐您去" + "、".join(r["name"] for r in records) + "。"
    return _FALLBACK["ret0"]


def _fallback_keys(key: str) -> list[str]:
    """The key itself, then coarser ones (drop -relaxed / -name / the one-or-many part)."""
    parts = key.split("-")
    keys = [key]
    if "relaxed" in key:
        return keys  # a coarser key would hide that the search was relaxed
    for n in range(len(parts) - 1, 0, -1):
        keys.append("-".join(parts[:n]))
    return keys
