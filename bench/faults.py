"""The fault matrix: damaged files × every command, hostile input, kill -9, concurrent writers, read-only and
full filesystems. Prints, per probe, how many cases were tried and how each ended, then one summary line.

    python -m bench.faults [--seed S] [--quick]        (from the checkout's root; needs the course data)

Each case runs a command the way a user does (in this process through click's runner, or as a process of
its own where a kill or a race is the point) on a copy of a healthy cache dir holding 3 bookings and 2 rated
conversations, and sorts the outcome:

* ok           the command did its job (a listing shows every booking / conversation, or reports the
               damaged ones by name);
* clean error  exit status non-zero with one `error:` line, and every file it refused left byte for byte;
* traceback    an exception escaped (a bug, whatever the input);
* silent reset a listing that exits 0 showing fewer bookings or conversations than the files hold;
* data lost    a case after which a booking, conversation or eval prediction that had been saved (or
               confirmed) is gone, or is there twice: counted in records, summed into L.

Read-only and full filesystems are real tmpfs mounts (root only; without the permission those probes say
so and are skipped). The summary line is `faults: N cases, T tracebacks, S silent resets, L lost bookings`,
where L counts every lost or duplicated record (bookings, conversations, predictions)."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

REPO = Path(__file__).resolve().parents[1]
BOOKINGS = 3
CONVERSATIONS = 2
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
BOOKING_ROW = re.compile(r"\d+ +(confirmed|cancelled) ")
CONVERSATION_ROW = re.compile(r"[0-9a-f]{12} ")
CODECS = ("gbk", "utf-16", "latin-1", "big5", "shift_jis", "cp1252")


# --- outcomes ---------------------------------------------------------------------------------------------


@dataclass
class Tally:
    tried: int = 0
    ok: int = 0
    clean: int = 0
    tracebacks: int = 0
    resets: int = 0
    slow: int = 0
    lossy_cases: int = 0
    lost_records: int = 0
    notes: list[str] = field(default_factory=list)

    def add(self, outcome: str, lost: int = 0, note: str = "") -> None:
        self.tried += 1
        if outcome == "ok":
            self.ok += 1
        elif outcome == "clean":
            self.clean += 1
        elif outcome == "traceback":
            self.tracebacks += 1
        elif outcome == "reset":
            self.resets += 1
        elif outcome == "slow":
            self.slow += 1
        else:
            raise ValueError(outcome)
        if lost:
            self.lossy_cases += 1
            self.lost_records += lost
        if note and (outcome in ("traceback", "reset", "slow") or lost):
            self.notes.append(note)


@dataclass
class Matrix:
    probes: dict[str, Tally] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    facts: list[str] = field(default_factory=list)  # what the table cannot show (printed before the summary)

    def probe(self, name: str) -> Tally:
        return self.probes.setdefault(name, Tally())

    def report(self) -> str:
        width = max(len(name) for name in [*self.probes, *self.skipped, "probe"])
        lines = [f"{'probe':{width}}  tried     ok  clean error  traceback  silent reset  data lost  slow"]
        for name, t in self.probes.items():
            lines.append(
                f"{name:{width}}  {t.tried:5}  {t.ok:5}  {t.clean:11}  {t.tracebacks:9}  {t.resets:12}  "
                f"{t.lossy_cases:9}  {t.slow:4}"
            )
            lines.extend(f"{'':{width}}  ! {note}" for note in t.notes[:3])
        for name, why in self.skipped.items():
            lines.append(f"{name:{width}}  skipped: {why}")
        lines.extend(self.facts)
        total = sum(t.tried for t in self.probes.values())
        tracebacks = sum(t.tracebacks for t in self.probes.values())
        resets = sum(t.resets for t in self.probes.values())
        lost = sum(t.lost_records for t in self.probes.values())
        lines.append(f"faults: {total} cases, {tracebacks} tracebacks, {resets} silent resets, {lost} lost bookings")
        return "\n".join(lines)


# --- the healthy cache and copies of it -------------------------------------------------------------------


@contextlib.contextmanager
def cache_env(directory: Path) -> Iterator[Path]:
    old = os.environ.get("HOTEL_AGENT_CACHE")
    os.environ["HOTEL_AGENT_CACHE"] = str(directory)
    try:
        yield directory
    finally:
        if old is None:
            os.environ.pop("HOTEL_AGENT_CACHE", None)
        else:
            os.environ["HOTEL_AGENT_CACHE"] = old


def build_healthy(directory: Path) -> None:
    """BOOKINGS bookings, CONVERSATIONS conversations (one rated), the learned facility map."""
    from agent.app.history import ConversationHistory
    from agent.core.bookings import Bookings
    from agent.core.store import HotelStore
    from agent.core.turns import AssistantTurn, Dialogue, UserTurn

    with cache_env(directory):
        bookings = Bookings(HotelStore.open())
        for hotel_id in range(BOOKINGS):
            bookings.book(hotel_id, guest=f"客人{hotel_id}")
        history = ConversationHistory.open()
        for i in range(CONVERSATIONS):
            dialogue = Dialogue((UserTurn(f"第{i}次找酒店"), AssistantTurn("好的。")))
            saved = history.save(replace(ConversationHistory.new("rules"), dialogue=dialogue))
            history.save(saved.with_rating(1, "up"))


@contextlib.contextmanager
def copy_of(healthy: Path, into: Path | None = None) -> Iterator[Path]:
    """A copy of the healthy cache (in a new temp dir, or `into`), set as HOTEL_AGENT_CACHE."""
    directory = Path(tempfile.mkdtemp(prefix="fault-")) if into is None else into
    try:
        for file in healthy.iterdir():
            if file.is_file():
                shutil.copy(file, directory / file.name)
        with cache_env(directory):
            yield directory
    finally:
        if into is None:
            shutil.rmtree(directory, ignore_errors=True)


# --- reading back what the files hold ----------------------------------------------------------------------


def stored_count(path: Path, table: str) -> int | None:
    """How many documents `table` of the file holds (damaged ones too), or None when it cannot be read."""
    from agent.core.atomic_storage import read_tables
    from agent.core.errors import UserError

    try:
        tables = read_tables(path)
    except UserError:
        return None
    return len((tables or {}).get(table, {}))


def kept_somewhere(path: Path, content: bytes) -> bool:
    """`content` is still on disk: in `path`, or in a copy `data repair` kept aside."""
    candidates = [path, *path.parent.glob(path.name + ".damaged-*")]
    return any(p.is_file() and p.read_bytes() == content for p in candidates)


def run_cli(args: list[str], input: Any = None) -> Result:
    from agent.app.cli import main

    return CliRunner().invoke(main, args, input=input)


def escaped(result: Result) -> bool:
    return result.exception is not None and not isinstance(result.exception, SystemExit)


def one_error_line(result: Result) -> bool:
    """Exit status non-zero and one `error:` line, the last one (a chat may have answered before it failed)."""
    lines = result.output.splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    return result.exit_code != 0 and len(errors) == 1 and lines[-1] == errors[0] and "Traceback" not in result.output


# --- damage ---------------------------------------------------------------------------------------------------


def span(content: bytes, table: str) -> tuple[int, int]:
    start = content.index(f'"{table}": {{'.encode())
    return start, start + content[start:].index(b"}}") + 2


def random_damage(rng: random.Random, original: bytes, focus: tuple[int, int]) -> tuple[str, bytes]:
    """(a description, `original` damaged at a random offset: anywhere, or as often inside `focus`)."""
    offset = rng.randint(*focus) if rng.random() < 0.5 else rng.randint(0, len(original))
    kind = rng.choice(["truncate", "garbage", "printable", "zeros", "encoding"])
    if kind == "truncate":
        return f"truncated at {offset}", original[:offset]
    if kind == "encoding":
        codec = rng.choice(CODECS)
        tail = original[offset:].decode("utf-8", "ignore").encode(codec, "replace")
        return f"{codec} from {offset}", original[:offset] + tail
    length = rng.randint(1, 16)
    if kind == "garbage":
        junk = bytes(rng.randrange(256) for _ in range(length))
    elif kind == "printable":
        junk = "".join(rng.choice('abcXYZ019:,{}[]" ') for _ in range(length)).encode()
    else:
        junk = b"\0" * length
    return f"{kind} x{length} at {offset}", original[:offset] + junk + original[offset + length :]


WRONG_VALUES: tuple[Any, ...] = (None, "abc", -1, 10**30, [], {}, True)


def wrong_shapes(original: bytes, tables: tuple[str, ...]) -> Iterator[tuple[str, bytes]]:
    """Every value in `tables` (and meta, and each whole table) replaced by each value of another type."""
    data = json.loads(original)
    for table in (*tables, "meta"):
        for value in WRONG_VALUES:
            if type(value) is dict:
                continue  # an emptied table is a valid file that holds no data: an edit, not damage anyone can see
            yield f"table {table} = {value!r}", json.dumps({**data, table: value}, ensure_ascii=False).encode()
        for doc_id, doc in data[table].items():
            for key in doc:
                for value in WRONG_VALUES:
                    if type(value) is type(doc[key]):
                        continue
                    changed = json.loads(original)
                    changed[table][doc_id][key] = value
                    yield f"{table}/{doc_id}/{key} = {value!r}", json.dumps(changed, ensure_ascii=False).encode()


def fixed_damage(original: bytes) -> Iterator[tuple[str, bytes]]:
    yield "empty", b""
    yield "whitespace", b" \n\t \n"
    yield "a directory", b""  # made a directory below
    yield "not JSON", b"hello"
    yield "top level a list", b"[]"
    yield "deep nesting", b"[" * 60_000
    yield "a 5,000-digit number", b'{"meta": {"1": {"component": "x", "n": ' + b"9" * 5000 + b"}}}"
    yield "duplicate table", original[:-1] + b', "meta": {}}'
    yield "not UTF-8", original.replace("客人".encode(), b"\xff\xfe", 1) if "客人".encode() in original else b"\xff"


def damages(rng: random.Random, original: bytes, table: str, count: int) -> Iterator[tuple[str, bytes]]:
    yield from fixed_damage(original)
    shapes = list(wrong_shapes(original, (table,)))
    rng.shuffle(shapes)
    yield from shapes[: count // 3]
    focus = span(original, table)
    for _ in range(count - count // 3):
        yield random_damage(rng, original, focus)


# --- probes: damaged files × commands -------------------------------------------------------------------------


def store_commands() -> dict[str, tuple[list[str], Any]]:
    return {
        "bookings": (["bookings"], None),
        "bookings --cancel": (["bookings", "--cancel", "1"], None),
        "search": (["search", '{"type": "经济型"}'], None),
        "chat": (["--plain"], "帮我找一家经济型酒店\n"),
        "data repair": (["data", "repair"], None),
    }


def history_commands() -> dict[str, tuple[list[str], Any]]:
    return {
        "history": (["history"], None),
        "history --show": (["history", "--show", "{first}"], None),
        "feedback export": (["feedback", "export", "{out}"], None),
        "chat": (["--plain"], "你好\n"),
        "chat --continue": (["--plain", "--continue"], "谢谢\n"),
        "data repair": (["data", "repair"], None),
    }


def damaged_file_probe(
    matrix: Matrix,
    healthy: Path,
    file: str,
    table: str,
    expected: int,
    row: re.Pattern[str],
    commands: dict[str, tuple[list[str], Any]],
    rng: random.Random,
    count: int,
) -> None:
    original = (healthy / file).read_bytes()
    cases = list(damages(rng, original, table, count))
    first = first_conversation(healthy)
    for name, (args, input) in commands.items():
        tally = matrix.probe(f"damaged {file} × {name}")
        for description, content in cases:
            with copy_of(healthy) as cache:
                path = cache / file
                if description == "a directory":
                    path.unlink()
                    path.mkdir()
                else:
                    path.write_bytes(content)
                out = cache / "export.jsonl"
                result = run_cli([a.replace("{out}", str(out)).replace("{first}", first) for a in args], input)
                tally_damaged_file(tally, result, path, content, table, expected, row, description)


def first_conversation(healthy: Path) -> str:
    """The id of a conversation of the healthy history (what `history --show` is given)."""
    from agent.app.history import HISTORY_FILE
    from agent.core.atomic_storage import read_tables

    tables = read_tables(healthy / HISTORY_FILE) or {}
    return str(next(iter(tables["conversations"].values()))["id"])


def tally_damaged_file(
    tally: Tally,
    result: Result,
    path: Path,
    content: bytes,
    table: str,
    expected: int,
    row: re.Pattern[str],
    description: str,
) -> None:
    note = f"{description}: {result.output.strip()[:100] or repr(result.exception)}"
    if escaped(result):
        tally.add("traceback", note=f"{description}: {result.exception!r}")
        return
    # What is on disk now: the damaged bytes kept (in place or aside), or a file that reads and holds them all.
    lost = 0
    if path.is_file() and not kept_somewhere(path, content):
        now = stored_count(path, table)
        lost = max(0, expected - (now or 0))
    if result.exit_code != 0:
        tally.add("clean" if one_error_line(result) else "traceback", lost, note)
        return
    listed = listed_rows(result.output, row)
    reported = result.output.count("warning: ")
    if listing_command(result) and listed + reported < expected:
        tally.add("reset", lost, note)
        return
    tally.add("ok", lost, note)


def listed_rows(output: str, row: re.Pattern[str]) -> int:
    """The rows of a listing: bookings by their pattern; conversations are every line after the header but the
    warnings (damage may have changed an id into anything, and the row is still listed)."""
    lines = output.splitlines()
    if row is CONVERSATION_ROW:
        return (
            sum(1 for line in lines[1:] if not line.startswith("warning: "))
            if lines and lines[0].startswith("id ")
            else 0
        )
    return sum(1 for line in lines if row.match(line))


def listing_command(result: Result) -> bool:
    """True when the command printed a listing of bookings or conversations (rather than something else)."""
    output = result.output
    return output.startswith(("id ", "no bookings yet", "no saved conversations"))


# --- probes: hostile input ------------------------------------------------------------------------------------


def search_arguments(rng: random.Random, count: int) -> Iterator[str]:
    fixed = [
        '{"price_range_lower": ' + "9" * 400 + "}",
        '{"price_range_lower": ' + "9" * 5000 + "}",
        "[" * 60_000,
        "{" * 60_000,
        '{"type": "经济型", "type": "豪华型"}',
        '{"facilities": ' + json.dumps(["无线网络"] * 25_000, ensure_ascii=False) + "}",
        '{"facilities": ["\\u001b[2J\\u001b[31m宠物乐园"]}',
        '{"name": "\\ud800"}',
        '{"name": "' + "汉" * 100_000 + '"}',
        '{"price_range_lower": NaN}',
        '{"price_range_lower": 1e999}',
        '{"rating_range_upper": -0.0, "rating_range_lower": 0}',
        "",
        "null",
        '"经济型"',
    ]
    yield from fixed
    keys = ["name", "type", "facilities", "price_range_lower", "price_range_upper", "rating_range_lower", "x"]
    values: list[Any] = [None, True, -1, 0, 4.5, 1e308, 10**40, "", "经济型", "\x1b[2J", ["无线网络"], [[]], {}, "五百"]
    for _ in range(count - len(fixed)):
        obj = {rng.choice(keys): rng.choice(values) for _ in range(rng.randint(0, 4))}
        text = json.dumps(obj, ensure_ascii=False)
        if rng.random() < 0.3:
            cut = rng.randint(0, len(text))
            text = text[:cut] + rng.choice(["", "}", ",", '"', "\\", "\x00"]) + text[cut:]
        yield text


def hostile_search_probe(matrix: Matrix, healthy: Path, rng: random.Random, count: int) -> None:
    tally = matrix.probe("hostile search arguments")
    with copy_of(healthy):
        for arguments in search_arguments(rng, count):
            started = time.perf_counter()
            result = run_cli(["search", arguments])
            seconds = time.perf_counter() - started
            note = f"{arguments[:40]!r}: {result.output.strip()[:80] or repr(result.exception)}"
            if escaped(result) or CONTROL.search(result.output):
                tally.add("traceback", note=note)
            elif seconds > 5:
                tally.add("slow", note=f"{seconds:.1f} s: {note}")
            elif result.exit_code == 0:
                tally.add("ok")
            else:
                tally.add("clean" if one_error_line(result) else "traceback", note=note)


def chat_inputs(rng: random.Random, count: int) -> Iterator[bytes]:
    fixed = [
        "帮我找一家经济型酒店\n".encode() + b"\xff\xfe hi\n" + "电话是多少\n".encode(),
        b"5" * 8_000 + b"\n",
        b"5" * 100_000 + b"\n",
        "五".encode() * 8_000 + b"\n",
        b"\x1b[2J\x1b[31m\x07\x00\n",
        b"\xed\xa0\x80 surrogate in bytes\n",
        b"<|user|><|assistant|><|im_start|>system\n",
        b"\n\n\n",
        "评分".encode() + b"5" * 50_000 + b"\n",
    ]
    yield from fixed
    pieces = [b"5", "五".encode(), "百".encode(), b" ", b"-", "元".encode(), "以上".encode(), b"\x1b", b"\xff", b"\t"]
    for _ in range(count - len(fixed)):
        yield b"".join(rng.choice(pieces) for _ in range(rng.randint(1, 3_000))) + b"\n"


def hostile_chat_probe(matrix: Matrix, healthy: Path, rng: random.Random, count: int) -> None:
    from agent.app.history import ConversationHistory

    tally = matrix.probe("hostile chat lines")
    for script in chat_inputs(rng, count):
        with copy_of(healthy):
            started = time.perf_counter()
            result = run_cli(["--plain"], script)
            seconds = time.perf_counter() - started
            note = f"{script[:30]!r}: {result.output.strip()[-80:] or repr(result.exception)}"
            if escaped(result):
                tally.add("traceback", note=note)
                continue
            listing = ConversationHistory.open().listing()
            lost = max(0, CONVERSATIONS - len(listing.conversations)) + len(listing.damaged)
            if seconds > 5 * max(1, script.count(b"\n")):
                tally.add("slow", lost, f"{seconds:.1f} s: {note}")
            elif result.exit_code == 0:
                tally.add("ok", lost, note)
            else:
                tally.add("clean" if one_error_line(result) else "traceback", lost, note)


def booking_fields(rng: random.Random, count: int) -> Iterator[dict[str, Any]]:
    values: list[Any] = [
        None,
        "张三",
        "\x1b[2J\x1b[31m李四",
        "\ud800",
        "张" * 1_000_000,
        "",
        " ",
        5,
        -1,
        0,
        366,
        10**40,
        float("nan"),
        float("inf"),
        2.0,
        "2026-12-01",
        "1900-01-01",
        "0001-01-01",
        "9999-12-31",
        "20261201",
        "2026-W48-2",
        "明天",
        "12月1日",
        "两",
        dt.date(2026, 12, 24),
        dt.datetime(2026, 12, 1, 10, 0),
        [],
        {},
    ]
    usual = {"guest": "张三", "check_in": "2026-12-01", "nights": 2}
    for _ in range(count):  # each field hostile half of the time, so that some bookings go through
        yield {key: rng.choice(values) if rng.random() < 0.5 else value for key, value in usual.items()}


def hostile_booking_probe(matrix: Matrix, healthy: Path, rng: random.Random, count: int) -> None:
    from agent.core.bookings import Bookings
    from agent.core.errors import UserError
    from agent.core.store import STORE_FILE, HotelStore

    tally = matrix.probe("hostile booking fields")
    with copy_of(healthy) as cache:
        bookings = Bookings(HotelStore.open())
        made = BOOKINGS
        for fields in booking_fields(rng, count):
            before = (cache / STORE_FILE).read_bytes()
            note = f"{ {k: repr(v)[:20] for k, v in fields.items()} }"
            try:
                bookings.book(5, **fields, today=dt.date(2026, 11, 29))
            except UserError:
                changed = (cache / STORE_FILE).read_bytes() != before
                tally.add("clean", int(changed), f"refused but written: {note}")
                continue
            except Exception as e:  # what this probe looks for
                tally.add("traceback", note=f"{note}: {e!r}")
                continue
            made += 1
            listed = bookings.listing()
            lost = max(0, made - len(listed.bookings))
            printed = run_cli(["bookings"]).output
            ok = not listed.damaged and not CONTROL.search(printed)
            tally.add("ok" if ok else "traceback", lost, note)


# --- probes: processes killed and racing ------------------------------------------------------------------------

BOOK_FOREVER = """
import os, time
from agent.core.bookings import Bookings
from agent.core.store import HotelStore

