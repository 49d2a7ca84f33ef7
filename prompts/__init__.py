"""Chat templates: the one definition of the text each model family sees, for training and inference alike.

The contract (stable; `finetune` and the LLM backends build on it):

* `render_segments(family, dialogue, *, add_generation_prompt, settings=None) -> list[Segment]`
  A `Segment` is `(text, trainable, kind)`:
  - `kind == "special"`: exactly one control token of the family (`<|im_start|>`, `<|eot_id|>`, `[gMASK]`...),
    always written by the template itself, never by a user;
  - `kind == "text"`: plain text (template wording, user messages, JSON of arguments and records). It must be
    tokenized as plain text: a user typing `<|im_end|>` gets the characters, not the control token.
  - `trainable`: True on model output only — each search / assistant turn (the role the model writes, its
    content) and the stop token that ends it (the model must learn to stop). Loss goes on these alone.
  Adjacent segments of the same kind and trainability are merged.
* `render_text(...)`: the segments joined — the exact string the model sees.
* `RenderSettings(record_style, system)`: how arguments/records are serialized (`RECORD_STYLES`) and the
  optional system prompt; `default_settings(family)` gives the family's default (no system prompt).
* `template_hash(family, settings)`: sha256 of the template source plus the settings; recorded with every
  adapter so a model is never served a layout it was not trained on.

Content reaches the output only through `{{ ... }}` expressions, which the environment's `finalize` hook turns
into opaque placeholders; so the only text ever split into control tokens is the template's own markup."""

from __future__ import annotations

import contextvars
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal, NamedTuple

import jinja2

from agent.core.schema import BOOK_TOOL_NAME, HOTEL_TYPES, TOOL_NAME, TOOLS, tool_json
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
from prompts.families import MODEL_ROLES, RECORD_STYLES, Family, get_family

SegmentKind = Literal["special", "text"]


class Segment(NamedTuple):
    text: str
    trainable: bool
    kind: SegmentKind


@dataclass(frozen=True)
class RenderSettings:
    record_style: str  # one of RECORD_STYLES
    system: str | None = None  # a system prompt (prompt-only backends); None: the template's own

    def __post_init__(self) -> None:
        if self.record_style not in RECORD_STYLES:
            raise ValueError(f"record_style must be one of {RECORD_STYLES}, got {self.record_style!r}")


def default_settings(family: str | Family) -> RenderSettings:
    return RenderSettings(record_style=get_family(family).record_style)


def serialize_json(obj: Any, style: str) -> str:
    """Arguments and records as the prompt shows them (non-ASCII kept, as in the course data)."""
    if style == "indent4":
        return json.dumps(obj, ensure_ascii=False, indent=4)
    if style == "compact":
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    if style == "spaced":
        return json.dumps(obj, ensure_ascii=False)
    raise ValueError(f"unknown record style {style!r}")


# ---- rendering ---------------------------------------------------------------------------------------

_BEGIN, _END = "\x00B\x00", "\x00E\x00"
_MARK = re.compile(r"\x00(B|E|T\d+)\x00")
_contents: contextvars.ContextVar[list[str]] = contextvars.ContextVar("_contents")


class _Markup(str):
    """Template-made markers that pass `finalize` untouched."""


def _finalize(value: Any) -> str:
    if isinstance(value, _Markup):
        return value
    contents = _contents.get()
    contents.append(str(value))
    return f"\x00T{len(contents) - 1}\x00"


def _tojson(value: Any, indent: int | None = None) -> str:
    # Jinja's own tojson HTML-escapes < > & '; transformers' chat templates use plain json.dumps like this.
    return json.dumps(value, ensure_ascii=False, indent=indent)


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(template_source),
        finalize=_finalize,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
    )
    env.filters["tojson"] = _tojson
    env.globals.update(
        begin_output=lambda: _Markup(_BEGIN),
        end_output=lambda: _Markup(_END),
        model_roles=MODEL_ROLES,
        tools=[tool["function"] for tool in TOOLS],
    )
    return env


@cache
def template_source(name: str) -> str:
    """The text of `prompts/<name>` (package data)."""
    source = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    if "\x00" in source:
        raise ValueError(f"prompts/{name} contains a NUL character, which the renderer reserves")
    return source


@cache
def _special_pattern(family: Family) -> re.Pattern[str]:
    tokens = sorted(family.special_tokens, key=len, reverse=True)  # longest first: no prefix shadowing
    return re.compile("(" + "|".join(map(re.escape, tokens)) + ")")


def _turn_context(turn: Turn, style: str) -> dict[str, str]:
    """What a template sees of a turn: its role, its text, and for a tool call the tool's name."""
    if isinstance(turn, (UserTurn, AssistantTurn)):
        return {"role": turn.role, "text": turn.content}
    if isinstance(turn, (SearchTurn, BookTurn, CancelTurn)):
        # The reference drops None-valued arguments before showing them.
        text = serialize_json({k: v for k, v in turn.arguments.items() if v is not None}, style)
        return {"role": turn.role, "text": text, "tool": turn.tool}
    if isinstance(turn, ReturnTurn):
        return {"role": turn.role, "text": serialize_json(turn.records, style)}
    if isinstance(turn, ResultTurn):
        return {"role": turn.role, "text": serialize_json(turn.result, style)}
    raise TypeError(f"not a turn: {turn!r}")


