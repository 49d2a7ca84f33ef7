"""agent.core.atomic_storage: atomic TinyDB writes and per-component schema versions."""

from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path

import pytest

from agent.core import atomic_storage
from agent.core.atomic_storage import (
    AtomicJSONStorage,
    DamagedFileError,
    Schema,
    SchemaTooNewError,
    damage,
    ensure_schema,
    locked,
    meta_get,
    meta_set,
    move_aside,
    open_db,
    remove_stale_temp_files,
    replace_tables,
    schema_version,
    write_atomically,
)
from agent.core.errors import DataFormatError, StorageError


def test_round_trip_keeps_chinese_readable(tmp_path: Path):
    db = open_db(tmp_path / "db.json")
    db.table("t").insert({"name": "汉庭酒店"})
    assert "汉庭酒店" in (tmp_path / "db.json").read_text(encoding="utf-8")
    assert open_db(tmp_path / "db.json").table("t").all() == [{"name": "汉庭酒店"}]


def test_a_missing_file_reads_as_an_empty_database(tmp_path: Path):
    assert AtomicJSONStorage(tmp_path / "absent.json").read() is None
    assert damage(tmp_path / "absent.json") is None


# What a store file may look like after a disk error, an editor, or another program: never what we write.
DAMAGED = {
    "empty": b"",
    "whitespace": b"  \n\t\n",
    "garbage": b"\x00\x01\x02 not json",
    "truncated": b'{"bookings": {"1": {"hotel_id": 3, "hotel_name": "\xe6\xb1\x89',
    "not-utf8": b'{"bookings": {"1": {"guest": "\xff\xfe"}}}',
    "top-level-list": b"[]",
    "table-a-list": b'{"bookings": [{"hotel_id": 3}]}',
    "document-a-number": b'{"bookings": {"1": 5}}',
    "document-id-not-a-number": b'{"bookings": {"first": {"hotel_id": 3}}}',
    "duplicate-table": b'{"bookings": {"1": {"hotel_id": 3}}, "bookings": {}}',
    "nested-too-deeply": b'{"bookings": ' + b"[" * 60_000,
    "schema-version-not-a-number": b'{"meta": {"1": {"component": "bookings", "schema_version": "abc"}}}',
    "schema-version-null": b'{"meta": {"1": {"component": "bookings", "schema_version": null}}}',
}


@pytest.mark.parametrize("content", list(DAMAGED.values()), ids=list(DAMAGED))
def test_a_damaged_file_is_refused_in_one_line_and_left_as_it_was(tmp_path: Path, content: bytes):
    path = tmp_path / "db.json"
    path.write_bytes(content)
    for touch in (lambda db: db.table("bookings").all(), lambda db: db.table("bookings").insert({"hotel_id": 1})):
        with pytest.raises(DamagedFileError) as raised:
            touch(open_db(path))
        message = str(raised.value)
        assert message.startswith(f"{path}: damaged") and "\n" not in message
        assert "hotel-agent data repair" in message and "delete" not in message
        assert path.read_bytes() == content
    assert damage(path) == raised.value.problem


def test_a_healthy_file_has_no_damage(tmp_path: Path):
    db = open_db(tmp_path / "db.json")
    db.table("bookings").insert({"hotel_id": 3})
    ensure_schema(db, Schema("bookings", 1))
    assert damage(tmp_path / "db.json") is None


def test_move_aside_keeps_the_bytes_under_a_timestamped_name_and_never_overwrites(tmp_path: Path):
    path = tmp_path / "hotels.json"
    kept = []
    for content in (b"first", b"second"):
        path.write_bytes(content)
        kept.append(move_aside(path))
        assert not path.exists()
    assert kept[0] != kept[1]
    assert [p.read_bytes() for p in kept] == [b"first", b"second"]
    assert all(p.name.startswith("hotels.json.damaged-2") for p in kept)


def test_text_that_cannot_be_encoded_is_still_saved_losslessly(tmp_path: Path):
    # A lone surrogate should have been cleaned at the door; if one slips through, saving must not crash.
    db = open_db(tmp_path / "db.json")
    db.table("t").insert({"name": "汉庭\ud800"})
    assert open_db(tmp_path / "db.json").table("t").all() == [{"name": "汉庭\ud800"}]


def test_failed_write_leaves_old_content_and_no_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "db.json"
    db = open_db(path)
    db.table("t").insert({"a": 1})

    def crash(*_args, **_kwargs):
        raise OSError("disk died during fsync")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(StorageError):
        db.table("t").insert({"a": 2})
    monkeypatch.undo()
    assert json.loads(path.read_text(encoding="utf-8"))["t"] == {"1": {"a": 1}}
    assert [p.name for p in tmp_path.iterdir()] == ["db.json"]