class SlowDisk:
    # Writes go out in flushed 32 KB pieces, 1 ms apart, so that a kill can land inside one (a store write is
    # otherwise one fast system call, and most kills would hit the time between bookings).
    def __init__(self, f):
        self._f = f
    def write(self, data):
        for i in range(0, len(data), 32768):
            self._f.write(data[i:i + 32768]); self._f.flush(); time.sleep(0.001)
            if i == 0:
                print("writing", flush=True)
        return len(data)
    def __getattr__(self, name):
        return getattr(self._f, name)
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        return self._f.__exit__(*exc)

bookings = Bookings(HotelStore.open(learn_facilities=False))
fdopen = os.fdopen
os.fdopen = lambda *args, **kwargs: SlowDisk(fdopen(*args, **kwargs))
for i in range(100000):
    print(bookings.book(i % 1000, guest="guest %d" % i).id, flush=True)  # printed once it is on disk
"""


def python(script: str, cache: Path, **kwargs: Any) -> subprocess.Popen[str]:
    env = {**os.environ, "HOTEL_AGENT_CACHE": str(cache)}
    return subprocess.Popen(
        [sys.executable, "-c", script], cwd=REPO, env=env, text=True, stdout=subprocess.PIPE, **kwargs
    )


def kill_booking_probe(matrix: Matrix, healthy: Path, rng: random.Random, count: int) -> None:
    from agent.core.bookings import Bookings
    from agent.core.store import HotelStore

    tally = matrix.probe("kill -9 while booking")
    mid_write = 0
    for _ in range(count):
        with copy_of(healthy) as cache:
            child = python(BOOK_FOREVER, cache, stderr=subprocess.PIPE)
            confirmed: list[int] = []
            wanted = rng.randint(1, 30)
            assert child.stdout is not None
            for line in child.stdout:
                if line.strip() != "writing":
                    confirmed.append(int(line))
                elif len(confirmed) >= wanted:
                    time.sleep(rng.random() * 0.03)  # anywhere in the write, its fsync or its rename
                    break
            child.send_signal(signal.SIGKILL)
            child.wait()
            stderr = child.stderr.read() if child.stderr else ""
            mid_write += bool(list(cache.glob(".*.tmp")))  # the kill interrupted a write
            if "Traceback" in stderr:
                tally.add("traceback", note=stderr.strip().splitlines()[-1])
                continue
            try:
                listed = [b.id for b in Bookings(HotelStore.open(learn_facilities=False)).list()]
            except Exception as e:  # the file a killed writer left must open
                tally.add("traceback", BOOKINGS + len(confirmed), note=repr(e))
                continue
            missing = len(set(range(1, BOOKINGS + 1)) - set(listed)) + len(set(confirmed) - set(listed))
            duplicated = len(listed) - len(set(listed))
            contiguous = listed == list(range(1, len(listed) + 1))
            tally.add("ok" if contiguous else "reset", missing + duplicated, f"{len(confirmed)} confirmed")
    matrix.facts.append(f"(kill -9 while booking: {mid_write} of {count} kills landed in the middle of a write)")


def small_data(directory: Path) -> Path:
    from agent.core.datafiles import TEST, data_path

    lines = data_path(TEST).read_text(encoding="utf-8").splitlines(keepends=True)[:24]
    path = directory / "small.jsonl"
    path.write_text("".join(lines), encoding="utf-8")
    return path


def kill_eval_probe(matrix: Matrix, healthy: Path, rng: random.Random, count: int) -> None:
    tally = matrix.probe("kill -9 during eval, then --resume")
    midway = 0
    with copy_of(healthy) as cache:
        data = small_data(cache)
        command = [sys.executable, "-m", "evalharness", "run", "--backend", "gold", "--data", str(data)]
        command += ["--batch-size", "1", "--quiet"]
        whole = cache / "whole"
        subprocess.run([*command, "--out", str(whole)], cwd=REPO, capture_output=True, check=True)
        reference = json.loads((whole / "summary.json").read_text(encoding="utf-8"))["metrics"]
        for round_ in range(count):
            out = cache / f"killed-{round_}"
            env = {**os.environ, "HOTEL_AGENT_CACHE": str(cache), "HOTEL_AGENT_GOLD_DELAY": "0.05"}
            child = subprocess.Popen(
                [*command, "--out", str(out)], cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            predictions = out / "predictions.jsonl"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not (predictions.is_file() and predictions.stat().st_size):
                time.sleep(0.01)
            time.sleep(rng.random() * 0.8)  # 24 samples at 0.05 s each: land anywhere in the run
            child.send_signal(signal.SIGKILL)
            child.wait()
            midway += not (out / "summary.json").exists()
            resumed = subprocess.run(
                [*command, "--out", str(out), "--resume"], cwd=REPO, capture_output=True, text=True, env=os.environ
            )
            if "Traceback" in resumed.stderr:
                tally.add("traceback", note=resumed.stderr.strip().splitlines()[-1])
                continue
            if resumed.returncode != 0:
                tally.add("clean", note=resumed.stderr.strip()[:100])
                continue
            ids = [json.loads(line)["id"] for line in (out / "predictions.jsonl").read_text().splitlines()]
            lost = len(set(range(24)) - set(ids)) + len(ids) - len(set(ids))
            metrics = json.loads((out / "summary.json").read_text(encoding="utf-8"))["metrics"]
            tally.add("ok" if metrics == reference else "reset", lost, f"round {round_}")
    matrix.facts.append(f"(kill -9 during eval: {midway} of {count} runs were killed before their summary)")


BOOK_SOME = """
import os, sys, time
from agent.core.bookings import Bookings
from agent.core.store import HotelStore
bookings = Bookings(HotelStore.open(learn_facilities=False))
while not os.path.exists(sys.argv[1]):
    time.sleep(0.001)
