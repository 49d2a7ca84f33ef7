"""The hotel-agent chat app: a transcript, search cards with result tables, a booking dialog, slash commands.

It renders the events of `agent.dialogue.loop.DialogueLoop` and decides nothing about the dialogue itself. Anything slow
(opening the store, loading a backend, a backend's turn) runs in a thread worker and reports back with
`call_from_thread`, so the screen never freezes; esc sets the running exchange's cancel event."""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import events, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Header, Input, TextArea

from agent.app.history import Conversation, ConversationHistory
from agent.app.tui import commands
from agent.app.tui.booking_dialog import BookingDialog, BookingRequest
from agent.app.tui.booking_intent import booking_intent, resolve_hotel
from agent.app.tui.prompt_input import PromptInput
from agent.app.tui.search_card import SearchCard
from agent.app.tui.status_bar import StatusBar
from agent.app.tui.transcript import AgentMessage, HelpNote, Note, Transcript, UserMessage
from agent.core.codecs import dialogue_to_json_line
from agent.core.datafiles import cache_dir
from agent.core.errors import UserError
from agent.core.turns import AssistantTurn, Dialogue, ReturnTurn, SearchTurn, UserTurn
from agent.dialogue.loop import DialogueLoop, Event, Reply, ReplyText, SearchFinished, SearchRejected, SearchStarted
from backends.base import Backend

LOG_FILE = "tui.log"
RULES_HINT = "type /backend rules to chat with the offline rules backend"


def _create_backend(name: str, **options: Any) -> Backend:
    from backends.registry import create  # the registry imports backend modules lazily; none imports torch

    return create(name, chat_only=True, **options)


def _open_store():
    from agent.core.store import HotelStore

    return HotelStore.open()


def _open_bookings(store):
    from agent.core.bookings import Bookings

    return Bookings(store)  # the bookings live in the store's file


@dataclass
class Services:
    """What the app talks to; tests pass their own."""

    create_backend: Callable[..., Backend] = _create_backend
    open_store: Callable[[], Any] = _open_store
    open_bookings: Callable[[Any], Any] = _open_bookings  # given the open store
    open_history: Callable[[], ConversationHistory] = ConversationHistory.open


class MissingStore:
    """Stands in for a store that could not be opened: every search reports why, as a UserError."""

    def __init__(self, error: UserError):
        self.error = error

    def search(self, arguments, limit=None):
        raise self.error

    def find_by_name(self, name):
        return []


def backend_model(backend: Backend, options: dict[str, Any]) -> str | None:
    """The model a backend runs, for the header: --model, else what its signature says, else None."""
    if options.get("model"):
        return str(options["model"])
    try:
        signature = backend.signature()
    except Exception:  # a signature is informative only; never let it break the header
        return None
    model = signature.get("base_model") or signature.get("model")
    return str(model) if model else None


