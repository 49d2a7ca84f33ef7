"""agent.app.tui.crash_log: tracebacks go to tui.log in the cache dir, never to the terminal the app draws on."""

from __future__ import annotations

import logging

from agent.app.tui.crash_log import LOG_FILE, LOGGER, CrashLog


def crash(log: CrashLog, what: str, message: str):
    try:
        raise RuntimeError(message)
    except RuntimeError:
        return log.exception(what)


def test_an_exception_is_appended_with_its_traceback_to_the_cache_dir(own_cache):
    log = CrashLog()
    path = crash(log, "loading backend x", "CUDA out of memory")
    crash(log, "exchange with backend x", "second")
    text = (own_cache / LOG_FILE).read_text(encoding="utf-8")
    assert path == own_cache / LOG_FILE
    assert text.count("Traceback") == 2 and "loading backend x" in text and "RuntimeError: CUDA out of memory" in text


def test_nothing_is_written_before_something_goes_wrong(own_cache):
    CrashLog()
    assert not (own_cache / LOG_FILE).exists()


def test_a_new_log_replaces_the_previous_ones_file(tmp_path, own_cache):
    crash(CrashLog(tmp_path / "first.log"), "first", "one")
    crash(CrashLog(tmp_path / "second.log"), "second", "two")
    assert "two" not in (tmp_path / "first.log").read_text(encoding="utf-8")
    assert sum(isinstance(h, logging.FileHandler) for h in logging.getLogger(LOGGER).handlers) == 1


def test_nothing_reaches_stderr(own_cache, capsys):
    crash(CrashLog(), "loading", "quiet")
    assert capsys.readouterr().err == ""


def test_an_unwritable_log_is_no_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    crash(CrashLog(blocker / "tui.log"), "loading", "nowhere")  # its directory cannot be made
    assert capsys.readouterr().err == ""
