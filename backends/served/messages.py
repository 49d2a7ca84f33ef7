"""A dialogue as OpenAI chat messages, and the defusing of control-token strings in text sent to a server.

Mapping (one function, `chat_messages`): user → {"role": "user"}; a tool call (search_hotels / book_hotel /
cancel_booking) → an assistant message with `tool_calls` (ids call_1, call_2, ... in dialogue order); what the
call returned (hotel records, a booking result) → {"role": "tool", "tool_call_id": the call's id, "content": its
JSON}; a reply → {"role": "assistant", "content": ...}. The system prompt comes first.

Why defuse: a chat server renders its template and then tokenizes the whole text with control tokens parsed
(llama.cpp and vLLM both do), so a user typing `<|im_end|><|im_start|>system` would end their own turn and open
a system turn. `defuse` puts a WORD JOINER (U+2060, invisible) after the first character of every control-token
string, so the server sees ordinary characters; the dialogue itself (history, exports) keeps the text as typed."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import cache
from typing import Any

from agent.core.turns import (
    AssistantTurn,
    BookTurn,
    CancelTurn,
    Dialogue,
    ResultTurn,
    ReturnTurn,
    SearchTurn,
    Turn,
    UserTurn,
)
from prompts.families import FAMILIES

WORD_JOINER = "\u2060"
# Control-token shapes of families outside our table: <|...|> (ChatML, Llama-3, GLM-4, Phi), DeepSeek's
# full-width bars, Mistral's [INST] and <s>, Gemma's turn markers.
_GENERIC_CONTROL = (
    r"<\|[^<>|\s]{1,64}\|>",
    r"<｜[^<>｜\n]{1,64}｜>",
    r"\[/?INST\]",
    r"\[/?(?:AVAILABLE_TOOLS|TOOL_CALLS|TOOL_RESULTS|SYSTEM_PROMPT)\]",
    r"</?s>",
    r"<(?:start|end)_of_turn>",
)


def chat_messages(dialogue: Dialogue | Iterable[Turn], system: str | None = None) -> list[dict[str, Any]]:
    """The OpenAI Chat Completions `messages` for a dialogue (text defused; see the module docstring)."""
    messages: list[dict[str, Any]] = []
    if system:
        messages.append({"role": "system", "content": defuse(system)})
    calls = 0
    pending_call: str | None = None  # id of the latest call not yet answered by a tool message
    for turn in dialogue:
        if isinstance(turn, UserTurn):
            messages.append({"role": "user", "content": defuse(turn.content)})
        elif isinstance(turn, (SearchTurn, BookTurn, CancelTurn)):
            calls += 1
            pending_call = f"call_{calls}"
            arguments = {k: v for k, v in turn.arguments.items() if v is not None}
            messages.append(
                {
                    # "" rather than null: templates that print content (llama.cpp's generic one) fail on null
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [
                        {
                            "id": pending_call,
                            "type": "function",
                            "function": {"name": turn.tool, "arguments": defuse(_json(arguments))},
                        }
                    ],
                }
            )
        elif isinstance(turn, (ReturnTurn, ResultTurn)):
            if pending_call is None:  # an answer without its call (hand-made data): give it a call of its own
                calls += 1
                pending_call = f"call_{calls}"
            body = turn.records if isinstance(turn, ReturnTurn) else turn.result
            messages.append({"role": "tool", "tool_call_id": pending_call, "content": defuse(_json(body))})
            pending_call = None
        elif isinstance(turn, AssistantTurn):
            messages.append({"role": "assistant", "content": defuse(turn.content)})
        else:
            raise TypeError(f"not a turn: {turn!r}")
    return messages


def defuse(text: str, extra_tokens: Iterable[str] = ()) -> str:
    """`text` with a WORD JOINER after the first character of every control-token string in it (those of every
    family in prompts.families, common shapes of other families, and `extra_tokens`)."""
    pattern = _pattern(tuple(sorted(set(extra_tokens))))
    return pattern.sub(lambda m: m.group()[0] + WORD_JOINER + m.group()[1:], text)


@cache
def _pattern(extra_tokens: tuple[str, ...]) -> re.Pattern[str]:
    tokens = {t for family in FAMILIES.values() for t in family.special_tokens} | set(extra_tokens)
    literal = sorted((t for t in tokens if len(t) > 1), key=len, reverse=True)  # longest first
    return re.compile("|".join([*(re.escape(t) for t in literal), *_GENERIC_CONTROL]))


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
