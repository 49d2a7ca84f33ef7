"""The `rules` backend: offline, deterministic, fast; the default chat backend and the baseline."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from agent.core.errors import UserError
from agent.core.turns import AssistantTurn, Dialogue, SearchTurn, UserTurn
from backends.base import Prediction, TextCallback
from backends.registry import register
from backends.rules.lexicon import Lexicon, lexicon_cache_key, load_lexicon
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
    """Loads (or mines) its lexicon on first use, so creating it is instant (the chat shows its prompt
    at once and the first message pays the one-off mining, ~2 s, when the cache is cold)."""

    _lexicon: Lexicon | None = None
    name: str = "rules"
    _bank: TemplateBank | None = field(default=None, repr=False)

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

    def next_turn(self, dialogue: Dialogue) -> SearchTurn | AssistantTurn:
        understanding = understand(last_user_text(dialogue), self.lexicon, shown_records(dialogue))
        decision = decide(dialogue, understanding)
        if decision.search is not None:
            return SearchTurn(decision.search)
        return AssistantTurn(generate(dialogue, self.bank, list(understanding.facility_question)))

    def signature(self) -> dict[str, Any]:
        return {"backend": self.name, "lexicon": lexicon_cache_key()}


def create_rules_backend(**options: Any) -> RulesBackend:
    if options:
        raise UserError(
            f"the rules backend takes no model options (got {', '.join('--' + k.replace('_', '-') for k in options)})"
        )
    return RulesBackend()


register(
    "rules",
    create_rules_backend,
    "Offline rules: regex/lexicon NLU, data-style state, templated replies (fast, no model).",
)
