"""The chat app's crash log: tracebacks of what went wrong in a worker (a backend that crashed while loading or
mid-reply), appended to `tui.log` in the cache dir. The screen shows one line naming the file; the file keeps
the details for a bug report. The standard `logging` module does the writing, so a log can be rotated or sent
elsewhere by configuring the `hotel_agent.tui` logger."""

from __future__ import annotations

import logging
from pathlib import Path

from agent.core.datafiles import cache_dir

LOG_FILE = "tui.log"
LOGGER = "hotel_agent.tui"


class _QuietFileHandler(logging.FileHandler):
    def handleError(self, record: logging.LogRecord) -> None:
        pass  # a log that cannot be written must not print over the full-screen app (logging's default)


class CrashLog:
    """Writes to `path` (default: `tui.log` in the cache dir); the file is created on the first entry."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or cache_dir() / LOG_FILE
        self.logger = logging.getLogger(LOGGER)
        self.logger.setLevel(logging.ERROR)
        self.logger.propagate = False  # never to stderr: the terminal belongs to the app
        for old in list(self.logger.handlers):  # an earlier app of this process (tests) wrote elsewhere
            if isinstance(old, _QuietFileHandler):
                self.logger.removeHandler(old)
                old.close()
        handler = _QuietFileHandler(self.path, encoding="utf-8", delay=True)
        handler.setFormatter(logging.Formatter("--- %(asctime)s %(message)s"))
        self.logger.addHandler(handler)

    def exception(self, what: str) -> Path:
        """Log the exception being handled, under the heading `what`; returns the log file's path."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError:
            return self.path
        self.logger.exception(what)
        return self.path
