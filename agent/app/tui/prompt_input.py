"""The message box: multi-line, enter sends, up/down recall earlier messages."""

from __future__ import annotations

from dataclasses import dataclass, field

from textual import events
from textual.message import Message
from textual.widgets import TextArea


@dataclass
class InputHistory:
    """Sent messages, newest last, and a cursor for up/down. Moving away from an unsent draft keeps it, so
    down past the newest entry brings it back (as in a shell)."""

    entries: list[str] = field(default_factory=list)
    position: int | None = None  # index into entries while browsing; None: editing the draft
    draft: str = ""

    def add(self, text: str) -> None:
        if text and (not self.entries or self.entries[-1] != text):
            self.entries.append(text)
        self.position, self.draft = None, ""

    def previous(self, current: str) -> str | None:
        """The entry before the one shown (None at the oldest)."""
        if not self.entries or self.position == 0:
            return None
        if self.position is None:
            self.draft = current
            self.position = len(self.entries)
        self.position -= 1
        return self.entries[self.position]

    def next(self) -> str | None:
        """The entry after the one shown, then the draft (None when not browsing)."""
        if self.position is None:
            return None
        self.position += 1
        if self.position == len(self.entries):
            self.position = None
            return self.draft
        return self.entries[self.position]


class PromptInput(TextArea):
    class Submitted(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, **kwargs) -> None:
        super().__init__(soft_wrap=True, show_line_numbers=False, tab_behavior="focus", compact=True, **kwargs)
        self.sent = InputHistory()  # not `history`: TextArea uses that name for undo

    async def _on_key(self, event: events.Key) -> None:
        key = event.key
        if key == "enter":
            self._consume(event)
            text = self.text.strip()
            if text:
                self.sent.add(text)
                self.clear()
                self.post_message(self.Submitted(text))
            return
        if key in ("shift+enter", "ctrl+j", "alt+enter"):
            self._consume(event)
            self.insert("\n")
            return
        row, _ = self.cursor_location
        if key == "up" and row == 0:
            recalled = self.sent.previous(self.text)
            if recalled is not None:
                self._consume(event)
                self._show(recalled)
            return
        if key == "down" and row == self.document.line_count - 1:
            recalled = self.sent.next()
            if recalled is not None:
                self._consume(event)
                self._show(recalled)
            return
        await super()._on_key(event)

    @staticmethod
    def _consume(event: events.Key) -> None:
        event.stop()
        event.prevent_default()

    def _show(self, text: str) -> None:
        self.load_text(text)
        self.move_cursor(self.document.end)
