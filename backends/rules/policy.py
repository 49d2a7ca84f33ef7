"""Search or reply: the decision the data makes on every user message.

A message that adds or changes a constraint (a new type, price, rating, facility or name) starts a
search carrying the dialogue state; questions about hotels already shown, a choice, thanks and goodbyes
are answered from the records in context."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agent.turns import Dialogue, ReturnTurn, UserTurn
from backends.rules.nlu import Understanding
from backends.rules.state import changes_state, last_search, update_state


@dataclass(frozen=True)
class Decision:
    search: dict[str, Any] | None  # arguments when the agent should search, else None (reply)


def decide(dialogue: Dialogue, understanding: Understanding) -> Decision:
    if not dialogue.turns or isinstance(dialogue.turns[-1], ReturnTurn):
        return Decision(None)  # a search just returned: answer with its records
    previous = last_search(dialogue)
    mentioned = dict(understanding.slots)
    if previous is None:
        # The first request is always a search, even one with no constraint yet ("帮我找个酒店").
        if understanding.thanks and not mentioned or understanding.bye and not mentioned:
            return Decision(None)
        return Decision(update_state(None, mentioned))
    if changes_state(previous, mentioned):
        return Decision(update_state(previous, mentioned))
    return Decision(None)
