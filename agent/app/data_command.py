"""`hotel-agent data download|check|path|repair`."""

from __future__ import annotations

from pathlib import Path

import click
from tqdm import tqdm

from agent.core import datafiles
from agent.core.errors import DataMissingError, UserError


@click.group()
def data() -> None:
    """Fetch and verify the CrossWOZ hotel database and the course's dialogue splits; repair the cache."""


@data.command()
def path() -> None:
    """Print the data directory in use ($HOTEL_AGENT_DATA or the user cache)."""
    click.echo(datafiles.data_dir())


@data.command()
@click.option("--force", is_flag=True, help="Download even files that are already present and valid.")
def download(force: bool) -> None:
    """Download every data file from its upstream URL, verify its sha256, and write it atomically."""
    directory = datafiles.data_dir()
    for file in datafiles.DATA_FILES:
        if not force and datafiles.check_file(file, directory).ok:
            click.echo(f"ok        {file.path}")
            continue
        # The bar is closed (and, on a terminal, wiped) before an error propagates, so `error: ...` starts a
        # line of its own; disable=None: no bar at all when stderr is not a terminal (logs, pipes, CI).
        with tqdm(desc=file.path, unit="B", unit_scale=True, leave=False, disable=None) as bar:

            def progress(n: int, total: int | None) -> None:
                if total and bar.total != total:
                    bar.total = total
                bar.update(n)

            datafiles.download_file(file, directory, progress)
        click.echo(f"fetched   {file.path}")
    click.echo(f"data is in {directory}")


@data.command()
def check() -> None:
    """Verify every data file (presence, sha256) and print line counts."""
    directory = datafiles.data_dir()
    bad = 0
    for file in datafiles.DATA_FILES:
        status = datafiles.check_file(file, directory)
        if status.ok:
            count = f"{status.lines} lines" if status.lines is not None else ""
            click.echo(f"ok        {file.path:28} {count}")
        else:
            bad += 1
            click.echo(f"BAD       {file.path:28} {status.problem}")
    if bad:
        raise DataMissingError(f"{bad} data file(s) missing or corrupt in {directory}; {datafiles.FIX_HINT}")
    click.echo(f"all {len(datafiles.DATA_FILES)} files verified in {directory}")


@data.command()
def repair() -> None:
    """Keep damaged files of the cache dir aside and let new ones start.

    Checks the store (hotels.json: the hotels and your bookings) and the chat history (history.json). A file
    that cannot be read is renamed, byte for byte, to <name>.damaged-<time> beside it (never deleted, never
    overwritten), so that what it holds can still be recovered by hand; the next command starts a new one.
    Bookings that still read well in a damaged store are carried over to the new one under their own numbers.
    Files that read well are left alone."""
    from agent.app import history
    from agent.core.atomic_storage import damage, locked, move_aside
    from agent.core.store import STORE_FILE, STORE_TABLES

    directory = datafiles.ensure_cache_dir()
    moved = 0
    for name, tables in ((STORE_FILE, STORE_TABLES), (history.HISTORY_FILE, history.TABLES)):
        path = directory / name
        if not path.exists():
            click.echo(f"absent    {path}")
            continue
        with locked(path):  # no writer is half-way through a write while the file is checked and moved
            problem = damage(path, tables)
            kept = move_aside(path) if problem is not None else None
        if kept is None:
            click.echo(f"ok        {path}")
        else:
            moved += 1
            click.echo(f"moved     {path} to {kept.name} ({problem}); a new one starts with the next command")
            if name == STORE_FILE:
                _carry_bookings_over(kept)
    if not moved:
        click.echo(f"nothing to repair in {directory}")


def _carry_bookings_over(kept: Path) -> None:
    """Into a new store: the bookings of the store kept aside that still read well (the rest stay in the copy)."""
    from agent.core.bookings import Bookings, readable_bookings
    from agent.core.store import HotelStore

    found, unreadable = readable_bookings(kept)
    left = f"; {unreadable} that cannot be read stay only in {kept.name}" if unreadable else ""
    if not found:
        if unreadable:
            click.echo(f"          no booking in it reads well{left}")
        return
    try:
        restored = Bookings(HotelStore.open(learn_facilities=False)).restore(found)
    except UserError as e:  # no hotel data to build the new store from, say
        click.echo(
            f"          {len(found)} bookings in it read well but could not be carried over ({e}); they stay in {kept.name}"
        )
        return
    numbers = ", ".join(f"#{b.id}" for b in restored)
    count = f"{len(restored)} booking{'s' if len(restored) != 1 else ''}"
    click.echo(f"          carried over {count} that read well ({numbers}) to the new store{left}")
