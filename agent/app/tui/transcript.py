"""The conversation as widgets: user messages, agent replies (markdown, streamed, rateable) and notes."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Markdown, Static

from agent.app.feedback import Rating
from agent.app.history import Conversation
from agent.app.outcomes import result_text
from agent.app.tui.search_card import SearchCard
from agent.core.turns import AssistantTurn, BookTurn, CancelTurn, ResultTurn, ReturnTurn, SearchTurn, UserTurn

RATING_MARK = {"up": "👍", "down": "👎"}


class UserMessage(Static):
    def __init__(self, content: str) -> None:
        # Text, not markup: what the user typed is shown as typed ([b] stays [b]).
        super().__init__(Text(content), classes="user-message")
        self.content = content
        self.border_title = "you"


class AgentMessage(Vertical, can_focus=True):
    """An agent reply. While streaming it grows by `append`; `finish` sets the final text and the index of the
    reply in the dialogue, after which + / - rate it."""

    BINDINGS = [
        Binding("plus,equals_sign", "rate('up')", "👍 good reply"),
        Binding("minus", "rate('down')", "👎 bad reply"),
    ]

    class Rated(Message):
        def __init__(self, message: AgentMessage, rating: Rating) -> None:
            super().__init__()
            self.agent_message = message
            self.rating = rating

    def __init__(self, content: str = "", *, turn: int | None = None, rating: str | None = None) -> None:
        super().__init__(classes="agent-message")
        self.content = content
        self.turn = turn
        self.border_title = "agent"
        self.set_rating(rating)

    def compose(self) -> ComposeResult:
        yield Markdown(self.content)

    def append(self, text: str) -> None:
        self.content += text
        self.query_one(Markdown).append(text)

    def finish(self, content: str, turn: int, *, stopped: bool = False) -> None:
        self.turn = turn
        if content != self.content:
            self.content = content
            self.query_one(Markdown).update(content)
        if stopped:
            self.border_subtitle = "stopped"

    def set_rating(self, rating: str | None) -> None:
        self.rating = rating
        self.border_subtitle = RATING_MARK.get(rating or "", "")

    def action_rate(self, rating: Rating) -> None:
        if self.turn is not None:  # a reply still streaming is not in the dialogue yet
            self.post_message(self.Rated(self, rating))


class Note(Static):
    """Something the app (not the agent) says: help, errors, confirmations. Not part of the dialogue."""

    def __init__(self, content: str | Text, *, kind: str = "info") -> None:
        super().__init__(Text(content) if isinstance(content, str) else content, classes=f"note note-{kind}")
        self.kind = kind


class HelpNote(Markdown):
    def __init__(self, markdown: str) -> None:
        super().__init__(markdown, classes="note note-help")


class Transcript(VerticalScroll):
    """Holds the message widgets and keeps the newest in view (until the user scrolls up)."""

    def on_mount(self) -> None:
        self.anchor()

    def add(self, *widgets) -> None:
        self.mount(*widgets)
        self.anchor()


def conversation_widgets(conversation: Conversation) -> list[Widget]:
    """A saved conversation as the transcript showed it: messages, search cards with their hotels, booking
    notes, ratings."""
    ratings = {f.turn: f.rating for f in conversation.feedback}
    widgets: list[Widget] = []
    turns = list(conversation.dialogue)
    for index, turn in enumerate(turns):
        following = turns[index + 1] if index + 1 < len(turns) else None
        if isinstance(turn, UserTurn):
            widgets.append(UserMessage(turn.content))
        elif isinstance(turn, SearchTurn):
            records = following.records if isinstance(following, ReturnTurn) else []
            widgets.append(SearchCard(turn.arguments, records=records))
        elif isinstance(turn, (BookTurn, CancelTurn)) and isinstance(following, ResultTurn):
            done = following.ok
            widgets.append(
                Note(
                    ("✔ " if done else "") + result_text(turn.role, following.result), kind="success" if done else "dim"
                )
            )
        elif isinstance(turn, AssistantTurn):
            widgets.append(AgentMessage(turn.content, turn=index, rating=ratings.get(index)))
    return widgets
