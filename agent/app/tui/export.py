"""`/export FILE`: the conversation as one line of the training format, appended to a file of the user's, so
chats can become fine-tuning data (`finetune` reads such files)."""

from __future__ import annotations

from pathlib import Path

from agent.core.codecs import dialogue_to_json_line
from agent.core.errors import UserError
from agent.core.turns import Dialogue


def export_dialogue(dialogue: Dialogue, path: Path) -> str:
    """Append `dialogue` to `path` as one GLM-4 `messages` line; returns what to tell the user. UserError when
    there is nothing to export or the file cannot be written."""
    if not len(dialogue):
        raise UserError("nothing to export yet")
    line = dialogue_to_json_line(dialogue) + "\n"
    try:
        with path.open("a", encoding="utf-8") as out:
            out.write(line)
    except OSError as e:
        raise UserError(f"cannot write {path}: {e.strerror}") from None
    return f"appended this conversation ({len(dialogue)} turns) to {path} as one GLM-4 messages line"
