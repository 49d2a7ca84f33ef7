"""Chat mode: `/v1/chat/completions` with our tools, for any served chat model (prompt-only function calling).

The server renders the messages with the model's own chat template. A native `tool_calls` entry becomes the
turn of that tool (`agent.core.turns.call_turn`); a reply whose text is a call in a family's own format
(GLM-4's `search_hotels\\n{...}`, or a bare arguments object) goes through our parser
(`backends.llm.parsing.parse_agent_turn`), like the in-process backends' output. Arguments are validated later,
by the dialogue loop, as every backend's are."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from agent.core.schema import TOOL_NAMES, TOOLS
from agent.core.turns import AgentTurn, Dialogue, call_turn
from backends.llm.parsing import display_text, loads_lenient, parse_agent_turn
from backends.served.client import ServedError
from backends.served.messages import chat_messages

# What a prompt-only chat model needs to know: who it is, when to call which tool, to answer from results only.
CHAT_SYSTEM_PROMPT = """你是北京酒店预订助手，用中文回答用户。
- 用户提出找酒店的需求（名称、类型、设施、价格、评分）时，调用 search_hotels，只填用户提到的条件；用户追加条件时，合并之前的条件重新查询。
- 用户选定酒店并给出入住人、入住日期和晚数时，调用 book_hotel；要取消预订时，调用 cancel_booking。系统会先请用户确认。
- 只根据工具返回的结果回答，不要编造；没有结果时如实说明并建议放宽条件。预订或取消只有在工具结果表明成功时才算完成。"""


def chat_payload(dialogue: Dialogue, model: str, max_tokens: int) -> dict[str, Any]:
    """The request body (greedy decoding; usage asked for in the stream where the server supports it)."""
    return {
        "model": model,
        "messages": chat_messages(dialogue, CHAT_SYSTEM_PROMPT),
        "tools": list(TOOLS),
        "tool_choice": "auto",
        "temperature": 0,
        "max_tokens": max_tokens,
        "stream_options": {"include_usage": True},
    }


@dataclass
class ToolCallParts:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


@dataclass
class ChatStream:
    """Accumulates the chunks of one streamed chat completion."""

    family: str
    content: list[str] = field(default_factory=list)
    calls: dict[int, ToolCallParts] = field(default_factory=dict)
    chunks: int = 0  # chunks that carried generated text: the token count when the server reports no usage
    usage_tokens: int | None = None
    _shown: int = 0

    def add(self, chunk: dict[str, Any]) -> str:
        """Take one chunk; returns the reply text that may now be shown ("" while it may still be a call)."""
        usage = chunk.get("usage")
        if isinstance(usage, dict) and isinstance(usage.get("completion_tokens"), int):
            self.usage_tokens = usage["completion_tokens"]
        choices = chunk.get("choices") or []
        if not isinstance(choices, list):
            raise ServedError(f"the server sent 'choices' of type {type(choices).__name__}, not a list")
        for choice in choices[:1]:  # n=1: one choice
            if not isinstance(choice, dict):
                raise ServedError("the server sent a choice that is not a JSON object")
            delta = choice.get("delta") or choice.get("message") or {}  # "message": a server that did not stream
            if not isinstance(delta, dict):
                raise ServedError("the server sent a delta that is not a JSON object")
            text = delta.get("content")
            if isinstance(text, str) and text:
                self.content.append(text)
                self.chunks += 1
            calls = delta.get("tool_calls") or []
            if not isinstance(calls, list):
                raise ServedError("the server sent 'tool_calls' that is not a list")
            for position, call in enumerate(calls):
                self._add_call(call, position)
        if self.calls:
            return ""
        shown = display_text("".join(self.content), self.family) or ""
        new, self._shown = shown[self._shown :], max(self._shown, len(shown))
        return new

    def _add_call(self, call: Any, position: int) -> None:
        if not isinstance(call, dict):
            raise ServedError("the server sent a tool call that is not a JSON object")
        index = call.get("index", position)  # streamed pieces carry an index; a whole message lists calls in order
        if not isinstance(index, int) or isinstance(index, bool):
            raise ServedError(f"the server sent a tool call with index {index!r}")
        parts = self.calls.setdefault(index, ToolCallParts())
        parts.id = parts.id or str(call.get("id") or "")
        function = call.get("function") or {}
        if not isinstance(function, dict):
            raise ServedError("the server sent a tool call whose 'function' is not a JSON object")
        if isinstance(function.get("name"), str):
            parts.name += function["name"]
        arguments = function.get("arguments")
        if isinstance(arguments, dict):  # some servers send the object itself rather than its JSON text
            arguments = json.dumps(arguments, ensure_ascii=False)
        if isinstance(arguments, str):
            parts.arguments.append(arguments)
            self.chunks += 1

    @property
    def tokens(self) -> int:
        return self.usage_tokens if self.usage_tokens is not None else self.chunks

    def shown(self) -> str:
        """The reply text shown so far (what a stopped reply keeps)."""
        return "" if self.calls else display_text("".join(self.content), self.family) or ""

    def turn(self) -> tuple[AgentTurn, str]:
        """(the agent turn, the raw text to record). A native call wins over text; of several parallel calls
        the first is taken (the dialogue loop runs one call at a time)."""
        text = "".join(self.content)
        if not self.calls:
            return parse_agent_turn(text, self.family), text
        calls = [self.calls[i] for i in sorted(self.calls)]
        raw = json.dumps(
            {"content": text, "tool_calls": [{"name": c.name, "arguments": "".join(c.arguments)} for c in calls]},
            ensure_ascii=False,
        )
        first = calls[0]
        if first.name not in TOOL_NAMES:
            raise ServedError(
                f"the model called an unknown tool {first.name!r} (ours: {', '.join(TOOL_NAMES)})"
                if first.name
                else "the server sent a tool call without a function name"
            )
        return call_turn(first.name, tool_arguments("".join(first.arguments))), raw


def tool_arguments(text: str) -> dict[str, Any]:
    """A call's arguments from their JSON text: strict JSON first (NaN and Infinity refused: they are not JSON),
    else the lenient reader our parser uses (single quotes, a cut-off end); {} when nothing is an object."""
    if not text.strip():
        return {}
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except ValueError:
        value = loads_lenient(text)
    return value if isinstance(value, dict) else {}


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
