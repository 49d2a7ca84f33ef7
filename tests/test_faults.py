"""The fault suite: random damage to the store and history files (truncated, garbage, wrong shape, wrong
encoding, at random offsets), random search arguments, chat lines and booking fields. Whatever hypothesis
draws, every command ends with no traceback, never reads a damaged file as empty (no silent reset), and no
booking or conversation is lost: each is either listed, reported as damaged, or still in a file that was
refused and left byte for byte. `bench/faults.py` runs the same probes as whole processes, with kill -9, full
and read-only filesystems on top."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.app.cli import main
from agent.app.history import HISTORY_FILE, ConversationHistory
from agent.app.plain import chat_lines
from agent.core.bookings import Bookings
from agent.core.errors import UserError
from agent.core.store import STORE_FILE, HotelStore
from agent.core.text import clean_text
from agent.core.turns import AssistantTurn, Dialogue, UserTurn
from agent.dialogue.loop import DialogueLoop
from backends.registry import create

BOOKINGS = 3
CONVERSATIONS = 2
FAULTS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
CODECS = ("gbk", "utf-16", "latin-1", "big5", "shift_jis", "cp1252")


@pytest.fixture(scope="module")
def healthy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache dir with a store of BOOKINGS bookings, a history of CONVERSATIONS conversations and the learned
    facility map; each example damages a copy of it."""
    cache = tmp_path_factory.mktemp("healthy-cache")
    with cache_at(cache):
        bookings = Bookings(HotelStore.open())
        for hotel_id in range(BOOKINGS):
            bookings.book(hotel_id, guest=f"客人{hotel_id}")
        history = ConversationHistory.open()
        for i in range(CONVERSATIONS):
            dialogue = Dialogue((UserTurn(f"第{i}次"), AssistantTurn("好的。")))
            history.save(replace(ConversationHistory.new("rules"), dialogue=dialogue))
    return cache


@contextmanager
def cache_at(directory: Path) -> Iterator[Path]:
    old = os.environ.get("HOTEL_AGENT_CACHE")
    os.environ["HOTEL_AGENT_CACHE"] = str(directory)
    try:
        yield directory
    finally:
        if old is None:
            del os.environ["HOTEL_AGENT_CACHE"]
        else:
            os.environ["HOTEL_AGENT_CACHE"] = old


@contextmanager
def damaged_copy(healthy: Path, name: str | None = None, content: bytes = b"") -> Iterator[Path]:
    """A copy of the healthy cache, with the file `name` replaced by `content`, as the cache dir."""
    directory = Path(tempfile.mkdtemp(prefix="fault-"))
    try:
        for file in ("facility_map.json", STORE_FILE, HISTORY_FILE):
            shutil.copy(healthy / file, directory / file)
        if name is not None:
            (directory / name).write_bytes(content)
        with cache_at(directory):
            yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


# --- damage ----------------------------------------------------------------------------------------------


@st.composite
def damaged(draw, original: bytes, focus: tuple[int, int]) -> bytes:
    """`original` truncated, overwritten with garbage, or re-encoded from an offset; the offset anywhere, or
    (as often) inside `focus`, the part holding what a person would lose (bookings, conversations)."""
    offset = draw(
        st.integers(0, len(original)) | st.integers(max(0, focus[0]), min(len(original), focus[1])),
    )
    kind = draw(st.sampled_from(["truncate", "garbage", "printable", "zeros", "encoding"]))
    if kind == "truncate":
        return original[:offset]
    if kind == "encoding":
        codec = draw(st.sampled_from(CODECS))
        return original[:offset] + original[offset:].decode("utf-8", "ignore").encode(codec, "replace")
    length = draw(st.integers(1, 16))
    if kind == "garbage":
        junk = draw(st.binary(min_size=length, max_size=length))
    elif kind == "printable":  # still valid UTF-8, often still valid JSON: the hardest to notice
        junk = draw(st.text(alphabet='abcXYZ019:,{}[]" ', min_size=length, max_size=length)).encode()
    else:
        junk = b"\x00" * length  # what a lost block of a filesystem reads as
    return original[:offset] + junk + original[offset + length :]


JSON_VALUES = st.none() | st.booleans() | st.integers(-5, 10**30) | st.text(max_size=5) | st.just([]) | st.just({})


