"""`hotel-agent history`: the saved conversations (resume the newest with `hotel-agent --continue`)."""

from __future__ import annotations

import click

from agent.app.history import ConversationHistory
from agent.core.codecs import dialogue_to_json_line
from agent.core.text import clean_line
from agent.core.turns import AssistantTurn, ReturnTurn, SearchTurn, UserTurn


@click.command()
@click.option(
    "--show",
    "show_id",
    metavar="ID",
    default=None,
    help="Print one conversation (an id prefix as listed) turn by turn.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="With --show: print the conversation as one GLM-4 `messages` JSON line instead.",
)
@click.option("--delete", "delete_id", metavar="ID", default=None, help="Delete one conversation.")
def history(show_id: str | None, as_json: bool, delete_id: str | None) -> None:
    """List saved chat conversations, newest first: id, last update (UTC), backend, turns, ratings, and the
    first message. `hotel-agent --continue` resumes the newest one."""
    store = ConversationHistory.open()
    if delete_id is not None:
        conversation_id = store.stored_id(delete_id)  # a damaged conversation can be deleted too
        store.delete(conversation_id)
        click.echo(f"deleted {clean_line(conversation_id)}")
        return
    if show_id is not None:
        conversation = store.get(show_id)
        if as_json:
            click.echo(dialogue_to_json_line(conversation.dialogue))
            return
        for turn in conversation.dialogue:
            click.echo(_describe(turn))
        return
    listing = store.listing()
    if not listing.conversations:
        click.echo(f"no saved conversations in {store.path}")
    else:
        click.echo(f"{'id':12}  {'updated (UTC)':16}  {'backend':14}  turns  rated  first message")
    for c in listing.conversations:
        rated = "".join("+" if f.rating == "up" else "-" for f in c.feedback)
        updated = clean_line(c.updated[:16].replace("T", " "))
        click.echo(
            f"{clean_line(c.id):12}  {updated:16}  {clean_line(c.backend):14}  {len(c.dialogue):5}  "
            f"{rated or '·':5}  {clean_line(c.title)}"
        )
    for problem in listing.damaged:
        click.echo(f"warning: {problem}; `hotel-agent history --delete ID` removes it", err=True)


def _describe(turn) -> str:
    """One turn as one line of text, with no control characters (the history file may hold anything)."""
    if isinstance(turn, UserTurn):
        return f"user:      {clean_line(turn.content)}"
    if isinstance(turn, SearchTurn):
        return f"search:    {clean_line(str(turn.arguments))}"
    if isinstance(turn, ReturnTurn):
        names = ", ".join(clean_line(str(r.get("name"))) for r in turn.records)
        return f"return:    {len(turn.records)} hotel(s): {names}"
    assert isinstance(turn, AssistantTurn)
    return f"assistant: {clean_line(turn.content)}"
