"""A scripted fake Backend for tests of every layer: it answers from a function or a list, and can be told
to fail on chosen dialogues or batches, to be slow, or to stream its replies. Not registered by default;
tests construct it directly (or `register_scripted()` under a name of their choosing)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from agent.core.turns import AgentTurn, AssistantTurn, Dialogue
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


def register_scripted(name: str, backend: ScriptedBackend) -> None:
    """Make `backend` available as `--backend name` (tests only; harness-only)."""
    register(name, lambda **_options: backend, "Scripted fake backend (tests).", chat=False)
