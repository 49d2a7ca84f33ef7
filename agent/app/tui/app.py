"""The hotel-agent chat app: a transcript, search cards with result tables, the booking form, slash commands.

It renders the events of `agent.dialogue.loop.DialogueLoop` and decides nothing about the dialogue itself. The
app holds what the concerns share (the backend, the store and bookings, the conversation) and hands each concern
to its module: services (opening what it talks to), loading (backends, in a worker), exchange (one message
through the loop, rendered as it comes), booking (the confirmation bridge and the row-picked booking), ratings,
export, commands and the crash log."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Header, Input, TextArea

from agent.app.history import Conversation, ConversationHistory
from agent.app.tui import commands
from agent.app.tui.booking import BookingDesk
from agent.app.tui.crash_log import CrashLog
from agent.app.tui.exchange import ExchangeRunner
from agent.app.tui.export import export_dialogue
from agent.app.tui.loading import BackendLoader
from agent.app.tui.prompt_input import PromptInput
from agent.app.tui.ratings import rate_reply
from agent.app.tui.search_card import SearchCard
from agent.app.tui.services import MissingStore, Services
from agent.app.tui.status_bar import StatusBar
from agent.app.tui.transcript import AgentMessage, HelpNote, Note, Transcript, conversation_widgets
from agent.core.bookings import Booking
from agent.core.errors import UserError
from agent.core.turns import Dialogue
from agent.dialogue.actions import BookingLedger
from agent.dialogue.loop import Searcher
from backends.base import Backend


class HotelAgentApp(App):
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses elsewhere (bench, tests) find it too
    TITLE = "hotel-agent"
    BINDINGS = [
        Binding("escape", "stop", "stop reply"),
        Binding("ctrl+q", "quit", "quit", priority=True),
        Binding("f1", "help", "help"),
        Binding("f2", "pick_hotel", "pick a hotel"),
    ]

    def __init__(
        self,
        backend: str = "rules",
        backend_options: dict[str, Any] | None = None,
        *,
        continue_last: bool = False,
        services: Services | None = None,
    ) -> None:
        super().__init__()
        self.services = services or Services()
        self.backend_name = backend
        self.backend_options = dict(backend_options or {})
        self.continue_last = continue_last
        self.backend: Backend | None = None
        self.model: str | None = None
        self.store: Searcher = MissingStore(UserError("the hotel store is not open yet"))
        self.bookings: BookingLedger | None = None
        self.history: ConversationHistory | None = None
        self.conversation: Conversation = ConversationHistory.new(backend)
        self.ready = threading.Event()  # set once the first backend load has finished (well or not)
        self.busy = False  # an exchange is running
        self.closing = False  # the app is going (exit or unmount): workers stop reporting to a screen being taken down
        self.loading: str | None = None  # the backend being loaded
        self.saved_bookings: list[Booking] = []  # what this session booked (the store holds them)
        self.crash_log = CrashLog()
        self.loader = BackendLoader(self)
        self.exchange = ExchangeRunner(self)
        self.booking = BookingDesk(self)

    # --- layout and shared state ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        yield Transcript(id="transcript")
        yield StatusBar(id="status")
        yield PromptInput(id="prompt", placeholder="问我北京的酒店，例如：帮我找一家有wifi的经济型酒店 · /help")
        yield Footer()

    @property
    def transcript(self) -> Transcript:
        return self.query_one(Transcript)

    @property
    def status(self) -> StatusBar:
        return self.query_one(StatusBar)

    @property
    def prompt(self) -> PromptInput:
        return self.query_one(PromptInput)

    @property
    def dialogue(self) -> Dialogue:
        return self.conversation.dialogue

    def on_mount(self) -> None:
        self.show_backend_in_header()
        self.prompt.focus()
        self.loader.start(self.backend_name, self.backend_options, first=True)

    def on_key(self, event: events.Key) -> None:
        # Typing while a reply or a table has the focus goes to the input (after +/- rated a reply, say).
        if (
            event.is_printable
            and event.character
            and self.screen is self.screen_stack[0]
            and not isinstance(self.focused, (TextArea, Input))
            and event.key not in self.active_bindings
        ):
            event.stop()
            self.prompt.focus()
            self.prompt.insert(event.character)

    def show_backend_in_header(self) -> None:
        if self.backend is None:
            name = f"{self.loading} (loading…)" if self.loading else "none"
        else:
            name = self.backend_name + (f" (loading {self.loading}…)" if self.loading else "")
        self.sub_title = f"backend: {name} · model: {self.model or '—'}"

    def show_idle(self) -> None:
        """The status bar at rest: the latest booking outcome (its number), then what the user can do."""
        ready = (
            "ready · enter to send · esc stops a reply · /help"
            if self.backend
            else "no backend · /backend NAME loads one"
        )
        outcome = self.booking.last_outcome
        self.status.stop(f"{outcome} · {ready}" if outcome else ready)

    def note(self, text: str | Text, kind: str = "info") -> None:
        self.transcript.add(Note(text, kind=kind))

    def error(self, text: str) -> None:
        self.note(f"✗ {text}", kind="error")

    async def resume(self, conversation: Conversation) -> None:
        self.conversation = conversation
        await self.transcript.mount_all(conversation_widgets(conversation))
        self.note(f"continuing conversation {conversation.id} (last backend: {conversation.backend})")

    def update_dialogue(self, dialogue: Dialogue) -> None:
        """The conversation grew (an exchange, a booking from a table): keep it and save it."""
        self.conversation = replace(self.conversation, dialogue=dialogue, backend=self.backend_name, model=self.model)
        self.save_conversation()

    def save_conversation(self) -> None:
        if self.history is None or not len(self.dialogue):
            return
        try:
            self.conversation = self.history.save(self.conversation)
        except (UserError, OSError) as e:
            self.error(f"could not save the conversation: {e}")

    # --- what the user does ----------------------------------------------------------------------------------

    def on_prompt_input_submitted(self, message: PromptInput.Submitted) -> None:
        if commands.is_command(message.text):
            self._run_command(message.text)
        else:
            self.exchange.submit(message.text)

    def on_search_card_book_requested(self, message: SearchCard.BookRequested) -> None:
        self.booking.open_manual(message.record)

    def on_agent_message_rated(self, message: AgentMessage.Rated) -> None:
        rate_reply(self, message)

    def action_stop(self) -> None:
        self.exchange.stop()

    def action_pick_hotel(self) -> None:
        """Focus the newest results table (enter then books the highlighted row)."""
        tables = [card.query_one("DataTable") for card in self.query(SearchCard) if card.records]
        if tables:
            tables[-1].focus()
            tables[-1].scroll_visible()
        else:
            self.notify("no hotels shown yet: ask for one first", severity="warning")

    def action_help(self) -> None:
        self.transcript.add(HelpNote(commands.HELP))

    def exit(self, *args: Any, **kwargs: Any) -> None:
        # Quitting waits for the running worker: ask a long generation (or a pending confirmation) to stop.
        self._stop_the_worker()
        super().exit(*args, **kwargs)

    def on_unmount(self) -> None:
        # Not every shutdown goes through exit() (a crash, textual's test harness): the worker thread must stop
        # here too, or it outlives the app and the process hangs on exit waiting for it.
        self._stop_the_worker()

    def _stop_the_worker(self) -> None:
        self.closing = True
        if self.exchange.cancel is not None:
            self.exchange.cancel.set()

    def _run_command(self, text: str) -> None:
        try:
            command = commands.parse_command(text)
        except UserError as e:
            self.error(str(e))
            return
        if isinstance(command, commands.Help):
            self.action_help()
        elif isinstance(command, commands.Quit):
            self.exit()
        elif self.busy or self.loading:
            self.prompt.load_text(text)
            self.notify(
                f"wait until {'the reply is done' if self.busy else f'{self.loading} has loaded'}", severity="warning"
            )
        elif isinstance(command, commands.SwitchBackend):
            self.loader.start(command.name, command.options)
        elif isinstance(command, commands.Reset):
            self.transcript.remove_children()
            self.conversation = ConversationHistory.new(self.backend_name, self.model)
            self.booking.last_outcome = ""
            self.note("new conversation")
        elif isinstance(command, commands.Export):
            try:
                self.note(export_dialogue(self.dialogue, Path(command.path).expanduser()), kind="success")
            except UserError as e:
                self.error(str(e))


def run_tui(backend: str, continue_last: bool, **backend_options: Any) -> None:
    """Open the full-screen chat (what `hotel-agent` runs without --plain)."""
    HotelAgentApp(backend, backend_options, continue_last=continue_last).run()
