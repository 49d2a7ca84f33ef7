"""`hotel-agent` without a subcommand: the full-screen chat, or with --plain the line-mode chat on
stdin/stdout that scripts and tests drive (agent.app.plain)."""

from __future__ import annotations

from typing import Any


def run_chat(backend: str, plain: bool, continue_last: bool, **backend_options: Any) -> None:
    if plain:
        from agent.app.plain import run_plain

        run_plain(backend=backend, continue_last=continue_last, **backend_options)
        return
    from agent.app.tui.app import run_tui

    run_tui(backend=backend, continue_last=continue_last, **backend_options)
