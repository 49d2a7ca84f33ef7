"""agent.core.atomic_storage: atomic TinyDB writes and per-component schema versions."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from agent.core.atomic_storage import (
    AtomicJSONStorage,
    Schema,
    SchemaTooNewError,
    ensure_schema,
    meta_get,
    meta_set,
    open_db,
    remove_stale_temp_files,
    replace_tables,
    schema_version,
)
from agent.core.errors import DataFormatError


def test_round_trip_keeps_chinese_readable(tmp_path: Path):
    db = open_db(tmp_path / "db.json")
    db.table("t").insert({"name": "汉庭酒店"})
    assert "汉庭酒店" in (tmp_path / "db.json").read_text(encoding="utf-8")
    assert open_db(tmp_path / "db.json").table("t").all() == [{"name": "汉庭酒店"}]


def test_missing_and_empty_files_read_as_empty_database(tmp_path: Path):
    assert AtomicJSONStorage(tmp_path / "absent.json").read() is None
    (tmp_path / "empty.json").write_text("")
    assert AtomicJSONStorage(tmp_path / "empty.json").read() is None


def test_failed_write_leaves_old_content_and_no_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "db.json"
    db = open_db(path)
    db.table("t").insert({"a": 1})

    def crash(*_args, **_kwargs):
        raise OSError("disk died during fsync")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError):
        db.table("t").insert({"a": 2})
    monkeypatch.undo()
    assert json.loads(path.read_text(encoding="utf-8"))["t"] == {"1": {"a": 1}}
    assert [p.name for p in tmp_path.iterdir()] == ["db.json"]


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
