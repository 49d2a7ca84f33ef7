"""Booking by chat: a request to book (帮我订第二家 / 我要订这家), its details gathered over the messages that
follow, then one book_hotel call; a request to cancel (取消刚才的预订) becomes one cancel_booking call.

The state is read off the dialogue every time (no memory in the backend): the open request is folded from the user
messages since it began and the results of the calls it led to. A request closes when its booking is done or
declined, when the user drops it (算了 / 不订了), searches again or says goodbye; a result that blames one field
(a past date, nights out of range, a hotel that cannot be told apart) clears that field, so the next question asks
for it again."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from agent.core.dates import small_number
from agent.core.turns import (
    AgentTurn,
    AssistantTurn,
    BookTurn,
    CancelTurn,
    Dialogue,
    ResultTurn,
    ReturnTurn,
    SearchTurn,
    UserTurn,
)
from backends.rules.booking_replies import (
    ask_for,
    bookings_made,
    choose_among,
    found,
    no_such_booking,
    not_found,
    nothing_to_cancel,
    request_dropped,
)
from backends.rules.booking_slots import Details, answers_name, bare_name, find_details
from backends.rules.habits import PERSON_FIRST, Habits
from backends.rules.lexicon import Lexicon
from backends.rules.nlu import constraint_slots, find_name
from backends.rules.references import (
    Reference,
    focus,
    points_at_one,
    resolve,
    short_forms,
    shown_rows,
    without_ordinals,
)

# 帮我订 / 我要预订 / 预定 / 订这家 / 下单 (订 alone, but not 订餐 / 订票 / 订单)
# (预定了 / 订了X: the user booked it already, elsewhere)
# (预定了X: booked already; 那家我订了: a decision)
_BOOK = re.compile(r"(?:预订|预定|(?<![预])订)(?![餐票单])(?!了[^，。！!,.；;\s])|下单|办理入住")
# "I'll take it": 我决定入住X / 我愿意入住这个酒店 / 那就去X吧 / 就定X了 / X可以，我打算入住 (a choice, said as a
# statement: 我想入住的酒店有wifi吗？ is a question).
_DECISION = re.compile(
    r"决定|就(?:选|订|住|要|定|去)|入住|住宿|预订这|预定这|订这|住这|就这家|选这|选择|打算|我会去|那就|定(?:了|吧)"
)
# A question about the hotel (这家的评分是多少？) points at it without choosing it for the booking.
_QUESTION = re.compile(r"[吗么？?]|多少|什么|怎么|哪|几")
# Dropping a request before anything is booked.
_DROP = re.compile(r"算了|不订了|不用订|不要订|先不订|不想订|不预订了|不用了|不要了|再看看|先不用|取消")
# Cancelling a booking that was made.
# (2号订单不要了 / 那个预订不需要了: a booking named and no longer wanted)
# (刚订的这家不需要了 / 订的那家不想要了: what was booked, named by the booking itself)
_CANCEL = re.compile(
    r"取消|退订|退掉|不订了|不要订了|不住了|撤销|(?:预订|预定|订单|房间)[^，。？?]{0,4}(?:不要了|不需要了|不想要了)"
    r"|订的(?:那|这)?[^，。？?]{0,3}(?:不要了|不需要了|不想要了)"
)
_NAMES_A_BOOKING = re.compile(r"刚才|刚订|刚预订|之前|上一个|已经|预订号|订单|\d+\s*号")
# 第一个订单 / 第2笔预订 / 最后一个订单: a booking by its place among those made in this conversation (第二家的预订
# names a hotel row, not a booking, so 家 is left out).
_NTH_BOOKING = re.compile(
    r"(倒数)?第\s*(\d{1,2}|[一二两三四五六七八九十]{1,3})\s*(?:个|笔|张|份)\s*的?(?:预订|预定|订单)"
    r"|(最后)(?:一|那)?(?:个|笔|张|份)\s*的?(?:预订|预定|订单)"
)
_BOOKING_ID = re.compile(
    r"(\d{1,9})\s*号(?:的)?(?:预订|预定|订单)|(?:预订|预定|订单)(?:号|编号)?\s*[#＃]?\s*(\d{1,9})|[#＃](\d{1,9})"
)
# "Go on" while details are missing: not a new request (the front end's confirm callback does the confirming).
# 我的预订有哪些？ / 查看订单: what was booked in this conversation.
# Asking what was booked: 我的预订有哪些 / 查一下订单 / 我订了哪些酒店 / 一共订了几间 / 现在还有预订吗.
_LIST = re.compile(
    r"(?:我的|哪些|查看|查询|看看|看一下|查一下|列出).{0,4}(?:预订|预定|订单)|(?:预订|预定|订单)(?:有哪些|列表|情况|记录|状态)"
    r"|有(?:预订|预定|订单)(?:吗|么|没有?)"
    r"|订了(?:哪|什么|啥|些|几|多少)|订过(?:哪|什么|啥|几)|(?:还有|有没有|有几个|有多少)(?:预订|预定|订单)"
    r"|(?:预订|预定|订单)(?:还在|在不在|还有)"
)
_ACK = re.compile(r"^(?:好的?|好吧|好啊|行|可以|嗯+|对|是的|没问题|ok|OK|确认|确定|订吧|订)[。！!~～.,，]*$")
_CLOSING = re.compile(r"谢谢|多谢|感谢|再见|拜拜|没有(?:其他|别的)?(?:问题|事)了?|就这些")
_FIELDS = ("hotel", "guest", "check_in", "nights")


@dataclass(frozen=True)
class Request:
    """A booking request being filled. `hotel` is a record the user was shown; `name` a hotel the user named but
    was not shown (searched for next); `choices` the rows to pick from when the reference fits several."""

    hotel: dict[str, Any] | None = None
    name: str | None = None
    guest: str | None = None
    check_in: str | None = None
    nights: int | None = None
    choices: tuple[dict[str, Any], ...] = ()
    out_of_range: int | None = None
    not_found: str | None = None  # a name a search found nothing for
    declined: bool = False  # the user said no to the proposal: only a changed detail (日期改成12月2日) reopens it
    past: str | None = None  # a check-in said as a day gone by (上周五): asked for again, saying why

    def missing(self) -> list[str]:
        values = {"hotel": self.hotel, "guest": self.guest, "check_in": self.check_in, "nights": self.nights}
        return [f for f in _FIELDS if values[f] is None]

    def with_details(self, details: Details) -> Request:
        gone = details.past if details.check_in is None else None
        return replace(
            self,
            guest=details.guest or self.guest,
            check_in=None if gone else details.check_in or self.check_in,
            nights=details.nights or self.nights,
            past=gone if gone else None if details.check_in else self.past,
        )

    def with_reference(self, reference: Reference, shown: list[dict[str, Any]], name: str | None) -> Request:
        """The hotel the message points at, when it points at one."""
        if reference.one is not None:
            return replace(self, hotel=shown[reference.one], name=None, choices=(), out_of_range=None, not_found=None)
        if reference.out_of_range is not None:
            return replace(self, hotel=None, out_of_range=reference.out_of_range, choices=tuple(shown))
        if len(reference.indices) > 1 or reference.ambiguous:
            rows = [shown[i] for i in reference.indices] or shown
            return replace(self, hotel=None, choices=tuple(rows), out_of_range=None)
        if name:
            return replace(self, hotel=None, name=name, choices=(), not_found=None)
        return self


@dataclass(frozen=True)
class Step:
    """How the latest user message bears on booking: `request` open after it (None: closed); `spoke` when the
    message was about the booking (opened, filled, dropped or nudged it), so the booking flow answers it."""

    request: Request | None
    spoke: bool = False
    dropped: bool = False


def asks_to_book(text: str) -> bool:
    return bool(_BOOK.search(text))


def asks_for_bookings(text: str) -> bool:
    """我订了哪些酒店 / 现在还有预订吗: a question about what was booked (not a request to book or to cancel)."""
    return bool(_LIST.search(text)) and not _CANCEL.search(text)


def is_decision(text: str, reference: Reference, lexicon: Lexicon) -> bool:
    """The user takes a hotel (我决定入住北京贵都大酒店 / 我愿意入住这个酒店), without asking anything else: a
    statement that points at one hotel and sets no new constraint."""
    if not _DECISION.search(text) or re.search(r"[吗么？?]", text) or _CANCEL.search(text):
        return False
    points = (
        reference.one is not None or reference.ambiguous or points_at_one(text) or find_name(text, lexicon) is not None
    )
    return points and not constraint_slots(text, lexicon)


def _opens(
    text: str,
    reference: Reference,
    details: Details,
    lexicon: Lexicon,
    shown: list[dict[str, Any]],
    bare: str,
    habits: Habits,
) -> bool:
    """Does this message (with no request open) ask to book? A booking verb with a hotel to book (a shown one, a
    name, or several shown to choose from) or with details; two details alone (12月1日入住两晚) when hotels are
    shown; a decision (我决定入住X), unless the `habits` are the course's (then only one by row number). A booking
    verb with search constraints and no hotel (再帮我预定一个评分4.5以上的) is a search."""
    if _CANCEL.search(text):
        return False  # 取消刚才的预订: a cancellation (see cancel_turn), not a new request
    if is_decision(text, reference, lexicon) and (habits.decisions_book or reference.how == "ordinal"):
        return True  # 我决定入住第二家: a person who takes a hotel expects to be booked
    if "?" in text or "？" in text or "吗" in text:
        if not asks_to_book(text):
            return False
    if asks_to_book(text):
        if reference.explicit:
            return True
        if constraint_slots(text, lexicon):
            return False  # 明天帮我订一家4.5分以上的: a search first
        return details.any() or bool(shown) or find_name(text, lexicon) is not None
    if reference.explicit and details.any() and not _QUESTION.search(text):
        return True  # 第三家吧，住两晚: a shown hotel and a detail of the stay, no question
    # 12月1日入住两晚 / a bare 张三 after hotels were shown: nothing else reads them.
    return bool(shown) and (details.count() >= 2 or answers_name(bare, latin=False))


def _fold_user(
    request: Request | None, text: str, dialogue: Dialogue, lexicon: Lexicon, habits: Habits
) -> tuple[Request | None, bool, bool]:
    """(the request after the user message, whether the message spoke to it, whether it dropped it)."""
    shown = shown_rows(dialogue)
    reference = resolve(text, dialogue)
    if asks_for_bookings(text):
        return request, False, False  # 我订了哪些酒店: answered from the bookings; an open request waits
    if request is not None and request.declined:
        # After a no: 日期改成12月2日，其他不变 proposes again with the change; anything else starts afresh.
        changed = find_details(_without_names(text, shown, lexicon), bare_name=False)
        if (changed.any() or reference.explicit) and not _DROP.search(text):
            reopened = replace(request.with_details(changed), declined=False)
            if reference.explicit:  # 信息有误，应该是亚奥国际酒店
                reopened = reopened.with_reference(reference, shown, None)
            return reopened, True, False
        request = None
    asked_name = request is not None and request.guest is None
    unnamed = _without_names(text, shown, lexicon)
    details = find_details(unnamed, bare_name=asked_name or asks_to_book(text))
    chooses = reference.explicit and (asks_to_book(text) or not _QUESTION.search(text))
    if request is None:
        if not _opens(text, reference, details, lexicon, shown, unnamed, habits):
            return None, False, False
        name = find_name(text, lexicon) if not reference.explicit else None
        opened = Request().with_reference(reference, shown, name)
        if opened.hotel is None and opened.name is None and not opened.choices and shown:
            # 帮我订 / 12月1日入住两晚 pointing at nothing: the hotel the conversation is about, else ask which.
            current = focus(dialogue)
            opened = (
                replace(opened, hotel=shown[current]) if current is not None else replace(opened, choices=tuple(shown))
            )
        if details.guest is None and answers_name(unnamed, latin=False):
            details = replace(details, guest=bare_name(unnamed))
        return opened.with_details(details), True, False
    if _DROP.search(text) and not details.any():
        return None, True, True
    if details.any() or (asked_name and answers_name(text)):
        if asked_name and details.guest is None and answers_name(text):
            details = replace(details, guest=bare_name(text))
        updated = request.with_details(details)
        if chooses and (request.hotel is None or asks_to_book(text)):
            updated = updated.with_reference(reference, shown, None)
        return updated, True, False
    if chooses and (request.hotel is None or asks_to_book(text)):
        return request.with_reference(reference, shown, None), True, False
    if request.hotel is None and asks_to_book(text):
        name = find_name(text, lexicon)
        if name:
            return request.with_reference(Reference(), shown, name), True, False
    if _ACK.search(text.strip()) or (asks_to_book(text) and not constraint_slots(text, lexicon)):
        return request, True, False
    if _CLOSING.search(text) or constraint_slots(text, lexicon):
        return None, False, False  # a goodbye or a new search: the request is left
    return request, False, False  # a question on the side: answered as usual, the request waits


def _without_names(text: str, shown: list[dict[str, Any]], lexicon: Lexicon) -> str:
    """The text with hotel names and rows blanked out, so 7天连锁酒店 is no stay of 7 days, 如家 no guest and 2号那家
    no check-in on the 2nd."""
    names = [form for record in shown for form in short_forms(str(record.get("name") or ""))]
    names += [name for name in lexicon.names if name in text]  # known names only: 我叫张三 names no hotel
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, "，")
    return without_ordinals(text)


def _fold_result(request: Request | None, result: dict[str, Any]) -> Request | None:
    if request is not None and result.get("declined"):
        return replace(request, declined=True)
    if request is None or "error" not in result:
        return None
    field = result.get("field")
    if field == "hotel":
        return replace(request, hotel=None)
    if field == "guest":
        return replace(request, guest=None)
    if field == "check_in":
        return replace(request, check_in=None)
    if field == "nights":
        return replace(request, nights=None)
    return None  # an error no field explains (a full disk): the request ends; the reply says what happened


def _fold_return(request: Request | None, search: dict[str, Any], records: list[dict[str, Any]]) -> Request | None:
    """A search for the hotel the request names: one found is the hotel; several are choices."""
    if request is None or request.name is None or search.get("name") != request.name:
        return request
    if len(records) == 1:
        return replace(request, hotel=records[0], name=None)
    if not records:
        return replace(request, name=None, not_found=request.name)
    return replace(request, name=None, choices=tuple(records))


def current_step(dialogue: Dialogue, lexicon: Lexicon, habits: Habits = PERSON_FIRST) -> Step:
    """The booking state after the latest user message (see the module docstring)."""
    request: Request | None = None
    spoke = dropped = False
    turns = dialogue.turns
    for i, turn in enumerate(turns):
        if isinstance(turn, UserTurn):
            request, spoke, dropped = _fold_user(request, turn.content, Dialogue(turns[: i + 1]), lexicon, habits)
        elif isinstance(turn, ResultTurn):
            request = _fold_result(request, turn.result)
        elif isinstance(turn, ReturnTurn) and i > 0 and isinstance(turns[i - 1], SearchTurn):
            request = _fold_return(request, turns[i - 1].arguments, turn.records)  # type: ignore[union-attr]
    return Step(request, spoke, dropped)


def cancel_turn(dialogue: Dialogue) -> AgentTurn | None:
    """取消刚才的预订 / 取消3号预订 / 不订了 (after a booking): the cancel_booking call, or the reply that there is
    nothing to cancel. None when the message is no cancellation."""
    text = dialogue.last_user_text()
    if not _CANCEL.search(text) or "?" in text or "？" in text:
        return None
    active = dialogue.bookings()
    match = _BOOKING_ID.search(text)
    if match:
        return CancelTurn({"booking_id": int(next(g for g in match.groups() if g))})
    nth = _nth_booking(text, dialogue.booking_results(cancellations=False))
    if nth is not None:
        return nth
    if not re.search(r"预订|预定|订单|订了|不住|退", text) and not active:
        return None  # 取消 of something else (取消早餐?) when nothing is booked
    if not active:
        return AssistantTurn(nothing_to_cancel())
    return CancelTurn({"booking_id": active[-1]["booking_id"]})


def _nth_booking(text: str, made: list[dict[str, Any]]) -> AgentTurn | None:
    """第一个订单 → the cancel_booking call for the first booking made here; a reply when there is no such one;
    None when the message names no booking by position."""
    match = _NTH_BOOKING.search(text)
    if match is None:
        return None
    if match.group(3):
        n, from_the_end = 1, True
    else:
        n, from_the_end = small_number(match.group(2)) or 0, bool(match.group(1))
    if not made:
        return AssistantTurn(nothing_to_cancel())
    if not 1 <= n <= len(made):
        return AssistantTurn(no_such_booking(made))
    return CancelTurn({"booking_id": made[-n if from_the_end else n - 1]["booking_id"]})


def booking_turn(dialogue: Dialogue, lexicon: Lexicon, habits: Habits = PERSON_FIRST) -> AgentTurn | None:
    """The next turn when the latest user message (or the search it led to) is about booking; else None."""
    last = dialogue.turns[-1] if dialogue.turns else None
    step = current_step(dialogue, lexicon, habits)
    if isinstance(last, UserTurn) and asks_for_bookings(last.content):
        return AssistantTurn(bookings_made(dialogue.bookings(), dialogue.booking_results(cancellations=True)))
    if isinstance(last, UserTurn):
        before = current_step(dialogue.before_last_user(), lexicon, habits).request
        # 取消刚才的预订 cancels a booking; while details are being asked, 取消 / 不订了 drops the request instead.
        if _CANCEL.search(last.content) and (before is None or _NAMES_A_BOOKING.search(last.content)):
            cancelling = cancel_turn(dialogue)
            if cancelling is not None:
                return cancelling
        if step.dropped:
            return AssistantTurn(request_dropped())
        if not step.spoke:
            return None
    elif isinstance(last, ReturnTurn):
        # A search this booking request asked for (the hotel it names) has just returned.
        exchange = dialogue.turns[dialogue.exchange_start() :]
        if not step.spoke or step.request is None or not any(isinstance(t, ReturnTurn) for t in exchange):
            return None
    else:
        return None
    request = step.request
    if request is None:
        return None
    if request.hotel is None and request.name is not None:
        return SearchTurn({"name": request.name})
    missing = request.missing()
    if missing:
        if isinstance(last, ReturnTurn) and (request.hotel is not None or request.choices):
            return AssistantTurn(found([request.hotel] if request.hotel else list(request.choices), missing))
        if request.hotel is None and request.not_found:
            return AssistantTurn(not_found(request.not_found))
        if request.hotel is None and request.choices:
            return AssistantTurn(choose_among(list(request.choices), request.out_of_range))
        return AssistantTurn(ask_for(missing, request.hotel, dialogue.last_user_text(), past=request.past))
    assert request.hotel is not None and request.guest and request.check_in and request.nights
    return BookTurn(
        {"hotel": request.hotel["name"], "guest": request.guest, "check_in": request.check_in, "nights": request.nights}
    )
