"""A scripted fake Backend for tests of every layer: it answers from a function or a list, and can be told
to fail on chosen dialogues or batches, to be slow, or to stream its replies. Not registered by default;
tests construct it directly (or `register_scripted()` under a name of their choosing). `booking_clerk` is a
script that books and cancels by chat (`register_clerk()` offers it in the chat)."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from agent.core.dates import find_date, small_number
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
from agent.dialogue.actions import fallback_reply
from backends.base import Prediction, TextCallback
from backends.registry import register

Script = Callable[[Dialogue], AgentTurn]


class ScriptedFailure(RuntimeError):
    """What a scripted backend raises when told to fail."""


@dataclass
class ScriptedBackend:
    """`script` maps a dialogue to the turn to return (default: a fixed reply); `turns` instead gives the
    answers in call order. `fail_when(dialogue)` makes that dialogue raise; `fail_batches_over` makes any
    batch larger than it raise (to test per-sample retries); `delay` sleeps per dialogue."""

    script: Script | None = None
    turns: list[AgentTurn] | None = None
    fail_when: Callable[[Dialogue], bool] | None = None
    fail_batches_over: int | None = None
    delay: float = 0.0
    stream: bool = False
    name: str = "scripted"
    calls: list[int] = field(default_factory=list)  # the batch sizes it was called with

    def predict(
        self,
        dialogues: Sequence[Dialogue],
        *,
        on_text: TextCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> list[Prediction]:
        self.calls.append(len(dialogues))
        if self.fail_batches_over is not None and len(dialogues) > self.fail_batches_over:
            raise ScriptedFailure(f"batch of {len(dialogues)} is over {self.fail_batches_over}")
        predictions = []
        for index, dialogue in enumerate(dialogues):
            if self.delay:
                time.sleep(self.delay)
            if self.fail_when is not None and self.fail_when(dialogue):
                raise ScriptedFailure("scripted failure")
            turn = self._next(dialogue)
            if self.stream and on_text is not None and isinstance(turn, AssistantTurn):
                for char in turn.content:
                    on_text(index, char)
            predictions.append(Prediction(turn, raw=getattr(turn, "content", None)))
        return predictions

    def _next(self, dialogue: Dialogue) -> AgentTurn:
        if self.turns is not None:
            if not self.turns:
                raise ScriptedFailure("the script ran out of turns")
            return self.turns.pop(0)
        if self.script is not None:
            return self.script(dialogue)
        return AssistantTurn("好的。")

    def signature(self) -> dict[str, Any]:
        return {"backend": self.name, "scripted": True}


def register_scripted(name: str, backend: ScriptedBackend, *, chat: bool = False) -> None:
    """Make `backend` available as `--backend name` (tests only): harness-only, or with `chat` in the chat too."""
    register(name, lambda **_options: backend, "Scripted fake backend (tests).", chat=chat)


# ---- a script that books by chat ------------------------------------------------------------------------

CLERK_SEARCH = {"type": "经济型", "facilities": ["无线网络"]}
CLERK_CLOSING = "好的，祝您入住愉快！"  # a booking claim unless the dialogue holds a booking
_ORDINAL = re.compile(r"第([一二三四五六七八九十\d]+)家")
_GUEST = re.compile(r"(?:名字|入住人)[是叫]?\s*([^\s，。,]+)")
_NIGHTS = re.compile(r"([\d一二两三四五六七八九十]+)\s*晚")


def booking_clerk(dialogue: Dialogue) -> AgentTurn:
    """A script that books by chat, for front-end tests while a real backend cannot (or to pin exactly what
    the backend asks): it searches when asked to find (找), books the shown hotel a message names by ordinal
    (第二家) with the guest (名字X), date and nights the message gives, cancels the latest booking (取消),
    answers a tool result from the result alone, and otherwise says a closing that claims a booking (so the
    loop's correction shows)."""
    last = dialogue.turns[-1]
    if isinstance(last, ReturnTurn):
        names = "、".join(f"{i + 1}. {r['name']}" for i, r in enumerate(last.records))
        return AssistantTurn(f"为您找到：{names}" if names else "没有找到。")
    if isinstance(last, ResultTurn):
        return AssistantTurn(fallback_reply(last.result))
    text = last.content if isinstance(last, UserTurn) else ""
    if "取消" in text:
        active = dialogue.bookings()
        if not active:
            return AssistantTurn("您还没有预订。")
        return CancelTurn({"booking_id": active[-1]["booking_id"]})
    if "订" in text:
        return BookTurn(_booking_arguments(dialogue, text))
    if "找" in text:
        return SearchTurn(dict(CLERK_SEARCH))
    return AssistantTurn(CLERK_CLOSING)


def _booking_arguments(dialogue: Dialogue, text: str) -> dict:
    shown = dialogue.shown_records()
    ordinal = _ORDINAL.search(text)
    index = (small_number(ordinal.group(1)) or 1) - 1 if ordinal else 0
    hotel = shown[index]["name"] if index < len(shown) else text
    guest = _GUEST.search(text)
    nights = _NIGHTS.search(text)
    date = find_date(text, dt.date.today())
    return {
        "hotel": hotel,
        "guest": guest.group(1) if guest else None,
        "check_in": text[date[1][0] : date[1][1]] if date else None,
        "nights": small_number(nights.group(1)) if nights else None,
    }


def register_clerk(name: str = "booking-clerk") -> ScriptedBackend:
    """Offer the booking clerk in the chat as `--backend NAME` (in this process)."""
    backend = ScriptedBackend(script=booking_clerk, name=name)
    register_scripted(name, backend, chat=True)
    return backend
