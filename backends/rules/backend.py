"""The `rules` backend: offline, deterministic, fast; the default chat backend and the baseline."""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from agent.core.errors import UserError
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
from backends.base import Prediction, TextCallback
from backends.registry import register
from backends.rules.booking import booking_turn, is_decision
from backends.rules.booking_replies import result_reply
from backends.rules.facility_check import facility_answer
from backends.rules.facts import each_row
from backends.rules.fallbacks import (
    CHINESE_ONLY,
    CLARIFY,
    GREETING,
    OUT_OF_SCOPE,
    is_greeting,
    not_chinese,
    out_of_scope,
    understood,
)
from backends.rules.habits import COURSE, PERSON_FIRST, Habits
from backends.rules.lexicon import Lexicon, lexicon_cache_key, load_lexicon
from backends.rules.nlg import TemplateBank, generate
from backends.rules.nlu import Understanding, understand
from backends.rules.policy import decide
from backends.rules.questions import about_shown
from backends.rules.references import Reference, focus, points_at_one, resolve, shown_rows, without_ordinals
from backends.rules.relaxations import Lifted, lifted, unsaid

# A question in a message (电话多少？ / 地址是什么): facts a booking message asks for are answered with its result.
_ASKS = re.compile(r"[？?吗]|多少|什么|哪|几")


@dataclass(frozen=True)
class Message:
    """The latest user message as the rules read it."""

    text: str
    understanding: Understanding
    reference: Reference  # the shown rows it points at
    lift: Lifted  # the constraints it lifts
    about_shown: bool = False  # a question about the hotels shown (雅悦酒店有没有健身房？): no new search


def _cannot_act(message: Message, dialogue: Dialogue) -> str | None:
    """The reply to a message the search-or-reply rules cannot act on (another language, nothing about hotels, a
    row beyond the table, a constraint lifted that was never set), or None."""
    text, understanding, reference, lift = message.text, message.understanding, message.reference, message.lift
    if not_chinese(text):
        return CHINESE_ONLY
    if reference.out_of_range is not None:
        return f"列表里只有{len(shown_rows(dialogue))}家酒店，请问您说的是第几家？"
    if out_of_scope(text):
        return OUT_OF_SCOPE
    if lift.unset and not lift and not understanding.slots:
        return f"好的，目前的条件里本来就没有{'、'.join(lift.unset)}的要求。"
    if not lift and not understood(text, understanding, reference.explicit or points_at_one(text)):
        return GREETING if is_greeting(text) else CLARIFY
    return None


def _facility_answer(message: Message, phrases: list[str], dialogue: Dialogue) -> str | None:
    """有没有X about the hotel the message points at (named when the user named or counted it), or about every
    row of the table when it points at none."""
    shown = shown_rows(dialogue)
    reference = message.reference
    if reference.indices:
        records = [shown[i] for i in reference.indices]
        subject = records[0]["name"] if reference.how in ("ordinal", "name") else "这家酒店"
        return facility_answer(phrases, records, message.text, subject=subject, together=len(records) > 1 or None)
    return facility_answer(phrases, shown, message.text, together=len(shown) > 1)


def _asked_with_the_name(message: Message, dialogue: Dialogue, text: str) -> str:
    """我想了解一下北京饭店，它的地址在哪: the search by name found one hotel; its reply also gives what was asked."""
    last, search = dialogue.turns[-1], dialogue.last_search() or {}
    attributes = message.understanding.attributes
    if not (isinstance(last, ReturnTurn) and len(last.records) == 1 and "name" in search and attributes):
        return ""
    if all(str(last.records[0].get(a)) in text for a in attributes):
        return ""
    ending = "" if text.endswith(("。", "！", "？", "!", "?")) else "？" if text.endswith(("吗", "呢")) else "。"
    return ending + each_row(attributes, last.records)


