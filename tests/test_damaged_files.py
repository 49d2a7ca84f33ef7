"""Damaged store and history files, as every command meets them: refused in one line that names the file and
the way out, kept byte for byte until the user asks (`hotel-agent data repair`), never read as empty; one
damaged booking or conversation is skipped and reported while the others still load."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent.app.cli import main
from agent.app.history import HISTORY_FILE, ConversationHistory
from agent.core.atomic_storage import open_db
from agent.core.bookings import Bookings
from agent.core.store import STORE_FILE, HotelStore
from agent.core.turns import AssistantTurn, Dialogue, UserTurn

DAMAGED = {
    "empty": b"",
    "whitespace": b" \n\n ",
    "truncated": b'{"bookings": {"1": {"hotel_id": 3, "hotel_name": "',
    "not-utf8": b'{"bookings": {"1": {"guest": "\xff\xfe"}}}',
    "bookings-a-list": b'{"bookings": [{"hotel_id": 3}]}',
    "conversations-a-list": b'{"conversations": []}',
    "schema-version-abc": b'{"meta": {"1": {"component": "bookings", "schema_version": "abc"}}}',
    # one byte changed in a table name: the file is valid JSON, but the bookings (or conversations) are gone
    "table-renamed": b'{"bookinGs": {"1": {"hotel_id": 3}}, "conversationS": {}}',
}


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input)


def book_three() -> list[int]:
    bookings = Bookings(HotelStore.open(learn_facilities=False))
    return [bookings.book(hotel_id, guest="张三").id for hotel_id in (1, 2, 3)]


def save_two(history: ConversationHistory) -> list[str]:
    dialogues = [Dialogue((UserTurn(f"第{i}次"), AssistantTurn("好的。"))) for i in (1, 2)]
    return [history.save(replace(ConversationHistory.new("rules"), dialogue=d)).id for d in dialogues]


def assert_refused(result, path: Path):
    """Exit 1 with exactly one line: the file, that it is damaged, and the way out (never "delete")."""
    assert result.exit_code == 1, result.output
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    line = result.output.strip()
    assert line.startswith(f"error: {path}: damaged") and "hotel-agent data repair" in line
    assert "delete" not in line


STORE_COMMANDS = {
    "bookings": ("bookings",),
    "cancel": ("bookings", "--cancel", "1"),
    "search": ("search", '{"type": "经济型"}'),
    "chat": ("--plain",),
}


@pytest.mark.parametrize("command", list(STORE_COMMANDS.values()), ids=list(STORE_COMMANDS))
@pytest.mark.parametrize("content", list(DAMAGED.values()), ids=list(DAMAGED))
def test_a_damaged_store_is_refused_by_every_command_and_kept(own_cache: Path, command, content: bytes):
    path = own_cache / STORE_FILE
    path.write_bytes(content)
    assert_refused(run(*command, input="你好\n"), path)
    assert path.read_bytes() == content


HISTORY_COMMANDS = {
    "history": ("history",),
    "show": ("history", "--show", "abc"),
    "export": ("feedback", "export", "out.jsonl"),
    "chat": ("--plain",),
    "continue": ("--plain", "--continue"),
}


@pytest.mark.parametrize("command", list(HISTORY_COMMANDS.values()), ids=list(HISTORY_COMMANDS))
@pytest.mark.parametrize("content", list(DAMAGED.values()), ids=list(DAMAGED))
def test_a_damaged_history_is_refused_by_every_command_and_kept(
    own_cache: Path, command, content: bytes, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    monkeypatch.chdir(tmp_path)
    path = own_cache / HISTORY_FILE
    path.write_bytes(content)
    assert_refused(run(*command, input="你好\n"), path)
    assert path.read_bytes() == content


def test_an_emptied_store_is_not_a_new_one_and_its_bookings_come_back_after_repair(own_cache: Path):
    book_three()
    path = own_cache / STORE_FILE
    saved = path.read_bytes()
    path.write_bytes(b"")  # what a crashed editor or a full disk under another program leaves
    assert_refused(run("bookings"), path)

    repaired = run("data", "repair")
    assert repaired.exit_code == 0, repaired.output
    kept = list(own_cache.glob(f"{STORE_FILE}.damaged-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == b"" and kept[0].name in repaired.output
    assert run("bookings").output.startswith("no bookings yet")

    kept[0].write_bytes(saved)  # the user puts the good copy back, as the message told them they may
    kept[0].rename(path)
    assert len(run("bookings").output.splitlines()) == 5  # header, 3 bookings, count


def damage_outside_the_bookings(path: Path, *, booking_2: object = None) -> bytes:
    """The store with a table it never holds (one changed byte in a table's name does this), and with
    `booking_2` in place of booking 2 when given; the damaged bytes."""
    data = json.loads(path.read_text(encoding="utf-8"))
    data["hotelz"] = {}
    if booking_2 is not None:
        data["bookings"]["2"] = booking_2
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path.read_bytes()


def test_repair_carries_the_bookings_that_read_well_to_the_new_store_under_their_numbers(own_cache: Path):
    made = book_three()
    Bookings(HotelStore.open(learn_facilities=False)).cancel(made[1])
    before = run("bookings").output
    path = own_cache / STORE_FILE
    damaged = damage_outside_the_bookings(path)
    assert_refused(run("bookings"), path)

    repaired = run("data", "repair")
    assert repaired.exit_code == 0, repaired.output
    assert f"carried over 3 bookings that read well (#{made[0]}, #{made[1]}, #{made[2]})" in repaired.output
    assert run("bookings").output == before  # the same numbers, hotels, guests and statuses
    [kept] = own_cache.glob(f"{STORE_FILE}.damaged-*")
    assert kept.read_bytes() == damaged


def test_repair_names_the_bookings_it_cannot_carry_over_and_keeps_them_in_the_copy(own_cache: Path):
    made = book_three()
    damage_outside_the_bookings(own_cache / STORE_FILE, booking_2={"hotel_id": "two", "status": "confirmed"})
    repaired = run("data", "repair")
    assert repaired.exit_code == 0, repaired.output
    [kept] = own_cache.glob(f"{STORE_FILE}.damaged-*")
    assert f"carried over 2 bookings that read well (#{made[0]}, #{made[2]})" in repaired.output
    assert f"1 that cannot be read stay only in {kept.name}" in repaired.output
    assert [b.id for b in Bookings(HotelStore.open(learn_facilities=False)).list()] == [made[0], made[2]]
    # the next booking takes a new number, not the one left in the copy
    assert Bookings(HotelStore.open(learn_facilities=False)).book(5).id == made[2] + 1


def test_repair_leaves_healthy_files_alone(own_cache: Path):
    book_three()
    save_two(ConversationHistory.open())
    before = {p.name: p.read_bytes() for p in own_cache.glob("*.json")}
    result = run("data", "repair")
    assert result.exit_code == 0 and "nothing to repair" in result.output
    assert {p.name: p.read_bytes() for p in own_cache.glob("*.json")} == before


def test_repair_moves_aside_only_the_damaged_file(own_cache: Path):
    book_three()
    (own_cache / HISTORY_FILE).write_bytes(b"{")
    store = (own_cache / STORE_FILE).read_bytes()
    result = run("data", "repair")
    assert result.exit_code == 0, result.output
    assert (own_cache / STORE_FILE).read_bytes() == store and not (own_cache / HISTORY_FILE).exists()
    assert [p.read_bytes() for p in own_cache.glob(f"{HISTORY_FILE}.damaged-*")] == [b"{"]


def test_a_damaged_hotel_record_is_rebuilt_from_the_database_and_bookings_stay(own_cache: Path):
    made = book_three()
    db = open_db(own_cache / STORE_FILE)
    tables = db.storage.read()
    del tables["hotels"]["1"]["name"]  # a hotel without a name
    tables["hotels"]["6"]["price"] = "cheap"
    tables["hotels"]["7"]["namE"] = tables["hotels"]["7"].pop("name")
    db.storage.write(tables)
    store = HotelStore.open(learn_facilities=False)
    assert store.get(0)["name"] == "北京贵都大酒店" and isinstance(store.get(5)["price"], float)
    assert "name" in store.get(6)
    assert [b.id for b in Bookings(store).list()] == made


@pytest.mark.parametrize(
    "field, value",
    [("created", None), ("hotel_name", 5), ("status", "maybe"), ("hotel_id", "3"), ("nights", "two")],
)
def test_one_damaged_booking_is_reported_and_the_others_listed(own_cache: Path, field: str, value):
    first, second, third = book_three()
    db = open_db(own_cache / STORE_FILE)
    db.table("bookings").update({field: value}, doc_ids=[second])
    result = run("bookings")
    assert result.exit_code == 0, result.output
    rows = [line.split()[0] for line in result.output.splitlines()[1:] if re.match(r"\d+ +(confirmed|cancelled)", line)]
    assert rows == [str(first), str(third)]
    warning = f"warning: booking {second} in {own_cache / STORE_FILE} is damaged ({field}"
    assert warning in result.output and "Traceback" not in result.output
    cancel = run("bookings", "--cancel", str(second))
    assert cancel.exit_code == 1 and cancel.output.startswith(f"error: booking {second} ")
    assert cancel.output.count("\n") == 1


def test_a_booking_with_a_field_we_do_not_know_is_reported_not_read_without_it(own_cache: Path):
    first, second, third = book_three()
    db = open_db(own_cache / STORE_FILE)
    tables = db.storage.read()
    tables["bookings"][str(second)]["guesT"] = tables["bookings"][str(second)].pop("guest")  # one byte changed
    db.storage.write(tables)
    result = run("bookings")
    assert f"warning: booking {second} in {own_cache / STORE_FILE} is damaged (unknown field 'guesT')" in result.output


def test_a_conversation_with_bad_turns_is_skipped_and_reported_the_others_load(own_cache: Path, tmp_path: Path):
    history = ConversationHistory.open()
    older, newer = save_two(history)
    history.save(history.get(older).with_rating(1, "up"))  # rated, and now the most recent
    db = open_db(own_cache / HISTORY_FILE)
    db.table("conversations").insert({"id": "bad", "updated": "9999", "turns": "not a list of turns"})

    listed = run("history")
    assert listed.exit_code == 0, listed.output
    assert older in listed.output and newer in listed.output
    assert "warning: conversation 'bad' in" in listed.output and "is damaged" in listed.output

    out = tmp_path / "rated.jsonl"
    exported = run("feedback", "export", str(out))
    assert exported.exit_code == 0, exported.output
    assert [json.loads(line)["feedback"]["conversation"] for line in out.read_text().splitlines()] == [older]

    resumed = run("--plain", "--continue", input="谢谢\n")
    assert resumed.exit_code == 0, resumed.output
    assert "warning: conversation 'bad' in" in resumed.output
    assert ConversationHistory.open().get(older).dialogue[2] == UserTurn("谢谢")


def test_a_damaged_conversation_can_be_deleted_by_its_id(own_cache: Path):
    history = ConversationHistory.open()
    save_two(history)
    open_db(own_cache / HISTORY_FILE).table("conversations").insert({"id": "bad0001", "turns": 5})
    result = run("history", "--delete", "bad0")
    assert result.exit_code == 0 and result.output.strip() == "deleted bad0001"
    assert "warning" not in run("history").output


def test_showing_a_damaged_conversation_says_what_is_wrong_with_it(own_cache: Path):
    save_two(ConversationHistory.open())
    open_db(own_cache / HISTORY_FILE).table("conversations").insert({"id": "bad0001", "turns": 5})
    result = run("history", "--show", "bad0")
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert result.output.startswith(f"error: conversation 'bad0001' in {own_cache / HISTORY_FILE} is damaged (")
    assert "history --delete" in result.output


def test_a_conversation_whose_id_is_not_text_does_not_stop_the_others_being_shown(own_cache: Path):
    older, newer = save_two(ConversationHistory.open())
    open_db(own_cache / HISTORY_FILE).table("conversations").insert({"id": {"x": 1}, "turns": []})
    result = run("history", "--show", older)
    assert result.exit_code == 0 and "第1次" in result.output, result.output
    assert run("history", "--delete", newer).output.strip() == f"deleted {newer}"
