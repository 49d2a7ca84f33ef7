"""The dialogue loop: one user message in, the backend decides, searches run on the HotelStore, a reply out.

It knows nothing of screens: it yields events that any front end (the line-mode chat, the TUI) renders."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from agent.core.errors import ArgumentError
from agent.core.schema import validate_arguments
from agent.core.search_result import SearchResult
from agent.core.turns import AssistantTurn, Dialogue, ReturnTurn, SearchTurn, UserTurn
from backends.base import Backend, Prediction


class Searcher(Protocol):
    def search(self, arguments: dict[str, Any], limit: int | None = ...) -> SearchResult: ...


@dataclass(frozen=True)
class SearchStarted:
    arguments: dict[str, Any]  # validated


@dataclass(frozen=True)
class SearchFinished:
    arguments: dict[str, Any]
    result: SearchResult


@dataclass(frozen=True)
class SearchRejected:
    arguments: dict[str, Any]
    error: str  # the model produced arguments outside the schema


@dataclass(frozen=True)
class ReplyText:
    text: str  # a streamed piece of the reply (only from backends that stream)


@dataclass(frozen=True)
class Reply:
    content: str
    dialogue: Dialogue  # the whole dialogue after this exchange


Event = SearchStarted | SearchFinished | SearchRejected | ReplyText | Reply

# The course's searches returned at most a handful of records; more would crowd the prompt.
DEFAULT_RESULT_LIMIT = 3
MAX_SEARCHES_PER_MESSAGE = 3


@dataclass
class DialogueLoop:
    backend: Backend
    store: Searcher
    result_limit: int = DEFAULT_RESULT_LIMIT

    def respond(self, dialogue: Dialogue, user_text: str, cancel: threading.Event | None = None) -> Iterator[Event]:
        """Run one exchange. The final event is always a `Reply` carrying the grown dialogue."""
        dialogue = dialogue.with_turn(UserTurn(user_text))
        for _ in range(MAX_SEARCHES_PER_MESSAGE + 1):
            prediction = yield from self._predict_streaming(dialogue, cancel)
            turn = prediction.turn
            if isinstance(turn, AssistantTurn):
                dialogue = dialogue.with_turn(turn)
                yield Reply(turn.content, dialogue)
                return
            assert isinstance(turn, SearchTurn)
            try:
                arguments = validate_arguments(turn.arguments)
            except ArgumentError as e:
                yield SearchRejected(dict(turn.arguments), str(e))
                arguments = {}
            if dialogue_repeats_search(dialogue, arguments):
                break
            yield SearchStarted(arguments)
            result = self.store.search(arguments, limit=self.result_limit)
            yield SearchFinished(arguments, result)
            dialogue = dialogue.with_turn(SearchTurn(arguments), ReturnTurn(result.records))
        # The backend kept searching: stop it rather than loop forever.
        content = "抱歉，我没能理解您的需求，能换个说法再说一次吗？"
        dialogue = dialogue.with_turn(AssistantTurn(content))
        yield Reply(content, dialogue)

    def _predict_streaming(
        self, dialogue: Dialogue, cancel: threading.Event | None
    ) -> Generator[ReplyText, None, Prediction]:
        """Run the backend in a thread and yield its reply text as it arrives, so a front end shows an
        LLM reply token by token; returns the finished prediction."""
        pieces: queue.Queue = queue.Queue()
        finished = object()
        outcome: dict[str, Any] = {}

        def work() -> None:
            try:
                outcome["prediction"] = self.backend.predict(
                    [dialogue], on_text=lambda _i, text: pieces.put(text), cancel=cancel
                )[0]
            except BaseException as e:  # re-raised in the caller's thread below
                outcome["error"] = e
            finally:
                pieces.put(finished)

        thread = threading.Thread(target=work, name="backend-predict", daemon=True)
        thread.start()
        while (piece := pieces.get()) is not finished:
            yield ReplyText(piece)
        thread.join()
        if "error" in outcome:
            raise outcome["error"]
        return outcome["prediction"]


def dialogue_repeats_search(dialogue: Dialogue, arguments: dict[str, Any]) -> bool:
    """True when the latest turn is already the result of this very search (a backend stuck in a loop)."""
    turns = dialogue.turns
    return (
        len(turns) >= 2
        and isinstance(turns[-1], ReturnTurn)
        and isinstance(turns[-2], SearchTurn)
        and turns[-2].arguments == arguments
    )


def run_exchange(loop: DialogueLoop, dialogue: Dialogue, user_text: str, render: Callable[[Event], None]) -> Dialogue:
    """Drive one exchange, rendering each event; returns the grown dialogue."""
    for event in loop.respond(dialogue, user_text):
        render(event)
        if isinstance(event, Reply):
            return event.dialogue
    raise AssertionError("the loop ended without a Reply")