@st.composite
def wrong_shape(draw, original: bytes, tables: tuple[str, ...]) -> bytes:
    """`original` with one value in `tables` (or the meta table, or a whole table) of the wrong type."""
    data = json.loads(original)
    table = draw(st.sampled_from([*tables, "meta"]))
    if draw(st.integers(0, 9)) == 0:
        # not {}: an emptied table is a valid file holding no data, an edit that no reader can tell from damage
        data[table] = draw(JSON_VALUES.filter(lambda v: not isinstance(v, dict)))
        return json.dumps(data, ensure_ascii=False).encode()
    doc = data[table][draw(st.sampled_from(sorted(data[table])))]
    key = draw(st.sampled_from(sorted(doc)))
    doc[key] = draw(JSON_VALUES.filter(lambda v: type(v) is not type(doc[key])))
    return json.dumps(data, ensure_ascii=False).encode()


def span(content: bytes, table: str) -> tuple[int, int]:
    start = content.index(f'"{table}": {{'.encode())
    return start, start + content[start:].index(b"}}") + 2


# --- what every run must show -------------------------------------------------------------------------------


def run(*args: str, input: Any = None) -> Result:
    return CliRunner().invoke(main, list(args), input=input)


def assert_no_traceback(result: Result) -> None:
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"traceback: {result.exception!r}\n{result.output}") from result.exception


def assert_refused_and_kept(result: Result, path: Path, content: bytes) -> None:
    assert result.output.startswith("error: ") and result.output.count("\n") == 1, result.output
    assert path.read_bytes() == content, "a refused file was changed"


def rows(output: str, pattern: str) -> int:
    return sum(1 for line in output.splitlines() if re.match(pattern, line))


def check_store_outcome(result: Result, path: Path, content: bytes) -> None:
    """Refused and kept, or every booking listed or reported as damaged (never fewer: a silent reset)."""
    assert_no_traceback(result)
    if result.exit_code != 0:
        assert_refused_and_kept(result, path, content)
        return
    listed = rows(result.output, r"\d+ +(confirmed|cancelled) ")
    reported = rows(result.output, r"warning: booking ")
    assert listed + reported == BOOKINGS, f"{listed} listed + {reported} reported of {BOOKINGS}:\n{result.output}"


def check_history_outcome(result: Result, path: Path, content: bytes) -> None:
    assert_no_traceback(result)
    if result.exit_code != 0:
        assert_refused_and_kept(result, path, content)
        return
    lines = result.output.splitlines()  # a header, one row per conversation (any id), then the warnings
    listed = sum(1 for line in lines[1:] if not line.startswith("warning: ")) if lines[0].startswith("id ") else 0
    reported = rows(result.output, r"warning: conversation ")
    assert listed + reported == CONVERSATIONS, f"{listed} + {reported} of {CONVERSATIONS}:\n{result.output}"


# --- damaged files ------------------------------------------------------------------------------------------


@FAULTS
@given(data=st.data())
def test_a_damaged_store_never_crashes_resets_or_loses_a_booking(healthy: Path, data: st.DataObject):
    original = (healthy / STORE_FILE).read_bytes()
    content = data.draw(damaged(original, span(original, "bookings")) | wrong_shape(original, ("bookings",)))
    with damaged_copy(healthy, STORE_FILE, content) as cache:
        check_store_outcome(run("bookings"), cache / STORE_FILE, content)


@FAULTS
@given(data=st.data())
def test_a_damaged_history_never_crashes_resets_or_loses_a_conversation(healthy: Path, data: st.DataObject):
    original = (healthy / HISTORY_FILE).read_bytes()
    content = data.draw(damaged(original, span(original, "conversations")) | wrong_shape(original, ("conversations",)))
    with damaged_copy(healthy, HISTORY_FILE, content) as cache:
        check_history_outcome(run("history"), cache / HISTORY_FILE, content)


