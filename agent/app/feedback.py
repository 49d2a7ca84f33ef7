"""Thumbs up / down on agent replies, and the export of rated dialogues as training-format lines."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from agent.core.codecs import dialogue_to_messages
from agent.core.turns import AssistantTurn

if TYPE_CHECKING:
    from agent.app.history import Conversation

Rating = Literal["up", "down"]
RATINGS: tuple[str, ...] = ("up", "down")


@dataclass(frozen=True)
class Feedback:
    turn: int  # index in the dialogue of the rated assistant turn
    rating: Rating
    at: str  # ISO time, UTC

    def to_json(self) -> dict[str, Any]:
        return {"turn": self.turn, "rating": self.rating, "at": self.at}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Feedback:
        if obj.get("rating") not in RATINGS or not isinstance(obj.get("turn"), int):
            raise ValueError(f"bad feedback entry {obj!r}")
        return cls(obj["turn"], obj["rating"], str(obj.get("at", "")))


def rate(feedback: Iterable[Feedback], new: Feedback) -> tuple[Feedback, ...]:
    """The feedback list with `new` in it; a second rating of the same reply replaces the first."""
    return tuple(f for f in feedback if f.turn != new.turn) + (new,)


def rated_lines(conversations: Iterable[Conversation], rating: Rating | None = None) -> Iterator[str]:
    """One JSONL line per rated reply: the dialogue up to and including that reply in the GLM-4 `messages`
    format (what `agent.core.codecs.read_dialogues` and the fine-tuning data read), plus a `feedback` object saying
    which reply was rated how. Extra keys are ignored by the readers, so `up` lines can join the training data."""
    for conversation in conversations:
        for item in sorted(conversation.feedback, key=lambda f: f.turn):
            if rating is not None and item.rating != rating:
                continue
            if item.turn >= len(conversation.dialogue) or not isinstance(
                conversation.dialogue[item.turn], AssistantTurn
            ):
                continue  # a rating that no longer points at a reply (the file was edited): skip, never guess
            dialogue = conversation.dialogue[: item.turn + 1]
            yield json.dumps(
                {
                    "messages": dialogue_to_messages(dialogue),
                    "feedback": {
                        "rating": item.rating,
                        "conversation": conversation.id,
                        "backend": conversation.backend,
                        "model": conversation.model,
                        "at": item.at,
                    },
                },
                ensure_ascii=False,
            )