def render_segments(
    family: str | Family,
    dialogue: Dialogue | Sequence[Turn],
    *,
    add_generation_prompt: bool,
    settings: RenderSettings | None = None,
) -> list[Segment]:
    """The dialogue as the family's model sees it, split into control tokens and text, with model output
    marked trainable. `add_generation_prompt=True` (inference) appends what precedes the model's next turn."""
    family = get_family(family)
    settings = settings or default_settings(family)
    turns = list(dialogue)
    contents: list[str] = []
    token = _contents.set(contents)
    try:
        rendered = (
            _environment()
            .get_template(family.template)
            .render(
                turns=[_turn_context(t, settings.record_style) for t in turns],
                system=settings.system,
                add_generation_prompt=add_generation_prompt,
                ends_with_model_turn=bool(turns) and turns[-1].role in MODEL_ROLES,
            )
        )
    finally:
        _contents.reset(token)

    segments: list[Segment] = []
    trainable = False
    pieces = _MARK.split(rendered)  # literal, mark, literal, mark, ...
    for i, piece in enumerate(pieces):
        if i % 2 == 1:
            if piece == "B":
                trainable = True
            elif piece == "E":
                trainable = False
            else:
                _append(segments, Segment(contents[int(piece[1:])], trainable, "text"))
            continue
        # Literal template text: the only place control tokens come from.
        for j, part in enumerate(_special_pattern(family).split(piece)):
            if part:
                _append(segments, Segment(part, trainable, "special" if j % 2 else "text"))
    return _train_stop_after_output(segments, family)


def _append(segments: list[Segment], segment: Segment) -> None:
    if (
        segment.kind == "text"
        and segments
        and segments[-1].kind == "text"
        and segments[-1].trainable == segment.trainable
    ):
        segments[-1] = Segment(segments[-1].text + segment.text, segment.trainable, "text")
    elif segment.text:
        segments.append(segment)


def _train_stop_after_output(segments: list[Segment], family: Family) -> list[Segment]:
    """The stop token right after a model turn is trained too: that is how the model learns to stop."""
    out = list(segments)
    for i in range(1, len(out)):
        previous, current = out[i - 1], out[i]
        if (
            previous.trainable
            and not current.trainable
            and current.kind == "special"
            and current.text in family.stop_tokens
        ):
            out[i] = current._replace(trainable=True)
    return out


def render_text(
    family: str | Family,
    dialogue: Dialogue | Sequence[Turn],
    *,
    add_generation_prompt: bool,
    settings: RenderSettings | None = None,
) -> str:
    """The exact string the model sees."""
    return "".join(
        s.text
        for s in render_segments(family, dialogue, add_generation_prompt=add_generation_prompt, settings=settings)
    )


def template_hash(family: str | Family, settings: RenderSettings | None = None) -> str:
    """sha256 of the template source and the render settings (and, for a template that lists the tools, of
    their schemas): equal hashes mean identical prompts."""
    family = get_family(family)
    settings = settings or default_settings(family)
    source = template_source(family.template)
    payload = source + "\n" + json.dumps(asdict(settings), ensure_ascii=False, sort_keys=True)
    if "tools" in source:  # a schema change (a new argument) changes what such a model is shown
        payload += "\n" + json.dumps(TOOLS, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


# ---- the prompt-only system prompt ----------------------------------------------------------------------


def render_system_prompt(examples: Sequence[Sequence[str]] = ()) -> str:
    """The Chinese system prompt of the prompt-only backends. `examples`: a few dialogues, each a list of
    lines (see `example_lines`), taken from train.glm4.jsonl only."""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    template = env.from_string(template_source("system_prompt.jinja"))
    return template.render(
        tools=[tool_json(indent=2, tool=tool) for tool in TOOLS],
        search_tool=TOOL_NAME,
        book_tool=BOOK_TOOL_NAME,
        hotel_types="、".join(HOTEL_TYPES),
        examples=[list(e) for e in examples],
    )


def example_lines(dialogue: Dialogue, max_records: int = 2) -> list[str]:
    """One dialogue as short role-prefixed lines for the system prompt (records cut to a few fields)."""
    lines = []
    for turn in dialogue:
        if isinstance(turn, UserTurn):
            lines.append(f"user: {turn.content}")
        elif isinstance(turn, (SearchTurn, BookTurn, CancelTurn)):
            lines.append(f"{turn.role}: " + serialize_json(turn.arguments, "spaced"))
        elif isinstance(turn, ResultTurn):
            lines.append("result: " + serialize_json(turn.result, "spaced"))
        elif isinstance(turn, ReturnTurn):
            short = [
                {k: r[k] for k in ("name", "type", "price", "rating") if k in r} for r in turn.records[:max_records]
            ]
            lines.append("return: " + serialize_json(short, "spaced"))
        else:
            lines.append(f"assistant: {turn.content}")
    return lines