def test_a_full_disk_is_one_line_naming_the_file_and_nothing_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "db.json"
    path.write_text('{"t": {}}', encoding="utf-8")

    def full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(StorageError) as raised:
        write_atomically(path, '{"t": {"1": {"a": 1}}}')
    assert str(raised.value) == f"cannot write {path}: No space left on device; it was left as it was"
    assert path.read_text(encoding="utf-8") == '{"t": {}}' and [p.name for p in tmp_path.iterdir()] == ["db.json"]


def test_lock_files_are_private_whatever_the_umask(tmp_path: Path):
    old = os.umask(0)
    try:
        with locked(tmp_path / "db.json"):
            pass
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "db.json.lock").stat().st_mode) == 0o600


def test_saved_files_are_private_whatever_the_umask(tmp_path: Path):
    old = os.umask(0)
    try:
        write_atomically(tmp_path / "db.json", "{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "db.json").stat().st_mode) == 0o600


def test_a_directory_nobody_may_write_to_can_still_be_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "db.json"
    open_db(path).table("t").insert({"a": 1})
    real_open = os.open

    def read_only_fs(file, flags, *args, **kwargs):  # what a read-only mount answers (root ignores chmod)
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(file))
        return real_open(file, flags, *args, **kwargs)

    monkeypatch.setattr(atomic_storage.os, "open", read_only_fs)
    for lock_exists in (False, True):
        if lock_exists:
            monkeypatch.undo()
            with locked(path):
                pass
            monkeypatch.setattr(atomic_storage.os, "open", read_only_fs)
        with locked(path):
            assert open_db(path).table("t").all() == [{"a": 1}]


def test_a_data_directory_that_is_a_file_is_one_line(tmp_path: Path):
    (tmp_path / "cache").write_text("not a directory")
    with pytest.raises(StorageError, match="cache is not a directory"):
        with locked(tmp_path / "cache" / "db.json"):
            pass
    with pytest.raises(StorageError, match="cache is not a directory"):
        open_db(tmp_path / "cache" / "db.json")


def test_corrupt_file_is_a_one_line_user_error_naming_the_file(tmp_path: Path):
    path = tmp_path / "db.json"
    path.write_text('{"t": {"1": ')
    with pytest.raises(DataFormatError, match="db.json"):
        open_db(path).table("t").all()


def test_new_component_is_stamped_without_running_upgrades(tmp_path: Path):
    db = open_db(tmp_path / "db.json")
    ran = []
    assert ensure_schema(db, Schema("bookings", 2, {1: ran.append, 2: ran.append})) is None
    assert schema_version(db, "bookings") == 2 and ran == []


def test_upgrades_run_in_order_from_the_recorded_version(tmp_path: Path):
    db = open_db(tmp_path / "db.json")
    meta_set(db, "history", schema_version=1)
    ran = []
    found = ensure_schema(db, Schema("history", 3, {2: lambda d: ran.append(2), 3: lambda d: ran.append(3)}))
    assert found == 1 and ran == [2, 3] and schema_version(db, "history") == 3


def test_components_keep_separate_versions_and_meta(tmp_path: Path):
    db = open_db(tmp_path / "db.json")
    ensure_schema(db, Schema("hotels", 1))
    ensure_schema(db, Schema("bookings", 4))
    meta_set(db, "hotels", source_sha256="abc")
    assert schema_version(db, "hotels") == 1 and schema_version(db, "bookings") == 4
    assert meta_get(db, "hotels")["source_sha256"] == "abc"


def test_file_from_a_newer_version_is_refused(tmp_path: Path):
    db = open_db(tmp_path / "db.json")
    meta_set(db, "bookings", schema_version=9)
    with pytest.raises(SchemaTooNewError, match="schema version 9"):
        ensure_schema(db, Schema("bookings", 1))


def test_replace_tables_writes_tables_and_meta_once_and_keeps_other_tables(tmp_path: Path):
    db = open_db(tmp_path / "db.json")
    db.table("bookings").insert({"hotel_id": 3})
    db.table("hotels").insert({"name": "old"})
    meta_set(db, "hotels", schema_version=1)
    writes = []
    write = db.storage.write
    db.storage.write = lambda data: (writes.append(1), write(data))
    replace_tables(db, {"hotels": {1: {"name": "new"}, 2: {"name": "newer"}}}, {"hotels": {"source_sha256": "ab"}})
    assert len(writes) == 1
    reopened = open_db(tmp_path / "db.json")
    assert [d["name"] for d in reopened.table("hotels").all()] == ["new", "newer"]
    assert reopened.table("bookings").all() == [{"hotel_id": 3}]
    assert meta_get(reopened, "hotels") == {"component": "hotels", "schema_version": 1, "source_sha256": "ab"}


def test_stale_temp_files_of_this_file_only_are_removed(tmp_path: Path):
    (tmp_path / ".db.json.x1.tmp").write_text("{")
    (tmp_path / ".other.json.x2.tmp").write_text("{")
    assert remove_stale_temp_files(tmp_path / "db.json") == 1
    assert [p.name for p in tmp_path.iterdir()] == [".other.json.x2.tmp"]
