"""`hotel-agent` without a subcommand: the full-screen chat, or with --plain a line-mode chat on
stdin/stdout that scripts and tests drive (one message per line, exits on EOF)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TextIO

from agent.core.turns import Dialogue
from agent.dialogue.loop import (
    DialogueLoop,
    Event,
    Reply,
    ReplyText,
    SearchFinished,
    SearchRejected,
    SearchStarted,
    run_exchange,
)

PROMPT = "你: "
# Fields of a record worth a line in a terminal, in the order shown.
_COMPACT_FIELDS = ("type", "price", "rating", "subway", "phone")


def run_chat(backend: str, plain: bool, continue_last: bool, **backend_options: Any) -> None:
    if not plain:
        from agent.app.tui.app import run_tui

        run_tui(backend=backend, continue_last=continue_last, **backend_options)
        return
    from dataclasses import replace

    from agent.app.history import ConversationHistory
    from agent.core.store import HotelStore
    from backends.registry import create

    loop = DialogueLoop(create(backend, chat_only=True, **backend_options), HotelStore.open())
    history = ConversationHistory.open()
    model = backend_options.get("model")
    last = history.last() if continue_last else None
    # --continue appends to the last conversation (as the TUI does); otherwise a new one, saved once it has a turn
    conversation = (
        replace(last, backend=backend, model=model or last.model)
        if last is not None
        else ConversationHistory.new(backend, model)
    )

    def save(dialogue: Dialogue) -> None:
        nonlocal conversation
        conversation = history.save(replace(conversation, dialogue=dialogue))

    try:
        chat_lines(loop, sys.stdin, sys.stdout, conversation.dialogue, interactive=sys.stdin.isatty(), on_exchange=save)
    except KeyboardInterrupt:  # Ctrl-C ends the chat like EOF does, without a traceback
        sys.stdout.write("\n")


def chat_lines(
    loop: DialogueLoop,
    lines: TextIO,
    out: TextIO,
    dialogue: Dialogue | None = None,
    interactive: bool = False,
    on_exchange: Callable[[Dialogue], None] | None = None,
) -> Dialogue:
    """Run one exchange per non-empty input line until EOF; returns the whole dialogue. `on_exchange` gets
    the dialogue after each exchange (the plain chat saves it to the history there)."""
    render = make_renderer(out)
    dialogue = dialogue if dialogue is not None else Dialogue()
    while True:
        if interactive:
            out.write(PROMPT)
            out.flush()
        line = lines.readline()
        if not line:
            return dialogue
        text = line.strip()
        if not text:
            continue
        dialogue = run_exchange(loop, dialogue, text, render)
        if on_exchange is not None:
            on_exchange(dialogue)


def make_renderer(out: TextIO) -> Callable[[Event], None]:
    """Events as compact lines: `> search {...}`, `< N results (relaxed: ...)`, one line per hotel, the reply."""

    def render(event: Event) -> None:
        if isinstance(event, SearchStarted):
            out.write(f"> search {format_arguments(event.arguments)}\n")
        elif isinstance(event, SearchRejected):
            out.write(f"! rejected search: {event.error}\n")
        elif isinstance(event, SearchFinished):
            result = event.result
            note = f" (relaxed: {', '.join(result.relaxed)})" if result.relaxed else ""
            if result.near is not None and not result.near.known:
                note += f" (unknown place: {result.near.query})"
            elif result.near is not None and not result.near.nearby:
                note += f" (no hotel near {result.near.label})"
            out.write(f"< {len(result.records)} result{'s' if len(result.records) != 1 else ''}{note}\n")
            for index, record in enumerate(result.records):
                # a search near a place: how each hotel is near it, as one more field of the stable line format
                near = f" | near={result.near_reasons[index]}" if index < len(result.near_reasons) else ""
                out.write(f"  - {format_record(record)}{near}\n")
        elif isinstance(event, ReplyText):
            pass  # line mode prints the whole reply once, when it is complete (scripts read whole lines)
        elif isinstance(event, Reply):
            out.write(f"助手: {event.content}\n")
        out.flush()

    return render


def format_arguments(arguments: dict[str, Any]) -> str:
    import json

    return json.dumps(arguments, ensure_ascii=False)


def format_record(record: dict[str, Any]) -> str:
    parts = [str(record.get("name", "?"))]
    for key in _COMPACT_FIELDS:
        value = record.get(key)
        if value in (None, "", -1, -1.0):
            continue
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        parts.append(f"{key}={value}")
    return " | ".join(parts)
