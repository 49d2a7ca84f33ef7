"""`hotel-agent`: the chat (TUI, or `--plain` line mode) and its subcommands."""

from __future__ import annotations

import importlib

import click

from agent.core.cli_support import FriendlyGroup
from backends.options import backend_kwargs, backend_options

# Subcommands are imported only when used, so `hotel-agent` starts without loading what it does not need.
SUBCOMMANDS = {
    "data": ("agent.app.data_command", "data"),
    "search": ("agent.app.search_command", "search"),
    "bookings": ("agent.app.bookings_command", "bookings"),
    "history": ("agent.app.history_command", "history"),
    "feedback": ("agent.app.feedback_command", "feedback"),
    "models": ("agent.app.models_command", "models"),
    "backends": ("agent.app.backends_command", "backends"),
}


class HotelAgentGroup(FriendlyGroup):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in SUBCOMMANDS:
            return None
        module, attr = SUBCOMMANDS[name]
        return getattr(importlib.import_module(module), attr)


@click.group(cls=HotelAgentGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@backend_options("rules")
@click.option("--plain", is_flag=True, help="Line-mode chat on stdin/stdout instead of the full-screen app.")
@click.option("--continue", "continue_last", is_flag=True, help="Resume the last saved conversation.")
@click.pass_context
def main(ctx: click.Context, backend: str, plain: bool, continue_last: bool, **options) -> None:
    """Chat with a hotel-booking agent for Beijing (in Chinese).

    With no subcommand, opens the chat with the chosen backend (default: the offline `rules` backend).
    Data is read from $HOTEL_AGENT_DATA (default: the user cache dir; `hotel-agent data download`)."""
    if ctx.invoked_subcommand is not None:
        return
    from agent.app.chat_command import run_chat

    run_chat(backend=backend, plain=plain, continue_last=continue_last, **backend_kwargs(options))


if __name__ == "__main__":  # python -m agent.app.cli, as the console script does
    main()
