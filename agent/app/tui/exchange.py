"""One exchange in the chat app: the user's message goes through the dialogue loop in a thread worker, and each
event the loop yields is rendered as it comes — a search card, the streamed reply, a booking note.

The loop decides everything about the dialogue; this module only shows it. Bookings and cancellations the
backend asks for come back through `BookingDesk.confirm` (the form on screen, the worker waiting). Esc sets the
exchange's cancel event: the backend stops generating and the reply is marked stopped."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from agent.app.outcomes import corrected_text, declined_text, not_done_text
from agent.app.tui.search_card import SearchCard
from agent.app.tui.transcript import AgentMessage, UserMessage
from agent.core.errors import UserError
from agent.core.turns import Dialogue
from agent.dialogue.actions import Proposal
from agent.dialogue.loop import (
    ActionDeclined,
    ActionFailed,
    ActionRejected,
    Booked,
    Cancelled,
    DialogueLoop,
    Event,
    Reply,
    ReplyText,
    SearchFinished,
    SearchRejected,
    SearchStarted,
)
from backends.base import Backend

if TYPE_CHECKING:
    from agent.app.tui.app import HotelAgentApp


class ExchangeRunner:
    def __init__(self, app: HotelAgentApp) -> None:
        self.app = app
        self.cancel: threading.Event | None = None  # the running exchange's
        self.queued: list[str] = []  # typed before the first backend was ready, sent one per exchange
        self._card: SearchCard | None = None
        self._streaming: AgentMessage | None = None

    # --- sending ------------------------------------------------------------------------------------------

    def submit(self, text: str) -> None:
        """A message the user typed: sent now, queued while the first backend loads, or handed back."""
        app = self.app
        if app.busy:
            app.prompt.load_text(text)
            app.notify("wait for the reply, or press esc to stop it", severity="warning")
        elif app.backend is not None:
            self.send(text)
        elif app.loading:
            app.transcript.add(UserMessage(text))
            self.queued.append(text)
            app.note(f"sent when {app.loading} has loaded", kind="dim")
        else:
            app.prompt.load_text(text)
            app.error("no backend loaded (see above); /backend NAME loads one")

    def send_queued(self) -> None:
        if self.queued and self.app.backend is not None and not self.app.busy:
            self.send(self.queued.pop(0), shown=True)

    def send(self, text: str, shown: bool = False) -> None:
        app = self.app
        assert app.backend is not None
        if not shown:
            app.transcript.add(UserMessage(text))
        app.busy = True
        app.booking.last_outcome = ""
        self.cancel = threading.Event()
        self._card = self._streaming = None
        app.status.start(f"{app.backend_name} is thinking (esc stops)")
        app.run_worker(partial(self._run, app.backend, app.dialogue, text, self.cancel), thread=True, group="exchange")

    def stop(self) -> None:
        """Esc: ask the backend to stop; the reply so far is kept, marked stopped."""
        if self.cancel is not None and not self.cancel.is_set():
            self.cancel.set()
            self.app.status.start("stopping")

    # --- the worker ---------------------------------------------------------------------------------------

    def _run(self, backend: Backend, dialogue: Dialogue, text: str, cancel: threading.Event) -> None:
        app = self.app
        loop = DialogueLoop(backend, app.store, app.bookings, today=app.services.today)

        def confirm(proposal: Proposal) -> Proposal | None:
            return app.booking.confirm(proposal, cancel)

        show: Callable[[Event], Any] = self.show  # (textual's call_from_thread types async callbacks too narrowly)
        try:
            for event in loop.respond(dialogue, text, cancel, confirm=confirm):
                if app.closing:
                    return  # the screen is being taken down: nothing to show the rest on
                app.call_from_thread(show, event)
        except UserError as e:
            app.call_from_thread(self._failed, str(e))
        except Exception as e:  # the backend crashed mid-turn: say so, keep the conversation
            if app.closing:
                return
            path = app.crash_log.exception(f"exchange with backend {app.backend_name}")
            app.call_from_thread(self._failed, f"{type(e).__name__}: {e} (details in {path})")

    # --- rendering (UI thread) ----------------------------------------------------------------------------

    async def show(self, event: Event) -> None:
        app = self.app
        writing = f"{app.backend_name} is writing the reply (esc stops)"
        if isinstance(event, SearchStarted):
            self._card = SearchCard(event.arguments)
            await app.transcript.mount(self._card)
            app.status.start("searching the hotel database")
        elif isinstance(event, SearchFinished):
            if self._card is None or self._card.arguments != event.arguments:
                self._card = SearchCard(event.arguments)
                await app.transcript.mount(self._card)
            self._card.show_result(event.result)
            self._card = None
            app.status.start(writing)
        elif isinstance(event, SearchRejected):
            card = SearchCard(event.arguments, pending=False)
            await app.transcript.mount(card)
            card.show_rejected(event.error)
        elif isinstance(event, ActionRejected):
            app.note(not_done_text(event.turn.role, event.error), kind="dim")  # the agent will ask again
        elif isinstance(event, ActionDeclined):
            app.note(declined_text(event.proposal), kind="dim")
            app.status.start(writing)
        elif isinstance(event, ActionFailed):
            app.error(not_done_text(event.proposal, event.error))
            app.status.start(writing)
        elif isinstance(event, Booked):
            app.booking.booked(event.booking)
            app.status.start(writing)
        elif isinstance(event, Cancelled):
            app.booking.cancelled(event.booking)
            app.status.start(writing)
        elif isinstance(event, ReplyText):
            if self._streaming is None:
                self._streaming = AgentMessage()
                await app.transcript.mount(self._streaming)
            self._streaming.append(event.text)
        elif isinstance(event, Reply):
            await self._finish(event)
        app.transcript.anchor()

    async def _finish(self, reply: Reply) -> None:
        app = self.app
        if reply.corrected:
            app.note(corrected_text(reply.corrected), kind="dim")
        if reply.backend_error:
            app.error(f"the backend failed after that ({reply.backend_error}); the reply says what happened")
        message = self._streaming
        if message is None:
            message = AgentMessage(reply.content)
            await app.transcript.mount(message)
        stopped = self.cancel is not None and self.cancel.is_set()
        message.finish(reply.content, len(reply.dialogue) - 1, stopped=stopped)
        self._streaming = None
        app.update_dialogue(reply.dialogue)
        self._over()

    def _failed(self, message: str) -> None:
        self.app.error(f"{message} — your message was not added to the conversation (↑ recalls it)")
        self._streaming = self._card = None
        self._over()

    def _over(self) -> None:
        self.app.busy = False
        self.cancel = None
        self.app.show_idle()
        self.send_queued()
