"""`hotel-agent backends`: list the backend names the chat accepts."""

import click

from backends.registry import available


@click.command()
@click.option("--all", "show_all", is_flag=True, help="Include harness-only backends (gold, reply-only).")
def backends(show_all: bool) -> None:
    """List the backends --backend accepts."""
    for entry in available(chat_only=not show_all):
        click.echo(f"{entry.name:16} {entry.description}")
