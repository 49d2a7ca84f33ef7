"""Read and write the course's two file formats.

* GLM-4 dialogues (`*.glm4.jsonl`): {"messages": [system(tools), user, assistant, observation, ...]};
  an assistant message is a tool call when it reads "<tool name>\\n{json arguments}" (search_hotels, book_hotel,
  cancel_booking); the observation after a search is the JSON list of records, after a booking call the JSON
  object of its result.
* Turn-level samples (`dev.jsonl`, `test.jsonl`): {"context": "<json list of turns>", "response": "<json turn>"},
  both JSON-in-a-string, as the course's combine_and_split.py wrote them.

Both writers reproduce the course's files byte for byte (json.dumps with ensure_ascii=False)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from agent.core.errors import DataFormatError
from agent.core.schema import PROJECT_ARGUMENT_KEYS, SEARCH_HOTELS_TOOL, TOOL_NAMES, TOOLS, course_search_tool
from agent.core.turns import (
    AGENT_TYPES,
    AgentTurn,
    AssistantTurn,
    BookTurn,
    CallTurn,
    CancelTurn,
    Dialogue,
    ResultTurn,
    ReturnTurn,
    SearchTurn,
    Turn,
    UserTurn,
    call_turn,
    turn_from_json,
    turn_to_json,
)

CALL_PREFIXES = tuple(name + "\n" for name in TOOL_NAMES)
T = TypeVar("T")


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


# ---- GLM-4 messages ---------------------------------------------------------------------------------


def dialogue_from_messages(messages: Any) -> Dialogue:
    if not isinstance(messages, list):
        raise DataFormatError("'messages' must be a list")
    turns: list[Turn] = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("content"), str):
            raise DataFormatError(f"message {i} must be an object with a string 'content'")
        role, content = message.get("role"), message["content"]
        if role == "system":
            continue
        if role == "user":
            turns.append(UserTurn(content))
        elif role == "assistant" and content.startswith(CALL_PREFIXES):
            tool, _, body = content.partition("\n")
            try:
                arguments = json.loads(body)
            except json.JSONDecodeError as e:
                raise DataFormatError(f"message {i}: {tool} arguments are not JSON ({e.msg})") from None
            if not isinstance(arguments, dict):
                raise DataFormatError(f"message {i}: {tool} arguments must be a JSON object")
            turns.append(call_turn(tool, arguments))
        elif role == "assistant":
            turns.append(AssistantTurn(content))
        elif role == "observation":
            turns.append(_observation(i, content, turns[-1] if turns else None))
        else:
            raise DataFormatError(f"message {i}: unknown role {role!r}")
    return Dialogue(turns)


def _observation(i: int, content: str, call: Turn | None) -> ReturnTurn | ResultTurn:
    """A search's records (a JSON list) or a booking call's result (a JSON object), by the call it answers."""
    try:
        value = json.loads(content)
    except json.JSONDecodeError as e:
        raise DataFormatError(f"message {i}: observation is not JSON ({e.msg})") from None
    if isinstance(call, (BookTurn, CancelTurn)):
        if not isinstance(value, dict):
            raise DataFormatError(f"message {i}: the observation of {call.tool} must be a JSON object")
        return ResultTurn(value)
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        raise DataFormatError(f"message {i}: observation must be a JSON list of records")
    return ReturnTurn(value)


def dialogue_tools(dialogue: Dialogue) -> list[dict[str, Any]]:
    """The tools a dialogue's system message lists: the course's search_hotels alone for a search-only dialogue
    whose calls use only the course's arguments (so the course's files come back byte for byte), this project's
    search_hotels once a call uses `near`, every tool once the dialogue books or cancels."""
    if any(isinstance(t, (BookTurn, CancelTurn)) for t in dialogue):
        return list(TOOLS)
    if any(isinstance(t, SearchTurn) and any(k in t.arguments for k in PROJECT_ARGUMENT_KEYS) for t in dialogue):
        return [SEARCH_HOTELS_TOOL]
    return [course_search_tool()]


def dialogue_to_messages(dialogue: Dialogue) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [{"role": "system", "content": "", "tools": dialogue_tools(dialogue)}]
    for turn in dialogue:
        if isinstance(turn, UserTurn):
            messages.append({"role": "user", "content": turn.content})
        elif isinstance(turn, (SearchTurn, BookTurn, CancelTurn)):
            messages.append({"role": "assistant", "content": call_text(turn)})
        elif isinstance(turn, ReturnTurn):
            messages.append({"role": "observation", "content": _dumps(turn.records)})
        elif isinstance(turn, ResultTurn):
            messages.append({"role": "observation", "content": _dumps(turn.result)})
        else:
            messages.append({"role": "assistant", "content": turn.content})
    return messages


def call_text(turn: CallTurn) -> str:
    """A tool call as GLM-4 writes it: the tool name, a newline, the JSON arguments."""
    return f"{turn.tool}\n{_dumps(turn.arguments)}"


def dialogue_from_json_line(line: str) -> Dialogue:
    obj = _loads_line(line)
    if not isinstance(obj, dict) or "messages" not in obj:
        raise DataFormatError("expected an object with 'messages'")
    return dialogue_from_messages(obj["messages"])


def dialogue_to_json_line(dialogue: Dialogue) -> str:
    return _dumps({"messages": dialogue_to_messages(dialogue)})


# ---- turn-level samples -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One prediction task: the dialogue so far and the agent turn that comes next."""

    context: Dialogue
    response: AgentTurn


