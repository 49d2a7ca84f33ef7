"""Filesystem failures as the commands meet them: a cache dir that is a file, a read-only cache, a full disk.
Each is one `error:` line and exit 1, and a failed write leaves every file as it was."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from agent.app.cli import main
from agent.app.history import HISTORY_FILE, ConversationHistory
from agent.core import atomic_storage
from agent.core.bookings import Bookings
from agent.core.cli_support import FriendlyGroup
from agent.core.store import STORE_FILE, HotelStore

COMMANDS = {
    "bookings": ("bookings",),
    "search": ("search", '{"type": "经济型"}'),
    "history": ("history",),
    "export": ("feedback", "export", "out.jsonl"),
    "chat": ("--plain",),
    "repair": ("data", "repair"),
}


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input)


def assert_one_error_line(result, *parts: str):
    assert result.exit_code == 1, result.output
    assert result.output.startswith("error: ") and result.output.count("\n") == 1, result.output
    assert all(part in result.output for part in parts), result.output


@pytest.mark.parametrize("command", list(COMMANDS.values()), ids=list(COMMANDS))
def test_a_cache_dir_that_is_a_file_is_one_line_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
):
    monkeypatch.chdir(tmp_path)
    cache = tmp_path / "cache"
    cache.write_text("not a directory")
    monkeypatch.setenv("HOTEL_AGENT_CACHE", str(cache))
    assert_one_error_line(run(*command, input="你好\n"), f"{cache} is not a directory", "HOTEL_AGENT_CACHE")
    assert cache.read_text() == "not a directory"


def read_only_filesystem(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every create or write fails as on a read-only mount (the tests run as root, which chmod cannot stop)."""
    real_open, real_mkstemp = os.open, atomic_storage.tempfile.mkstemp

    def guarded_open(file, flags, *args, **kwargs):
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(file))
        return real_open(file, flags, *args, **kwargs)

    def guarded_mkstemp(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(atomic_storage.os, "open", guarded_open)
    monkeypatch.setattr(atomic_storage.tempfile, "mkstemp", guarded_mkstemp)
    assert real_mkstemp is not None


def test_a_read_only_cache_still_lists_bookings_and_history(own_cache: Path, monkeypatch: pytest.MonkeyPatch):
    Bookings(HotelStore.open(learn_facilities=False)).book(3, guest="张三")
    ConversationHistory.open()
    for lock in own_cache.glob("*.lock"):
        lock.unlink()  # a cache copied read-only from elsewhere may have none
    read_only_filesystem(monkeypatch)
    listed = run("bookings")
    assert listed.exit_code == 0 and "张三" in listed.output, listed.output
    assert run("history").exit_code == 0
    searched = run("search", '{"type": "经济型"}')
    assert searched.exit_code == 0 and "经济型" in searched.output, searched.output


def test_a_read_only_cache_refuses_a_change_in_one_line_and_keeps_the_file(
    own_cache: Path, monkeypatch: pytest.MonkeyPatch
):
    Bookings(HotelStore.open(learn_facilities=False)).book(3, guest="张三")
    before = (own_cache / STORE_FILE).read_bytes()
    read_only_filesystem(monkeypatch)
    assert_one_error_line(run("bookings", "--cancel", "1"), f"cannot write {own_cache / STORE_FILE}", "Read-only")
    assert (own_cache / STORE_FILE).read_bytes() == before


def test_a_full_disk_while_the_chat_saves_is_one_line_and_the_history_stays(
    own_cache: Path, monkeypatch: pytest.MonkeyPatch
):
    run("--plain", input="你好\n")
    before = (own_cache / HISTORY_FILE).read_bytes()

    def full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic_storage.os, "fsync", full)
    result = run("--plain", "--continue", input="帮我找一家经济型酒店\n")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"error: cannot write {own_cache / HISTORY_FILE}: No space left on device" in result.output
    assert (own_cache / HISTORY_FILE).read_bytes() == before
    assert not list(own_cache.glob(".*.tmp"))


def test_any_other_filesystem_error_is_one_line_not_a_traceback():
    @click.group(cls=FriendlyGroup)
    def tool() -> None:
        pass

    @tool.command()
    def read() -> None:
        open("/no/such/dir/file.txt")

    result = CliRunner().invoke(tool, ["read"])
    assert result.exit_code == 1
    assert result.output == "error: /no/such/dir/file.txt: No such file or directory\n"


def test_every_file_of_the_cache_is_private_whatever_the_umask(own_cache: Path):
    from backends.rules import lexicon

    old = os.umask(0)
    try:
        Bookings(HotelStore.open()).book(3)  # the store, its lock, the learned facility map
        ConversationHistory.open()
        lexicon.load_lexicon()
    finally:
        os.umask(old)
    files = [p for p in own_cache.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {STORE_FILE, STORE_FILE + ".lock", HISTORY_FILE, "facility_map.json"}
    assert any(p.name.startswith("lexicon-") for p in files)
    assert {p.name: oct(p.stat().st_mode & 0o777) for p in files} == {p.name: oct(0o600) for p in files}
