"""The `rules` backend: offline, deterministic, fast; the default chat backend and the baseline."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Sequence

from agent.turns import AssistantTurn, Dialogue, ReturnTurn, SearchTurn, UserTurn
from backends.base import Prediction, TextCallback
from backends.registry import register
from backends.rules.lexicon import LEXICON_VERSION, Lexicon, load_lexicon
from backends.rules.nlg import TemplateBank, generate
from backends.rules.nlu import understand
from backends.rules.policy import decide


def last_user_text(dialogue: Dialogue) -> str:
    for turn in reversed(dialogue.turns):
        if isinstance(turn, UserTurn):
            return turn.content
    return ""


def shown_records(dialogue: Dialogue) -> list[dict[str, Any]]:
    """Records the user has seen before the latest user message (what "这家" / "哪个" refer to)."""
    turns = dialogue.turns
    last_user = max((i for i, t in enumerate(turns) if isinstance(t, UserTurn)), default=len(turns))
    return Dialogue(turns[:last_user]).last_records() if isinstance(turns[-1], UserTurn) else dialogue.last_records()


@dataclass
class RulesBackend:
    lexicon: Lexicon = field(default_factory=load_lexicon)
    name: str = "rules"

    def __post_init__(self) -> None:
        self.bank = TemplateBank(self.lexicon.templates)

    def predict(self, dialogues: Sequence[Dialogue], *, on_text: TextCallback | None = None,
                cancel: threading.Event | None = None) -> list[Prediction]:
        return [Prediction(self.next_turn(d)) for d in dialogues]

    def next_turn(self, dialogue: Dialogue) -> SearchTurn | AssistantTurn:
        understanding = understand(last_user_text(dialogue), self.lexicon, shown_records(dialogue))
        decision = decide(dialogue, understanding)
        if decision.search is not None:
            return SearchTurn(decision.search)
        return AssistantTurn(generate(dialogue, self.bank, list(understanding.facility_question)))

    def signature(self) -> dict[str, Any]:
        return {"backend": self.name, "lexicon_version": LEXICON_VERSION}


def create_rules_backend(**options: Any) -> RulesBackend:
    return RulesBackend()


register("rules", create_rules_backend, "Offline rules: regex/lexicon NLU, data-style state, templated replies (fast, no model).")