def sample_from_json_line(line: str) -> Sample:
    obj = _loads_line(line)
    if not isinstance(obj, dict) or not {"context", "response"} <= obj.keys():
        raise DataFormatError("expected an object with 'context' and 'response'")
    context = _loads_field(obj["context"], "context")
    if not isinstance(context, list):
        raise DataFormatError("'context' must be a JSON list of turns")
    response = turn_from_json(_loads_field(obj["response"], "response"))
    if not isinstance(response, AGENT_TYPES):
        raise DataFormatError(f"'response' must be a tool call or an assistant turn, got {response.role!r}")
    return Sample(Dialogue(turn_from_json(t) for t in context), response)


def sample_to_json_line(sample: Sample) -> str:
    context = _dumps([turn_to_json(t) for t in sample.context])
    return _dumps({"context": context, "response": _dumps(turn_to_json(sample.response))})


def dialogue_to_samples(dialogue: Dialogue) -> list[Sample]:
    """The course's rule: one sample per agent turn (a tool call or a reply) that has at least one turn before it."""
    return [Sample(dialogue[:i], turn) for i, turn in enumerate(dialogue) if i > 0 and isinstance(turn, AGENT_TYPES)]


# ---- files ------------------------------------------------------------------------------------------


def read_dialogues(path: str | Path) -> Iterator[Dialogue]:
    """Dialogues of a GLM-4 `messages` JSONL file; a bad line raises DataFormatError with its number."""
    yield from _read(path, dialogue_from_json_line)


def read_samples(path: str | Path) -> Iterator[Sample]:
    """Samples of a turn-level JSONL file, or derived from a GLM-4 dialogue file (detected per file)."""
    path = Path(path)
    if detect_format(path) == "messages":
        for dialogue in read_dialogues(path):
            yield from dialogue_to_samples(dialogue)
    else:
        yield from _read(path, sample_from_json_line)


def detect_format(path: str | Path) -> str:
    """'messages' or 'samples', from the first non-empty line."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if line.strip():
                    try:
                        obj = json.loads(line)
                    except json.JSONDecodeError as e:
                        raise DataFormatError(f"not JSON ({e.msg})", path=str(path), line=number) from None
                    if isinstance(obj, dict) and "messages" in obj:
                        return "messages"
                    if isinstance(obj, dict) and "context" in obj:
                        return "samples"
                    raise DataFormatError(
                        "neither a 'messages' dialogue nor a 'context'/'response' sample", path=str(path), line=number
                    )
    except OSError as e:
        raise DataFormatError(f"cannot read ({e.strerror})", path=str(path)) from None
    raise DataFormatError("the file is empty", path=str(path))


def write_jsonl(path: str | Path, lines: Iterable[str]) -> None:
    with Path(path).open("w", encoding="utf-8") as f:
        for line in lines:
            f.write(line + "\n")


def read_numbered(path: str | Path, parse: Callable[[str], T]) -> Iterator[tuple[int, str, T]]:
    """(line number, raw line, parsed) for every non-empty line; a bad line raises DataFormatError
    naming the file and line."""
    path = Path(path)
    try:
        f = path.open(encoding="utf-8")
    except OSError as e:
        raise DataFormatError(f"cannot read ({e.strerror})", path=str(path)) from None
    with f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                parsed = parse(line)
            except DataFormatError as e:
                raise DataFormatError(str(e), path=str(path), line=number) from None
            yield number, line, parsed


def _read(path: str | Path, parse: Callable[[str], T]) -> Iterator[T]:
    for _number, _line, parsed in read_numbered(path, parse):
        yield parsed


def _loads_line(line: str) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as e:
        raise DataFormatError(f"not JSON ({e.msg} at column {e.colno})") from None


def _loads_field(value: Any, name: str) -> Any:
    if not isinstance(value, str):
        raise DataFormatError(f"'{name}' must be a JSON string")
    try:
        return json.loads(value)
    except json.JSONDecodeError as e:
        raise DataFormatError(f"'{name}' is not valid JSON ({e.msg})") from None
