"""`reply-only`: a baseline that never searches. It always replies, naming the hotels the last search
returned, so its BLEU-4 shows what a canned reply earns and its slot scores are 0 by the wrong-kind rule."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from agent.core.turns import AssistantTurn, Dialogue
from backends.base import Prediction, TextCallback
from backends.registry import register

NO_RECORDS_REPLY = "好的，请问您对酒店有什么要求？"


def canned_reply(dialogue: Dialogue) -> str:
    names = [str(r["name"]) for r in dialogue.last_records() if r.get("name")]
    if not names:
        return NO_RECORDS_REPLY
    return f"为您推荐{'、'.join(names)}。"


class ReplyOnlyBackend:
    name = "reply-only"

    def predict(
        self,
        dialogues: Sequence[Dialogue],
        *,
        on_text: TextCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> list[Prediction]:
        return [Prediction(AssistantTurn(canned_reply(d))) for d in dialogues]

    def signature(self) -> dict[str, Any]:
        return {"backend": self.name, "reply": "为您推荐<names of the last records>。 / " + NO_RECORDS_REPLY}


def create_reply_only(**_ignored: Any) -> ReplyOnlyBackend:
    return ReplyOnlyBackend()


register(
    "reply-only", create_reply_only, "Baseline that always replies and never searches (evaluation only).", chat=False
)
