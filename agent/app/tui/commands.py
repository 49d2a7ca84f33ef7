"""Slash commands typed in the chat input: parsed here, into plain values the app acts on."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any

from agent.core.errors import UserError

# `/backend NAME --model ID ...` takes the same options as the command line (backends.options).
_BACKEND_FLAGS = {
    "--model": ("model", str),
    "--adapter": ("adapter", str),
    "--gguf-file": ("gguf_file", str),
    "--max-new-tokens": ("max_new_tokens", int),
    "--device": ("device", str),
}


class CommandError(UserError):
    """A slash command that cannot be run as typed."""


@dataclass(frozen=True)
class SwitchBackend:
    name: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reset:
    pass


@dataclass(frozen=True)
class Export:
    path: str


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class Quit:
    pass


Command = SwitchBackend | Reset | Export | Help | Quit

HELP = """\
**Commands**

| command | what it does |
|---|---|
| `/backend NAME [--model ID] [--adapter DIR]` | switch backend; the conversation so far carries over |
| `/reset` | start a new conversation |
| `/export FILE` | append this conversation to FILE as one GLM-4 `messages` line (the training format) |
| `/help` | this help |
| `/quit` | leave (also ctrl+q) |

**Keys**

| key | what it does |
|---|---|
| enter | send · shift+enter or ctrl+j: new line · up/down on the first/last line: earlier messages |
| esc | stop the running generation |
| f2, then up/down and enter (or a click on a row) | book that hotel — or ask in the chat: 帮我订第二家，两晚，12月1日入住，名字张三 |
| shift+tab then `+` / `-` | rate the focused agent reply 👍 / 👎 (saved for `hotel-agent feedback export`) |
"""


def is_command(text: str) -> bool:
    """A message is a command when it starts with `/` and a letter (so `/` inside Chinese text is not)."""
    stripped = text.strip()
    return len(stripped) > 1 and stripped[0] == "/" and stripped[1].isascii() and stripped[1].isalpha()


def parse_command(text: str) -> Command:
    """The command typed in `text` (which `is_command`); CommandError names what is wrong."""
    try:
        words = shlex.split(text.strip()[1:])
    except ValueError as e:
        raise CommandError(f"cannot read the command ({e})") from None
    name, args = words[0].lower(), words[1:]
    if name == "backend":
        return _parse_backend(args)
    if name == "export":
        if len(args) != 1:
            raise CommandError("usage: /export FILE")
        return Export(args[0])
    simple: dict[str, type[Reset | Help | Quit]] = {"reset": Reset, "help": Help, "quit": Quit, "exit": Quit}
    if name in simple:
        if args:
            raise CommandError(f"/{name} takes no arguments")
        return simple[name]()
    raise CommandError(f"unknown command /{name}; /help lists the commands")


def _parse_backend(args: list[str]) -> SwitchBackend:
    if not args or args[0].startswith("-"):
        raise CommandError("usage: /backend NAME [--model ID] [--adapter DIR] (`hotel-agent backends` lists names)")
    name, rest, options = args[0], args[1:], {}
    while rest:
        flag, *rest = rest
        flag, _, inline = flag.partition("=")
        if flag not in _BACKEND_FLAGS:
            raise CommandError(f"unknown option {flag}; /backend accepts {', '.join(_BACKEND_FLAGS)}")
        if not inline:
            if not rest:
                raise CommandError(f"{flag} needs a value")
            inline, *rest = rest
        key, kind = _BACKEND_FLAGS[flag]
        try:
            options[key] = kind(inline)
        except ValueError:
            raise CommandError(f"{flag} must be a whole number, got {inline!r}") from None
    return SwitchBackend(name, options)
