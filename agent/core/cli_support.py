"""Shared pieces of the three command-line tools: one-line errors instead of tracebacks (a UserError, or a
filesystem error that no command caught)."""

from __future__ import annotations

import sys

import click

from agent.core.errors import UserError


class FriendlyGroup(click.Group):
    """A click group that prints a UserError or an OSError as `error: ...` on one line and exits 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except UserError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(1)
        except OSError as e:
            # A filesystem error no command turned into a UserError: still one line that names the file.
            where = f"{e.filename}: " if e.filename is not None else ""
            click.echo(f"error: {where}{e.strerror or e}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
