"""`gold`: replays the expected turn of each sample, so the harness can check it scores 100 on itself.

Harness-only (chat=False). It answers a dialogue by looking its context up in a sample file (the `--model`
option, default the data file `evalharness run` evaluates, else `hotel/test.jsonl`); a context it has not
seen raises, and the harness records that as a failed sample.

HOTEL_AGENT_GOLD_DELAY (seconds per dialogue) slows it down, so tests can kill a run midway and resume it."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agent.core.codecs import read_samples
from agent.core.datafiles import TEST, data_path, sha256_of
from agent.core.turns import AgentTurn, Dialogue, turn_to_json
from backends.base import Prediction, TextCallback
from backends.registry import register

DELAY_ENV = "HOTEL_AGENT_GOLD_DELAY"


def context_key(dialogue: Dialogue) -> str:
    """A dialogue's identity for look-ups: its turns as canonical JSON."""
    return json.dumps([turn_to_json(t) for t in dialogue], ensure_ascii=False, sort_keys=True)


class GoldBackend:
    name = "gold"

    def __init__(self, source: str | Path | None = None, delay: float = 0.0):
        # resolved, so a relative and an absolute spelling of one file give the same signature (resume)
        self.source = (Path(source) if source else data_path(TEST)).resolve()
        self.delay = delay
        self._answers: dict[str, AgentTurn] = {context_key(s.context): s.response for s in read_samples(self.source)}

    def predict(
        self,
        dialogues: Sequence[Dialogue],
        *,
        on_text: TextCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> list[Prediction]:
        predictions = []
        for dialogue in dialogues:
            if self.delay:
                time.sleep(self.delay)
            turn = self._answers.get(context_key(dialogue))
            if turn is None:
                raise KeyError(f"gold: this context is not in {self.source}")
            predictions.append(Prediction(turn))
        return predictions

    def signature(self) -> dict[str, Any]:
        return {"backend": self.name, "source": str(self.source), "source_sha256": sha256_of(self.source)}


def create_gold(model: str | None = None, **_ignored: Any) -> GoldBackend:
    return GoldBackend(model, delay=float(os.environ.get(DELAY_ENV) or 0))


register("gold", create_gold, "Replays the expected turns of a sample file (evaluation self-check).", chat=False)
