"""One line above the input: what the app is busy with (spinner, elapsed seconds, progress from the model
loader's own progress bars), or that it is ready."""

from __future__ import annotations

import time

from rich.text import Text
from textual import events
from textual.timer import Timer
from textual.widgets import Static

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


def last_progress_line(printed: str) -> str:
    """The newest line of printed output; tqdm redraws a bar with carriage returns, so take the last segment."""
    segments = [s.strip() for s in printed.replace("\r", "\n").split("\n")]
    return next((s for s in reversed(segments) if s), "")


class StatusBar(Static):
    def __init__(self, **kwargs) -> None:
        super().__init__("", **kwargs)
        self.busy: str | None = None  # what is running, or None when idle
        self.idle_text = ""
        self.progress = ""
        self._started = 0.0
        self._frame = 0
        self._timer: Timer | None = None

    def start(self, what: str) -> None:
        self.busy, self.progress, self._started = what, "", time.monotonic()
        if self._timer is None:
            self._timer = self.set_interval(0.1, self._tick)
        self._tick()

    def stop(self, idle_text: str | None = None) -> None:
        self.busy = None
        if idle_text is not None:
            self.idle_text = idle_text
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.update(Text(self.idle_text, style="dim"))

    def _tick(self) -> None:
        if self.busy is None:
            return
        self._frame = (self._frame + 1) % len(SPINNER)
        line = Text(f"{SPINNER[self._frame]} {self.busy} {time.monotonic() - self._started:.0f}s", style="bold")
        if self.progress:
            line.append(f"  {self.progress}", style="dim")
        self.update(line)

    def on_print(self, event: events.Print) -> None:
        # While a backend loads, the app captures stderr/stdout here (transformers' shard progress bars).
        line = last_progress_line(event.text)
        if line:
            self.progress = line[-80:]
