"""The dialogue loop: user text in, searches run on the store, a reply out, as events."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import pytest

from agent.core.search_result import SearchResult
from agent.core.turns import AssistantTurn, Dialogue, ReturnTurn, SearchTurn, UserTurn
from agent.dialogue.loop import DialogueLoop, Reply, ReplyText, SearchFinished, SearchRejected, SearchStarted
from backends.base import Prediction

HOTEL = {"name": "北京甲乙酒店", "type": "经济型", "price": 300.0, "rating": 4.5, "facilities": [], "hotel_id": 1}


@dataclass
class FakeStore:
    calls: list[dict[str, Any]] = field(default_factory=list)

    def search(self, arguments, limit=None):
        self.calls.append(arguments)
        return SearchResult([HOTEL])


@dataclass
class ScriptedBackend:
    """Searches with `arguments` after a user turn, replies after a return."""

    arguments: dict[str, Any]
    name: str = "scripted"

    def predict(self, dialogues, *, on_text=None, cancel=None):
        out = []
        for d in dialogues:
            if isinstance(d.turns[-1], UserTurn):
                out.append(Prediction(SearchTurn(self.arguments)))
            else:
                out.append(Prediction(AssistantTurn("推荐您去" + d.last_records()[0]["name"])))
        return out

    def signature(self):
        return {"backend": self.name}


def test_a_search_runs_on_the_store_and_its_records_become_a_return_turn():
    store = FakeStore()
    events = list(DialogueLoop(ScriptedBackend({"type": "经济型"}), store).respond(Dialogue(), "找经济型酒店"))
    assert [type(e) for e in events] == [SearchStarted, SearchFinished, Reply]
    assert store.calls == [{"type": "经济型"}]
    assert events[-1].dialogue.turns[2] == ReturnTurn([HOTEL])


def test_search_arguments_are_validated_before_the_store_sees_them():
    store = FakeStore()
    list(DialogueLoop(ScriptedBackend({"price_range_upper": "500"}), store).respond(Dialogue(), "500以内"))
    assert store.calls == [{"price_range_upper": 500.0}]


def test_arguments_outside_the_schema_are_reported_not_raised():
    events = list(DialogueLoop(ScriptedBackend({"stars": 5}), FakeStore()).respond(Dialogue(), "五星"))
    assert isinstance(events[0], SearchRejected) and "stars" in events[0].error
    assert isinstance(events[-1], Reply)


def test_the_rules_backend_runs_through_the_loop_on_the_real_store():
    from agent.core.store import HotelStore
    from backends.registry import create

    loop = DialogueLoop(create("rules"), HotelStore.open())
    events = list(loop.respond(Dialogue(), "帮我找一家评分4.5分以上的经济型酒店"))
    finished = [e for e in events if isinstance(e, SearchFinished)]
    assert finished and finished[0].arguments == {"type": "经济型", "rating_range_lower": 4.5}
    names = [r["name"] for r in finished[0].result.records]
    assert any(name in events[-1].content for name in names)


@dataclass
class StreamingBackend:
    """Streams a first piece, then waits until the consumer has seen it before finishing."""

    seen_first_piece: threading.Event = field(default_factory=lambda: threading.Event())
    name: str = "streaming"

    def predict(self, dialogues, *, on_text=None, cancel=None):
        on_text(0, "推荐")
        finished_in_time = self.seen_first_piece.wait(timeout=5)
        on_text(0, "北京甲乙酒店")
        content = "推荐北京甲乙酒店" if finished_in_time else "the consumer never saw the first piece"
        return [Prediction(AssistantTurn(content))]

    def signature(self):
        return {"backend": self.name}


def test_reply_text_reaches_the_front_end_while_the_backend_is_still_generating():
    backend = StreamingBackend()
    events = DialogueLoop(backend, FakeStore()).respond(Dialogue(), "你好")
    first = next(events)
    assert first == ReplyText("推荐")
    backend.seen_first_piece.set()
    rest = list(events)
    assert rest[0] == ReplyText("北京甲乙酒店")
    assert rest[-1].content == "推荐北京甲乙酒店"


def test_a_backend_error_reaches_the_caller():
    class Broken(StreamingBackend):
        def predict(self, dialogues, *, on_text=None, cancel=None):
            raise RuntimeError("model crashed")

    with pytest.raises(RuntimeError, match="model crashed"):
        list(DialogueLoop(Broken(), FakeStore()).respond(Dialogue(), "你好"))
