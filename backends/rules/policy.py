"""Search or reply: the decision the data makes on every user message.

A message that mentions a constraint (type, price, rating, facility or name; new, changed or restated)
starts a search carrying the dialogue state; questions about hotels already shown, a choice, thanks and
goodbyes are answered from the records in context. One exception, learned from train: the data's added
follow-up questions (这家酒店有没有X？ / 哪家有X更好) are answered, while the original dialogues' facility
questions (酒店设施是否有X) search."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agent.core.turns import Dialogue, ReturnTurn
from backends.rules.nlu import Understanding
from backends.rules.places import without_replaced_place
from backends.rules.relaxations import Lifted, wanted, without
from backends.rules.state import changes_state, update_state


@dataclass(frozen=True)
class Decision:
    search: dict[str, Any] | None  # arguments when the agent should search, else None (reply)


def decide(
    dialogue: Dialogue, understanding: Understanding, lift: Lifted | None = None, *, about_shown: bool = False
) -> Decision:
    """Search (with the state carried and `lift`ed constraints taken out) or reply. `about_shown`: the message is
    a question about the hotels shown (see backends.rules.questions), answered from their records."""
    if not dialogue.turns or isinstance(dialogue.turns[-1], ReturnTurn):
        return Decision(None)  # a search just returned: answer with its records
    previous = without_replaced_place(dialogue.last_search(), understanding.slots)
    if previous is not None and about_shown:
        return Decision(None)
    mentioned = dict(understanding.slots)
    if previous is not None and lift:
        # 价格不限 / 不要求健身房了: the same search without them, plus whatever else the message asks for.
        return Decision(update_state(without(previous, lift), wanted(mentioned, lift)))
    if previous is None:
        # The first request is always a search, even one with no constraint yet ("帮我找个酒店").
        if understanding.thanks and not mentioned or understanding.bye and not mentioned:
            return Decision(None)
        return Decision(update_state(None, mentioned))
    changed = {k for k in mentioned if changes_state(previous, {k: mentioned[k]})}
    if set(mentioned) == {"facilities"} and understanding.about_shown:
        return Decision(None)  # 这家酒店有没有X: answered from the records shown
    if understanding.choice and not changed:
        return Decision(None)  # 我决定入住这家豪华的酒店: a choice, even if it repeats a constraint
    if mentioned:
        # Restating a constraint (推荐一家评分4.5分以上的) searches again in the data, changed or not.
        return Decision(update_state(previous, mentioned))
    return Decision(None)
