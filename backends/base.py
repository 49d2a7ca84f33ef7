"""The `Backend` interface: given dialogues so far, return the next agent turn of each."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from agent.core.turns import AgentTurn, Dialogue

# on_text(index_in_batch, new_text): streaming for front ends. Only reply text is passed on (never the text of
# a search call); backends that cannot stream never call it.
TextCallback = Callable[[int, str], None]


@dataclass(frozen=True)
class Prediction:
    turn: AgentTurn  # SearchTurn or AssistantTurn
    raw: str | None = None  # the model's own text, when there is one
    tokens: int | None = None  # tokens generated for it, when the backend counts them (evalharness reports tokens/s)


@runtime_checkable
class Backend(Protocol):
    name: str

    def predict(
        self,
        dialogues: Sequence[Dialogue],
        *,
        on_text: TextCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> list[Prediction]:
        """One prediction per dialogue, in order. The last turn of each dialogue is a `user` or `return`
        turn. `cancel`, when set, asks a long generation to stop early (what it has is returned)."""
        ...

    def signature(self) -> dict[str, Any]:
        """What produced the predictions: backend name, base model id, adapter path and sha256,
        template hash... Written into every evaluation summary."""
        ...