def previous_reply(dialogue: Dialogue) -> str:
    """The agent reply before the latest user message ("这个酒店" refers to what it named)."""
    turns = list(dialogue)
    last_user = max((i for i, t in enumerate(turns) if isinstance(t, UserTurn)), default=len(turns))
    return next((t.content for t in reversed(turns[:last_user]) if isinstance(t, AssistantTurn)), "")


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
        self.store: Any = None
        self.bookings: Any = None
        self.history: ConversationHistory | None = None
        self.conversation: Conversation = ConversationHistory.new(backend)
        self.ready = threading.Event()  # set once the first backend load has finished (well or not)
        self.busy = False  # an exchange is running
        self.loading: str | None = None  # the backend being loaded
        self.queued: list[str] = []  # typed before the first backend was ready, sent one per exchange
        self.saved_bookings: list[Any] = []  # what this session booked (the store holds them)
        self._cancel: threading.Event | None = None
        self._card: SearchCard | None = None
        self._streaming: AgentMessage | None = None

    # --- layout ------------------------------------------------------------------------------------

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
        self._show_backend_in_header()
        self.prompt.focus()
        self._begin_loading(self.backend_name)
        self._load(self.backend_name, self.backend_options, first=True)

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

    def _show_backend_in_header(self) -> None:
        if self.backend is None:
            name = f"{self.loading} (loading…)" if self.loading else "none"
        else:
            name = self.backend_name + (f" (loading {self.loading}…)" if self.loading else "")
        self.sub_title = f"backend: {name} · model: {self.model or '—'}"

    def note(self, text: str | Text, kind: str = "info") -> None:
        self.transcript.add(Note(text, kind=kind))

    def error(self, text: str) -> None:
        self.note(f"✗ {text}", kind="error")

    # --- loading (worker) --------------------------------------------------------------------------

    def _begin_loading(self, name: str) -> None:
        self.loading = name
        self._show_backend_in_header()
        self.status.start(f"loading {name}")
        self.begin_capture_print(self.status, stdout=True, stderr=True)  # model loaders' progress bars

    @work(thread=True, group="load")
    def _load(self, name: str, options: dict[str, Any], first: bool) -> None:
        if first:
            self._open_services()
        try:
            backend = self.services.create_backend(name, **options)
        except UserError as e:
            self.call_from_thread(self._backend_failed, name, str(e))
        except Exception as e:  # a backend that crashes while loading must not take the app down
            self._log_exception(f"loading backend {name}")
            self.call_from_thread(
                self._backend_failed, name, f"{type(e).__name__}: {e} (details in {self._log_path()})"
            )
        else:
            self.call_from_thread(self._backend_loaded, name, options, backend)
        finally:
            self.ready.set()

    def _open_services(self) -> None:
        """Store, bookings and history; each that fails is reported and the rest of the app goes on."""
        try:
            self.store = self.services.open_store()
        except UserError as e:
            self.store = MissingStore(e)
            self.call_from_thread(self.error, f"{e} — searches and bookings will fail until the data is there")
        else:
            try:
                self.bookings = self.services.open_bookings(self.store)
            except UserError as e:
                self.call_from_thread(self.error, f"bookings unavailable: {e}")
        try:
            self.history = self.services.open_history()
        except UserError as e:
            self.call_from_thread(self.error, f"conversation history unavailable (nothing will be saved): {e}")
            return
        if self.continue_last:
            try:
                last = self.history.last()
            except UserError as e:
                self.call_from_thread(self.error, f"cannot resume: {e}")
                return
            if last is None:
                self.call_from_thread(self.note, "no saved conversation to continue; starting a new one")
            else:
                resume: Callable[[Conversation], Any] = self._resume
                self.call_from_thread(resume, last)

    async def _resume(self, conversation: Conversation) -> None:
        self.conversation = conversation
        await self.transcript.mount_all(self._widgets_for(conversation))
        self.note(f"continuing conversation {conversation.id} (last backend: {conversation.backend})")

    @staticmethod
    def _widgets_for(conversation: Conversation) -> list:
        ratings = {f.turn: f.rating for f in conversation.feedback}
        widgets: list = []
        turns = list(conversation.dialogue)
        for index, turn in enumerate(turns):
            if isinstance(turn, UserTurn):
                widgets.append(UserMessage(turn.content))
            elif isinstance(turn, SearchTurn):
                following = turns[index + 1] if index + 1 < len(turns) else None
                records = following.records if isinstance(following, ReturnTurn) else []
                widgets.append(SearchCard(turn.arguments, records=records))
            elif isinstance(turn, AssistantTurn):
                widgets.append(AgentMessage(turn.content, turn=index, rating=ratings.get(index)))
        return widgets

    def _end_loading(self) -> None:
        self.end_capture_print(self.status)
        self.loading = None
        self.status.stop(self._idle_text())

    def _idle_text(self) -> str:
        return (
            "ready · enter to send · esc stops a reply · /help"
            if self.backend
            else "no backend · /backend NAME loads one"
        )

    def _backend_loaded(self, name: str, options: dict[str, Any], backend: Backend) -> None:
        switched = self.backend is not None
        self.backend, self.backend_name, self.backend_options = backend, name, options
        self.model = backend_model(backend, options)
        self._end_loading()
        self._show_backend_in_header()
        self.conversation = replace(self.conversation, backend=name, model=self.model)
        if switched:
            carried = (
                f"; the conversation so far ({len(self.dialogue)} turns) carries over" if len(self.dialogue) else ""
            )
            self.note(f"switched to backend {name}{carried}")
        if self.queued:
            self._send(self.queued.pop(0), shown=True)

    def _backend_failed(self, name: str, message: str) -> None:
        self._end_loading()
        self._show_backend_in_header()
        if self.backend is not None:
            still = f"; still using {self.backend_name}"
        else:
            still = "; fix that, then /backend rules tries again" if name == "rules" else f"; {RULES_HINT}"
        self.error(f"cannot load backend {name}: {message}{still}")
        if self.queued and self.backend is None:
            self.note(f"{len(self.queued)} message(s) not sent: no backend")
            self.queued.clear()

    # --- sending (worker) --------------------------------------------------------------------------

    def on_prompt_input_submitted(self, message: PromptInput.Submitted) -> None:
        text = message.text
        if commands.is_command(text):
            self._run_command(text)
            return
        if self.busy:
            self.prompt.load_text(text)
            self.notify("wait for the reply, or press esc to stop it", severity="warning")
            return
        if self.backend is None:
            if self.loading:
                self.transcript.add(UserMessage(text))
                self.queued.append(text)
                self.note(f"sent when {self.loading} has loaded", kind="dim")
            else:
                self.prompt.load_text(text)
                self.error("no backend loaded (see above); /backend NAME loads one")
            return
        self._send(text)

    def _send(self, text: str, shown: bool = False) -> None:
        if not shown:
            self.transcript.add(UserMessage(text))
        self.busy = True
        self._cancel = threading.Event()
        self._card = self._streaming = None
        self.status.start(f"{self.backend_name} is thinking (esc stops)")
        self._exchange(self.backend, self.dialogue, text, self._cancel)

    @work(thread=True, group="exchange")
    def _exchange(self, backend: Backend, dialogue: Dialogue, text: str, cancel: threading.Event) -> None:
        loop = DialogueLoop(backend, self.store if self.store is not None else MissingStore(UserError("no store")))
        try:
            show: Callable[[Event, str], Any] = self._show_event
            for event in loop.respond(dialogue, text, cancel):
                self.call_from_thread(show, event, text)
        except UserError as e:
            self.call_from_thread(self._exchange_failed, str(e))
        except Exception as e:  # the backend crashed mid-turn: say so, keep the conversation
            self._log_exception(f"exchange with backend {self.backend_name}")
            self.call_from_thread(self._exchange_failed, f"{type(e).__name__}: {e} (details in {self._log_path()})")

    async def _show_event(self, event: Event, user_text: str) -> None:
        if isinstance(event, SearchStarted):
            self._card = SearchCard(event.arguments)
            await self.transcript.mount(self._card)
            self.status.start("searching the hotel database")
        elif isinstance(event, SearchFinished):
            if self._card is None or self._card.arguments != event.arguments:
                self._card = SearchCard(event.arguments)
                await self.transcript.mount(self._card)
            self._card.show_result(event.result)
            self._card = None
            self.status.start(f"{self.backend_name} is writing the reply (esc stops)")
        elif isinstance(event, SearchRejected):
            card = SearchCard(event.arguments, pending=False)
            await self.transcript.mount(card)
            card.show_rejected(event.error)
        elif isinstance(event, ReplyText):
            if self._streaming is None:
                self._streaming = AgentMessage()
                await self.transcript.mount(self._streaming)
            self._streaming.append(event.text)
        elif isinstance(event, Reply):
            await self._finish_reply(event, user_text)
        self.transcript.anchor()

    async def _finish_reply(self, reply: Reply, user_text: str) -> None:
        message = self._streaming
        if message is None:
            message = AgentMessage(reply.content)
            await self.transcript.mount(message)
        stopped = self._cancel is not None and self._cancel.is_set()
        message.finish(reply.content, len(reply.dialogue) - 1, stopped=stopped)
        self._streaming = None
        self.conversation = replace(
            self.conversation, dialogue=reply.dialogue, backend=self.backend_name, model=self.model
        )
        self._save_conversation()
        self._exchange_over()
        self._offer_booking(user_text, reply.dialogue)

    def _exchange_failed(self, message: str) -> None:
        self.error(f"{message} — your message was not added to the conversation (↑ recalls it)")
        self._streaming = self._card = None
        self._exchange_over()

    def _exchange_over(self) -> None:
        self.busy = False
        self._cancel = None
        self.status.stop(self._idle_text())
        if self.queued and self.backend is not None:
            self._send(self.queued.pop(0), shown=True)

    def exit(self, *args: Any, **kwargs: Any) -> None:
        # Quitting waits for the running worker: ask a long generation to stop rather than finish.
        if self._cancel is not None:
            self._cancel.set()
        super().exit(*args, **kwargs)

    def action_stop(self) -> None:
        if self._cancel is not None and not self._cancel.is_set():
            self._cancel.set()
            self.status.start("stopping")

    # --- booking -----------------------------------------------------------------------------------

    def _offer_booking(self, user_text: str, dialogue: Dialogue) -> None:
        intent = booking_intent(user_text)
        if intent is None:
            return
        find: Callable[[str], list[dict[str, Any]]] = getattr(self.store, "find_by_name", None) or (lambda _name: [])
        try:
            record = resolve_hotel(intent, dialogue.last_records(), find, previous_reply(dialogue))
        except UserError:
            record = None
        if record is not None:
            self.open_booking(record)
        elif intent.decided:
            which = "是哪一家？" if intent.deictic else f"没有找到酒店“{intent.name}”；"
            self.note(f"{which}在结果表中选中一家按 enter 即可预订", kind="dim")

    def on_search_card_book_requested(self, message: SearchCard.BookRequested) -> None:
        self.open_booking(message.record)

    def action_pick_hotel(self) -> None:
        """Focus the newest results table (enter then books the highlighted row)."""
        tables = [card.query_one("DataTable") for card in self.query(SearchCard) if card.records]
        if tables:
            tables[-1].focus()
            tables[-1].scroll_visible()
        else:
            self.notify("no hotels shown yet: ask for one first", severity="warning")

    def open_booking(self, record: dict[str, Any]) -> None:
        self.push_screen(BookingDialog(record), self._book)

    def _book(self, request: BookingRequest | None) -> None:
        self.prompt.focus()  # back to typing, whatever happens
        if request is None:
            self.note("booking cancelled", kind="dim")
            return
        if self.bookings is None:
            self.error("bookings unavailable (see the error above); nothing was booked")
            return
        try:
            # Synchronous on purpose: the confirmation below appears only once the booking is on disk.
            booking = self.bookings.book(
                request.record, guest=request.guest, check_in=request.check_in, nights=request.nights
            )
        except UserError as e:
            self.error(f"not booked: {e}")
            return
        self.saved_bookings.append(booking)
        details = [
            f"guest {request.guest}" if request.guest else "",
            f"check-in {request.check_in.isoformat()}" if request.check_in else "",
            f"{request.nights} night(s)" if request.nights else "",
        ]
        extra = ", ".join(d for d in details if d)
        self.note(
            f"✔ booked {request.record.get('name')}"
            + (f" ({extra})" if extra else "")
            + " — `hotel-agent bookings` lists it",
            kind="success",
        )

    # --- feedback ----------------------------------------------------------------------------------

    def on_agent_message_rated(self, message: AgentMessage.Rated) -> None:
        target = message.agent_message
        if target.turn is None:
            return  # still streaming: not in the dialogue yet
        try:
            self.conversation = self.conversation.with_rating(target.turn, message.rating)
        except ValueError:
            return  # a reply from before /reset
        target.set_rating(message.rating)
        self._save_conversation()
        self.notify(f"rated {'👍' if message.rating == 'up' else '👎'} — `hotel-agent feedback export` collects it")

    def _save_conversation(self) -> None:
        if self.history is None or not len(self.dialogue):
            return
        try:
            self.conversation = self.history.save(self.conversation)
        except (UserError, OSError) as e:
            self.error(f"could not save the conversation: {e}")

    # --- commands ----------------------------------------------------------------------------------

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
            self._begin_loading(command.name)
            self._load(command.name, command.options, first=False)
        elif isinstance(command, commands.Reset):
            self.transcript.remove_children()
            self.conversation = ConversationHistory.new(self.backend_name, self.model)
            self.note("new conversation")
        elif isinstance(command, commands.Export):
            self._export(Path(command.path).expanduser())

    def _export(self, path: Path) -> None:
        if not len(self.dialogue):
            self.error("nothing to export yet")
            return
        try:
            with path.open("a", encoding="utf-8") as out:
                out.write(dialogue_to_json_line(self.dialogue) + "\n")
        except OSError as e:
            self.error(f"cannot write {path}: {e.strerror}")
            return
        self.note(
            f"appended this conversation ({len(self.dialogue)} turns) to {path} as one GLM-4 messages line",
            kind="success",
        )

    def action_help(self) -> None:
        self.transcript.add(HelpNote(commands.HELP))

    # --- diagnostics -------------------------------------------------------------------------------

    @staticmethod
    def _log_path() -> Path:
        return cache_dir() / LOG_FILE

    def _log_exception(self, what: str) -> None:
        try:
            path = self._log_path()
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as out:
                out.write(f"--- {what}\n{traceback.format_exc()}\n")
        except OSError:
            pass


def run_tui(backend: str, continue_last: bool, **backend_options: Any) -> None:
    """Open the full-screen chat (what `hotel-agent` runs without --plain)."""
    HotelAgentApp(backend, backend_options, continue_last=continue_last).run()
