"""Loading a backend in the chat app: in a thread worker, so the screen is drawn and typing works while a model
loads (messages typed meanwhile are queued). The first load also opens the store, bookings and history.

The status bar shows the loader's own progress bars (its stdout/stderr are captured while it loads). A backend
that fails to load is one error line — the traceback goes to the crash log — and the app stays usable: the
previous backend stays, or `/backend NAME` tries another."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any

from agent.app.tui.services import Opened, backend_model, open_services
from agent.core.errors import UserError
from backends.base import Backend

if TYPE_CHECKING:
    from agent.app.tui.app import HotelAgentApp

RULES_HINT = "type /backend rules to chat with the offline rules backend"


class BackendLoader:
    def __init__(self, app: HotelAgentApp) -> None:
        self.app = app

    def start(self, name: str, options: dict[str, Any], *, first: bool = False) -> None:
        app = self.app
        app.loading = name
        app.show_backend_in_header()
        app.status.start(f"loading {name}")
        app.begin_capture_print(app.status, stdout=True, stderr=True)  # model loaders' progress bars
        app.run_worker(partial(self._load, name, options, first), thread=True, group="load")

    def _load(self, name: str, options: dict[str, Any], first: bool) -> None:
        app = self.app
        try:
            if first:
                opened = open_services(app.services, app.continue_last)
                show: Callable[[Opened], Any] = self._opened  # (call_from_thread types async callbacks too narrowly)
                app.call_from_thread(show, opened)
            try:
                backend = app.services.create_backend(name, **options)
            except UserError as e:
                app.call_from_thread(self._failed, name, str(e))
            except Exception as e:  # a backend that crashes while loading must not take the app down
                path = app.crash_log.exception(f"loading backend {name}")
                app.call_from_thread(self._failed, name, f"{type(e).__name__}: {e} (details in {path})")
            else:
                app.call_from_thread(self._loaded, name, options, backend)
        finally:
            app.ready.set()

    async def _opened(self, opened: Opened) -> None:
        app = self.app
        app.store, app.bookings, app.history = opened.store, opened.bookings, opened.history
        for error in opened.errors:
            app.error(error)
        for note in opened.notes:
            app.note(note)
        if opened.resume is not None:
            await app.resume(opened.resume)

    def _done(self) -> None:
        app = self.app
        app.end_capture_print(app.status)
        app.loading = None
        app.show_idle()
        app.show_backend_in_header()

    def _loaded(self, name: str, options: dict[str, Any], backend: Backend) -> None:
        app = self.app
        switched = app.backend is not None
        app.backend, app.backend_name, app.backend_options = backend, name, options
        app.model = backend_model(backend, options)
        self._done()
        app.conversation = replace(app.conversation, backend=name, model=app.model)
        if switched:
            turns = len(app.dialogue)
            carried = f"; the conversation so far ({turns} turns) carries over" if turns else ""
            app.note(f"switched to backend {name}{carried}")
        app.exchange.send_queued()

    def _failed(self, name: str, message: str) -> None:
        app = self.app
        self._done()
        if app.backend is not None:
            still = f"; still using {app.backend_name}"
        else:
            still = "; fix that, then /backend rules tries again" if name == "rules" else f"; {RULES_HINT}"
        app.error(f"cannot load backend {name}: {message}{still}")
        if app.exchange.queued and app.backend is None:
            app.note(f"{len(app.exchange.queued)} message(s) not sent: no backend")
            app.exchange.queued.clear()
