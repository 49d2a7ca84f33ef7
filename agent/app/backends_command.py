"""`hotel-agent backends`: list the backend names the chat accepts and, for each, whether it runs offline now
or what it still needs (an extra, `models fetch smollm2`, a hub download, an adapter), with the fixes below."""

from __future__ import annotations

import click

from agent.core import datafiles
from backends.llm.readiness import Need, backend_needs
from backends.registry import available

READY = "offline now"


@click.command()
@click.option("--all", "show_all", is_flag=True, help="Include harness-only backends (gold, reply-only).")
def backends(show_all: bool) -> None:
    """List the backends --backend accepts: whether each runs offline now, or what it needs first."""
    entries = available(chat_only=not show_all)
    needs = {entry.name: backend_needs(entry.name) for entry in entries}
    states = {name: ", ".join(n.tag for n in found) or READY for name, found in needs.items()}
    width = max(len(s) for s in states.values())
    for entry in entries:
        click.echo(f"{entry.name:16} {states[entry.name]:{width}}  {entry.description}")
    used: dict[str, Need] = {n.tag: n for found in needs.values() for n in found}
    if used:
        click.echo("")
    for need in used.values():
        click.echo(f"{need.tag}: {need.fix}")
    missing = [f.path for f in datafiles.DATA_FILES if not (datafiles.data_dir() / f.path).is_file()]
    if missing:
        click.echo(
            f"\nevery backend needs the data files ({len(missing)} missing in {datafiles.data_dir()}): "
            f"{datafiles.FIX_HINT}"
        )