for i in range(int(sys.argv[2])):
    print(bookings.book(i, guest="writer %s" % sys.argv[3]).id, flush=True)
"""

SAVE_SOME = """
import os, sys, time
from dataclasses import replace
from agent.app.history import ConversationHistory
from agent.core.turns import AssistantTurn, Dialogue, UserTurn
history = ConversationHistory.open()
while not os.path.exists(sys.argv[1]):
    time.sleep(0.001)
for i in range(int(sys.argv[2])):
    dialogue = Dialogue((UserTurn("writer %s, %d" % (sys.argv[3], i)), AssistantTurn("好的。")))
    print(history.save(replace(ConversationHistory.new("rules"), dialogue=dialogue)).id, flush=True)
"""


def concurrent_probe(matrix: Matrix, healthy: Path, count: int, writers: int = 4, each: int = 8) -> None:
    from agent.app.history import ConversationHistory
    from agent.core.bookings import Bookings
    from agent.core.store import HotelStore

    for what, script, existing in (("bookings", BOOK_SOME, BOOKINGS), ("conversations", SAVE_SOME, CONVERSATIONS)):
        tally = matrix.probe(f"{writers} concurrent writers of {what}")
        for _ in range(count):
            with copy_of(healthy) as cache:
                go = cache / "go"
                children = [
                    subprocess.Popen(
                        [sys.executable, "-c", script, str(go), str(each), str(w)],
                        cwd=REPO,
                        env={**os.environ, "HOTEL_AGENT_CACHE": str(cache)},
                        text=True,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE,
                    )
                    for w in range(writers)
                ]
                time.sleep(1.5)  # let every writer open the files first
                go.touch()
                outputs = [child.communicate() for child in children]
                if any("Traceback" in err for _, err in outputs):
                    tally.add("traceback", note=next(err for _, err in outputs if "Traceback" in err)[-200:])
                    continue
                written = [line for out, _ in outputs for line in out.split()]
                if what == "bookings":
                    stored = [str(b.id) for b in Bookings(HotelStore.open(learn_facilities=False)).list()]
                else:
                    stored = [c.id for c in ConversationHistory.open().all()]
                lost = len(set(written) - set(stored)) + len(written) - len(set(written))
                complete = len(written) == writers * each and len(stored) == existing + len(written)
                tally.add("ok" if complete else "reset", lost, f"{len(written)} written, {len(stored)} stored")


# --- probes: read-only and full filesystems ---------------------------------------------------------------------


@contextlib.contextmanager
def tmpfs(size: str) -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="fault-mount-"))
    try:
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(directory)], check=True, capture_output=True
        )
    except (OSError, subprocess.CalledProcessError) as e:
        directory.rmdir()
        raise PermissionError(f"cannot mount a tmpfs ({getattr(e, 'stderr', b'') or e!r})") from None
    try:
        yield directory
    finally:
        subprocess.run(["umount", "-l", str(directory)], capture_output=True)
        with contextlib.suppress(OSError):
            directory.rmdir()


# (command, input, changes files?) run against a cache that cannot be written.
FS_COMMANDS: tuple[tuple[list[str], Any, bool], ...] = (
    (["bookings"], None, False),
    (["search", '{"type": "经济型"}'], None, False),
    (["history"], None, False),
    (["history", "--show", "{first}"], None, False),
    (["data", "repair"], None, False),
    (["bookings", "--cancel", "1"], None, True),
    (["bookings", "--cancel", "2"], None, True),
    (["--plain"], "帮我找一家经济型酒店\n", True),
    (["--plain", "--continue"], "电话是多少\n", True),
    (["feedback", "export", "{out}"], None, False),
)


def tally_unwritable(tally: Tally, cache: Path, why: str) -> None:
    from agent.app.history import HISTORY_FILE
    from agent.core.store import STORE_FILE

    before = {name: (cache / name).read_bytes() for name in (STORE_FILE, HISTORY_FILE)}
    for args, input, writes in FS_COMMANDS:
        export = Path(tempfile.mkdtemp(prefix="fault-out-")) / "export.jsonl"
        result = run_cli(
            [a.replace("{out}", str(export)).replace("{first}", first_conversation(cache)) for a in args], input
        )
        shutil.rmtree(export.parent, ignore_errors=True)
        note = f"{why} {' '.join(args)}: {result.output.strip()[-100:] or repr(result.exception)}"
        now = {name: (cache / name).read_bytes() for name in before}
        lost = sum(1 for name in before if now[name] != before[name])
        if escaped(result):
            tally.add("traceback", lost, note)
        elif result.exit_code == 0:
            listed = listed_rows(result.output, BOOKING_ROW if args[0] == "bookings" else CONVERSATION_ROW)
            short = (
                args[0] in ("bookings", "history")
                and len(args) == 1
                and listed < (BOOKINGS if args[0] == "bookings" else CONVERSATIONS)
            )
            tally.add("reset" if short else "ok", lost, note)
        else:
            tally.add("clean" if one_error_line(result) and writes else "traceback", lost, note)


def read_only_probe(matrix: Matrix, healthy: Path, rounds: int) -> None:
    try:
        for _ in range(rounds):
            with tmpfs("16m") as mount, copy_of(healthy, into=mount) as cache:
                subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True, capture_output=True)
                tally_unwritable(matrix.probe("read-only tmpfs × commands"), cache, "read-only")
    except PermissionError as e:
        matrix.skipped["read-only tmpfs × commands"] = str(e)


def full_disk_probe(matrix: Matrix, healthy: Path, rounds: int) -> None:
    from agent.core.bookings import Bookings
    from agent.core.errors import UserError
    from agent.core.store import HotelStore

    try:
        for _ in range(rounds):
            with tmpfs("4m") as mount, copy_of(healthy, into=mount) as cache:
                with open(mount / "filler", "wb", buffering=0) as filler, contextlib.suppress(OSError):
                    while filler.write(b"\0" * 4096):  # to the last byte: ENOSPC ends it
                        pass
                tally = matrix.probe("full tmpfs × commands")
                tally_unwritable(tally, cache, "full disk")
                try:  # booking itself, in this process
                    Bookings(HotelStore.open()).book(7, guest="满盘")
                    tally.add("ok")
                except UserError:
                    tally.add("clean")
                except Exception as e:  # what this probe looks for
                    tally.add("traceback", note=repr(e))
                (mount / "filler").unlink()
                listed = Bookings(HotelStore.open()).listing()  # room again: everything is still there
                tally.add("ok" if not listed.damaged else "reset", max(0, BOOKINGS - len(listed.bookings)))
    except PermissionError as e:
        matrix.skipped["full tmpfs × commands"] = str(e)


# --- main ------------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=16, help="random damage and input (same seed, same cases)")
    parser.add_argument("--quick", action="store_true", help="a tenth of the random cases (a smoke test)")
    args = parser.parse_args()
    scale = 0.1 if args.quick else 1.0
    rng = random.Random(args.seed)
    started = time.perf_counter()
    matrix = Matrix()
    from agent.app.history import HISTORY_FILE
    from agent.core.store import STORE_FILE

    with tempfile.TemporaryDirectory(prefix="fault-healthy-") as healthy_dir:
        healthy = Path(healthy_dir)
        build_healthy(healthy)
        probes: list[tuple[str, Callable[[], None]]] = [
            (
                "damaged store",
                lambda: damaged_file_probe(
                    matrix,
                    healthy,
                    STORE_FILE,
                    "bookings",
                    BOOKINGS,
                    BOOKING_ROW,
                    store_commands(),
                    rng,
                    int(200 * scale),
                ),
            ),
            (
                "damaged history",
                lambda: damaged_file_probe(
                    matrix,
                    healthy,
                    HISTORY_FILE,
                    "conversations",
                    CONVERSATIONS,
                    CONVERSATION_ROW,
                    history_commands(),
                    rng,
                    int(150 * scale),
                ),
            ),
            ("hostile search", lambda: hostile_search_probe(matrix, healthy, rng, int(300 * scale))),
            ("hostile chat", lambda: hostile_chat_probe(matrix, healthy, rng, int(60 * scale))),
            ("hostile booking", lambda: hostile_booking_probe(matrix, healthy, rng, int(300 * scale))),
            ("kill booking", lambda: kill_booking_probe(matrix, healthy, rng, max(3, int(20 * scale)))),
            ("kill eval", lambda: kill_eval_probe(matrix, healthy, rng, max(2, int(8 * scale)))),
            ("concurrent", lambda: concurrent_probe(matrix, healthy, max(1, int(5 * scale)))),
            ("read-only", lambda: read_only_probe(matrix, healthy, max(1, int(3 * scale)))),
            ("full disk", lambda: full_disk_probe(matrix, healthy, max(1, int(3 * scale)))),
        ]
        for name, probe in probes:
            began = time.perf_counter()
            probe()
            print(f"  {name}: {time.perf_counter() - began:.0f} s", file=sys.stderr, flush=True)
    print(matrix.report())
    print(f"({time.perf_counter() - started:.0f} s, seed {args.seed})", file=sys.stderr)


if __name__ == "__main__":
    main()