@FAULTS
@given(data=st.data())
def test_a_change_to_a_damaged_store_is_refused_or_keeps_every_booking(healthy: Path, data: st.DataObject):
    original = (healthy / STORE_FILE).read_bytes()
    content = data.draw(damaged(original, span(original, "bookings")))
    with damaged_copy(healthy, STORE_FILE, content) as cache:
        result = run("bookings", "--cancel", "1")
        assert_no_traceback(result)
        if result.exit_code != 0 and (cache / STORE_FILE).read_bytes() != content:
            raise AssertionError(f"a refused change rewrote the file: {result.output}")
        check_store_outcome(run("bookings"), cache / STORE_FILE, (cache / STORE_FILE).read_bytes())


# --- hostile input ---------------------------------------------------------------------------------------


JSONISH = st.recursive(
    JSON_VALUES | st.floats() | st.text(alphabet='经济型豪华无线网络\x1b\x00\ud800"\\', max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["name", "type", "facilities", "price_range_lower", "rating_range_upper", "x"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)
ARGUMENT_TEXT = (
    JSONISH.map(lambda v: json.dumps(v, ensure_ascii=False))
    | st.text(max_size=40)
    | st.integers(1, 70_000).map(lambda n: "[" * n)
    | st.integers(300, 6_000).map(lambda n: '{"price_range_lower": ' + "9" * n + "}")
)


@FAULTS
@given(arguments=ARGUMENT_TEXT)
def test_any_search_arguments_are_a_table_or_one_error_line(healthy: Path, arguments: str):
    with damaged_copy(healthy):
        result = run("search", arguments)
    assert_no_traceback(result)
    assert result.exit_code == 0 or (result.output.startswith("error: ") and result.output.count("\n") == 1)
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", result.output), result.output


@pytest.fixture(scope="module")
def loop() -> DialogueLoop:
    return DialogueLoop(create("rules", chat_only=True), HotelStore.open(learn_facilities=False))


CHAT_LINE = st.text(max_size=60) | st.text(alphabet="5五百 -元分以上下评\x1b[2J\r\t", max_size=3_000)


@FAULTS
@given(lines=st.lists(CHAT_LINE, min_size=1, max_size=4))
def test_any_chat_lines_are_answered_and_saved(loop: DialogueLoop, lines: list[str], tmp_path: Path):
    text = "\n".join(line.replace("\n", " ") for line in lines) + "\n"
    history = ConversationHistory(Path(tempfile.mkdtemp(dir=tmp_path)) / HISTORY_FILE)
    conversation = ConversationHistory.new("rules")
    saved: list[Any] = []
    dialogue = chat_lines(
        loop,
        io.StringIO(text),
        io.StringIO(),
        on_exchange=lambda d: saved.append(history.save(replace(conversation, dialogue=d))),
    )
    exchanges = [line for line in text.split("\n") if clean_text(line).strip()]
    assert sum(1 for t in dialogue if isinstance(t, AssistantTurn)) == len(exchanges) == len(saved)
    if saved:
        reread = history.get(conversation.id)
        assert reread.dialogue == dialogue
        json.dumps([t.content for t in dialogue if isinstance(t, UserTurn)], ensure_ascii=False).encode("utf-8")


FIELD = (
    st.none()
    | st.text(max_size=30)
    | st.text(alphabet="张三\x1b[2J\ud800\x00\u202e ", max_size=200)
    | st.integers(-(10**20), 10**20)
    | st.floats()
    | st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31))
    | st.sampled_from(["2026-12-01", "明天", "12月1日", "20261201", "2026-W48-2", "两", "1e309"])
)


@FAULTS
@given(guest=FIELD, check_in=FIELD, nights=FIELD)
def test_any_booking_fields_are_booked_cleanly_or_refused_with_nothing_written(
    healthy: Path, guest: Any, check_in: Any, nights: Any
):
    with damaged_copy(healthy) as cache:
        bookings = Bookings(HotelStore.open())
        before = (cache / STORE_FILE).read_bytes()
        try:
            booking = bookings.book(5, guest=guest, check_in=check_in, nights=nights, today=dt.date(2026, 11, 29))
        except UserError:
            assert (cache / STORE_FILE).read_bytes() == before
            return
        assert booking in bookings.list() and len(bookings.list()) == BOOKINGS + 1
        listed = run("bookings")
        assert listed.exit_code == 0 and not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", listed.output)
        (cache / STORE_FILE).read_text(encoding="utf-8")  # strict UTF-8: nothing unsaveable got in
