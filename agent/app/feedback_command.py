"""`hotel-agent feedback export OUT.jsonl`: the agent replies rated in the chat, as training-format lines."""

from __future__ import annotations

from pathlib import Path

import click

from agent.app.feedback import rated_lines
from agent.app.history import ConversationHistory
from agent.core.codecs import write_jsonl
from agent.core.errors import UserError


@click.group()
def feedback() -> None:
    """Ratings given in the chat (shift+tab to an agent reply, then + or -)."""


@feedback.command("export")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--rating",
    type=click.Choice(["up", "down", "all"]),
    default="all",
    show_default=True,
    help="Which ratings to export.",
)
def export(out: Path, rating: str) -> None:
    """Write one JSONL line per rated reply to OUT: the dialogue up to that reply in the GLM-4 `messages`
    format (as in train.glm4.jsonl) plus a `feedback` object {rating, conversation, backend, model, at}.
    `--rating up` gives lines ready to join the training data."""
    listing = ConversationHistory.open().listing()
    lines = list(rated_lines(listing.conversations, None if rating == "all" else rating))  # type: ignore[arg-type]
    for problem in listing.damaged:
        click.echo(f"warning: {problem}; not exported", err=True)
    try:
        write_jsonl(out, lines)
    except OSError as e:
        raise UserError(f"cannot write {out}: {e.strerror}") from None
    click.echo(f"wrote {len(lines)} rated dialogue(s) to {out}")