def _named_hotel_answer(message: Message, dialogue: Dialogue) -> str | None:
    """北京饭店能停车吗？地址在哪: the search by name found one hotel; the reply answers the facility question
    (and any fact asked with it) from that record. None when the exchange is no such question."""
    last, search = dialogue.turns[-1], dialogue.last_search() or {}
    phrases = list(message.understanding.facility_question)
    if not (isinstance(last, ReturnTurn) and len(last.records) == 1 and "name" in search and phrases):
        return None
    record = last.records[0]
    answer = facility_answer(phrases, [record], message.text, subject=str(record["name"]), together=False)
    if answer is None:
        return None
    attributes = message.understanding.attributes
    return answer + (each_row(attributes, [record]) if attributes else "")


def _rows(reference: Reference, understanding: Understanding, dialogue: Dialogue) -> tuple[list[int] | None, bool]:
    """(the shown rows a follow-up is about when the user pointed at them without naming them — 第二家, 这家, or an
    elliptical 地址呢？ right after talking about one hotel —, whether the reply should name the hotel). None: let
    the reply find the names itself."""
    several_by_one_name = reference.how == "name" and len(reference.indices) > 1 and not understanding.compare
    if (
        reference.how == "ordinal"
        or (reference.how == "name" and not understanding.shown_mentions)
        or several_by_one_name
    ):
        return list(reference.indices), True
    if reference.how in ("focus", "name"):
        # 这家酒店的评分？ is answered 这家酒店的评分是…; 亚奥国际酒店 is the row of 北京亚奥国际酒店
        return list(reference.indices), False
    if not reference.how and understanding.attributes and not understanding.shown_mentions:
        current = focus(dialogue)
        return ([current], True) if current is not None else (None, False)
    return None, False


