"""`hotel-agent history`: the saved conversations (resume the newest with `hotel-agent --continue`)."""

from __future__ import annotations

import click

from agent.app.history import ConversationHistory
from agent.core.codecs import dialogue_to_json_line
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
        conversation = store.get(delete_id)
        store.delete(conversation.id)
        click.echo(f"deleted {conversation.id}")
        return
    if show_id is not None:
        conversation = store.get(show_id)
        if as_json:
            click.echo(dialogue_to_json_line(conversation.dialogue))
            return
        for turn in conversation.dialogue:
            click.echo(_describe(turn))
        return
    conversations = store.all()
    if not conversations:
        click.echo(f"no saved conversations in {store.path}")
        return
    click.echo(f"{'id':12}  {'updated (UTC)':16}  {'backend':14}  turns  rated  first message")
    for c in conversations:
        rated = "".join("+" if f.rating == "up" else "-" for f in c.feedback)
        click.echo(
            f"{c.id:12}  {c.updated[:16].replace('T', ' '):16}  {c.backend:14}  {len(c.dialogue):5}  "
            f"{rated or '·':5}  {c.title}"
        )


def _describe(turn) -> str:
    if isinstance(turn, UserTurn):
        return f"user:      {turn.content}"
    if isinstance(turn, SearchTurn):
        return f"search:    {turn.arguments}"
    if isinstance(turn, ReturnTurn):
        return f"return:    {len(turn.records)} hotel(s): " + ", ".join(str(r.get("name")) for r in turn.records)
    assert isinstance(turn, AssistantTurn)
    return f"assistant: {turn.content}"
