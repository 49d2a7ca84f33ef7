"""`hotel-agent data download|check|path`."""

from __future__ import annotations

import click
from tqdm import tqdm

from agent.core import datafiles
from agent.core.errors import DataMissingError


@click.group()
def data() -> None:
    """Fetch and verify the CrossWOZ hotel database and the course's dialogue splits."""


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