@dataclass
class RulesBackend:
    """Loads (or mines) its lexicon on first use, so creating it is instant (the chat shows its prompt
    at once and the first message pays the one-off mining, ~2 s, when the cache is cold)."""

    _lexicon: Lexicon | None = None
    name: str = "rules"
    _bank: TemplateBank | None = field(default=None, repr=False)
    habits: Habits = PERSON_FIRST  # where a person and the course data disagree (see backends.rules.habits)

    @property
    def lexicon(self) -> Lexicon:
        if self._lexicon is None:
            self._lexicon = load_lexicon()
        return self._lexicon

    @property
    def bank(self) -> TemplateBank:
        if self._bank is None:
            self._bank = TemplateBank(self.lexicon.templates)
        return self._bank

    def predict(
        self,
        dialogues: Sequence[Dialogue],
        *,
        on_text: TextCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> list[Prediction]:
        return [Prediction(self.next_turn(d)) for d in dialogues]

    def next_turn(self, dialogue: Dialogue) -> AgentTurn:
        """The agent's next step, first rule that applies: the reply to a booking / cancellation result; the
        booking flow's call or question; an honest answer to what cannot be read; else the data's search-or-reply
        decision over the shown hotels."""
        last = dialogue.turns[-1] if dialogue.turns else None
        if isinstance(last, ResultTurn):
            call = dialogue.turns[-2] if len(dialogue.turns) > 1 else None
            reply = result_reply(last.result, cancelling=isinstance(call, CancelTurn))
            if isinstance(call, BookTurn):
                reply += self._asked_alongside(dialogue, call)
            return AssistantTurn(reply)
        booking = booking_turn(dialogue, self.lexicon, self.habits)
        if booking is not None:
            return booking
        message = self._read(dialogue)
        if isinstance(last, UserTurn):
            fallback = _cannot_act(message, dialogue)
            if fallback is not None:
                return AssistantTurn(fallback)
        decision = decide(dialogue, message.understanding, message.lift, about_shown=message.about_shown)
        if decision.search is not None:
            return SearchTurn(decision.search)
        return AssistantTurn(self._reply(message, dialogue))

    def _asked_alongside(self, dialogue: Dialogue, call: BookTurn) -> str:
        """第三家地址在哪？合适的话帮我订，…: the facts the booking message also asked about the hotel, answered after
        the booking's result ("" when it asked none)."""
        text = dialogue.last_user_text()
        if not _ASKS.search(text):
            return ""
        shown = dialogue.shown_records()
        record = next((r for r in shown if r.get("name") == call.arguments.get("hotel")), None)
        attributes = understand(without_ordinals(text), self.lexicon, shown).attributes
        return each_row(attributes, [record]) if record is not None and attributes else ""

    def _read(self, dialogue: Dialogue) -> Message:
        text = dialogue.last_user_text()
        understanding = understand(unsaid(without_ordinals(text)), self.lexicon, dialogue.shown_records())
        reference = resolve(text, dialogue)
        if reference.how == "name" and set(understanding.slots) == {"name"}:
            # 速8的电话？ about a shown 速8: a question about that row, not a search for every 速8 (and 速8有wifi吗
            # asks about that row's facilities).
            asked = list(understanding.facility_question)
            understanding = replace(understanding, slots={"facilities": asked} if asked else {})
        previous = dialogue.last_search()
        # (after a search this exchange ran, the reply is about its results, whatever the message asked)
        just_asked = bool(dialogue.turns) and isinstance(dialogue.turns[-1], UserTurn)
        asks = just_asked and about_shown(text, understanding, reference, previous, shown_rows(dialogue), self.habits)
        return Message(text, understanding, reference, lifted(text, previous), asks)

    def _reply(self, message: Message, dialogue: Dialogue) -> str:
        named = _named_hotel_answer(message, dialogue)
        if named is not None:
            return named
        facilities_asked = message.understanding.slots.get("facilities")
        if message.about_shown and facilities_asked:
            answer = _facility_answer(message, list(facilities_asked), dialogue)
            if answer is not None:
                return answer
        rows, name_it = _rows(message.reference, message.understanding, dialogue)
        attributes = message.understanding.attributes
        if (
            rows
            and name_it
            and attributes
            and (len(rows) > 1 or len(attributes) > 1)
            and not message.understanding.compare
        ):
            # 第一家和第三家的电话 / 锦江之星的电话 (two shown) / 第二家的电话和地址: each asked fact, named.
            shown = shown_rows(dialogue)
            return each_row(attributes, [shown[i] for i in rows])
        # The data's farewell to a decision (好的，祝您入住愉快！) presumes a booking: kept for the decisions that
        # do not start booking (the course's habits); every other reply presumes one only when one was made.
        booked = bool(dialogue.bookings()) or is_decision(message.text, message.reference, self.lexicon)
        facilities = list(message.understanding.facility_question)
        text = generate(dialogue, self.bank, facilities, rows, name_hotel=name_it, booked=booked)
        return text + _asked_with_the_name(message, dialogue, text)

    def signature(self) -> dict[str, Any]:
        habits = {
            "decisions_book": self.habits.decisions_book,
            "answered_references": sorted(self.habits.answered_references),
            "answers_record_fields": self.habits.answers_record_fields,
        }
        return {"backend": self.name, "lexicon": lexicon_cache_key(), "habits": habits}


def _no_model_options(name: str, options: dict[str, Any]) -> None:
    if options:
        flags = ", ".join("--" + k.replace("_", "-") for k in options)
        raise UserError(f"the {name} backend takes no model options (got {flags})")


def create_rules_backend(**options: Any) -> RulesBackend:
    _no_model_options("rules", options)
    return RulesBackend()


def create_rules_course_backend(**options: Any) -> RulesBackend:
    _no_model_options("rules-course", options)
    return RulesBackend(name="rules-course", habits=COURSE)


register(
    "rules",
    create_rules_backend,
    "Offline rules: regex/lexicon NLU, data-style state, templated replies (fast, no model).",
)
register(
    "rules-course",
    create_rules_course_backend,
    "The rules backend with the course data's habits (a decision gets a farewell, not a booking; 这家有X吗 searches): "
    "what the chat's person-first choices cost on the course metric (evaluation only).",
    chat=False,
)
