"""TinyDB files that survive a crash, and the schema version each of them records.

TinyDB's own `JSONStorage` rewrites the file in place (seek 0, write, truncate): a process killed in the middle
leaves half a JSON document and loses everything. `AtomicJSONStorage` writes the whole state to a temporary
file in the same directory, flushes and fsyncs it, then `os.replace`s it over the old file; a reader (or the
next run after a kill) sees either the old state or the new one, never a mix.

`ensure_schema` records, in a `meta` table, which version of a component's data layout a file holds, and runs
the upgrade steps from that version to the current one (the same idea as SQLite's `PRAGMA user_version`).
One file may hold several components (the hotel store and the bookings), each with its own version."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinydb import Query, TinyDB
from tinydb.storages import Storage
from tinydb.table import Table

from agent.core.errors import DataFormatError, UserError

try:  # advisory locks serialize read-modify-write between processes; POSIX only
    import fcntl
except ImportError:  # pragma: no cover - Windows: atomic replace still protects the file, updates may race
    fcntl = None  # type: ignore[assignment]

META_TABLE = "meta"


class AtomicJSONStorage(Storage):
    """A TinyDB storage writing JSON atomically (temp file + fsync + os.replace).

    The file is opened for each read and write rather than held open: after a replace an open handle would
    still point at the old file. Extra keyword arguments go to `json.dumps` (default: readable UTF-8)."""

    def __init__(self, path: str | os.PathLike[str], create_dirs: bool = True, **json_kwargs: Any):
        super().__init__()
        self.path = Path(path)
        if create_dirs:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.json_kwargs = {"ensure_ascii": False, **json_kwargs}

    def read(self) -> dict[str, dict[str, Any]] | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        if not text.strip():
            return None  # TinyDB then starts an empty database
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise DataFormatError(
                f"not valid JSON ({e.msg} at line {e.lineno}); delete the file to start afresh", path=str(self.path)
            ) from None
        if not isinstance(data, dict):
            raise DataFormatError("not a TinyDB file (the top level is not a JSON object)", path=str(self.path))
        return data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        write_atomically(self.path, json.dumps(data, **self.json_kwargs))


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` by `text` so that a crash at any moment leaves either the old or the new content."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable across a power loss; not possible (nor needed) on every platform.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_stale_temp_files(path: str | os.PathLike[str]) -> int:
    """Delete the temporary files a killed writer of `path` left behind; returns how many.

    Call it only while holding `locked(path)`: every writer holds that lock, so no temp file is in use."""
    path = Path(path)
    removed = 0
    for temp in path.parent.glob(f".{path.name}.*.tmp"):
        temp.unlink(missing_ok=True)
        removed += 1
    return removed


def open_db(path: str | os.PathLike[str]) -> TinyDB:
    """A TinyDB on `path` with atomic writes."""
    return TinyDB(path, storage=AtomicJSONStorage)


@contextlib.contextmanager
def locked(path: str | os.PathLike[str]) -> Iterator[None]:
    """Hold an exclusive advisory lock on `<path>.lock` (beside the data file, which gets replaced and so
    cannot carry the lock itself). Wrap read-modify-write sequences that two processes may run at once."""
    lock_path = Path(str(path) + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as handle:
        if fcntl is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


# --- schema versions -------------------------------------------------------------------------------------

Upgrade = Callable[[TinyDB], None]


@dataclass(frozen=True)
class Schema:
    """The data layout of one component of a file.

    `upgrades[n]` turns data of version n-1 into version n; `ensure_schema` runs the missing ones in order.
    A component absent from the file (a new file) is stamped with `version` without running upgrades."""

    component: str  # e.g. "bookings", "conversations"
    version: int
    upgrades: Mapping[int, Upgrade] = field(default_factory=dict)


class SchemaTooNewError(UserError):
    """The file was written by a newer hotel-agent than this one."""


def _meta_query(component: str):
    return Query().component == component


def meta_get(db: TinyDB, component: str) -> dict[str, Any]:
    """The meta document of `component` ({} when absent)."""
    doc = Table(db.storage, META_TABLE).get(_meta_query(component))
    return dict(doc) if doc else {}


def meta_set(db: TinyDB, component: str, **values: Any) -> None:
    """Merge `values` into the meta document of `component`."""
    # A fresh Table: TinyDB's cached one remembers the next free id, which another process may have taken.
    Table(db.storage, META_TABLE).upsert({"component": component, **values}, _meta_query(component))
    db.table(META_TABLE).clear_cache()


def replace_tables(
    db: TinyDB,
    tables: Mapping[str, Mapping[int, Mapping[str, Any]]],
    meta: Mapping[str, Mapping[str, Any]] | None = None,
) -> None:
    """Replace whole tables ({name: {doc_id: document}}) and merge `meta` ({component: values}) in ONE write:
    a crash leaves all of it or none of it, and the tables not named are carried over untouched."""
    data = db.storage.read() or {}
    for name, documents in tables.items():
        data[name] = {str(doc_id): dict(doc) for doc_id, doc in documents.items()}
    meta_docs = data.setdefault(META_TABLE, {})
    for component, values in (meta or {}).items():
        doc = next((d for d in meta_docs.values() if d.get("component") == component), None)
        if doc is None:
            doc = meta_docs[str(max((int(k) for k in meta_docs), default=0) + 1)] = {"component": component}
        doc.update(values)
    db.storage.write(data)
    for name in db.tables() | set(tables) | {META_TABLE}:
        db.table(name).clear_cache()  # TinyDB caches query results per table


def schema_version(db: TinyDB, component: str) -> int | None:
    """The recorded version of `component`, or None when the file has never held it."""
    version = meta_get(db, component).get("schema_version")
    return int(version) if version is not None else None


def ensure_schema(db: TinyDB, schema: Schema, *, fresh: bool | None = None) -> int | None:
    """Bring `schema.component` in `db` to `schema.version`; return the version found (None: new).

    `fresh` says whether the component has no data yet (default: True when no version is recorded), in which
    case the version is only stamped. Data written before versions were recorded counts as version 0 when
    `fresh=False` is passed, so every upgrade runs on it."""
    found = schema_version(db, schema.component)
    if found is not None and found > schema.version:
        raise SchemaTooNewError(
            f"{getattr(db.storage, 'path', 'the database')}: {schema.component} data has "
            f"schema version {found}, this hotel-agent understands up to {schema.version}; "
            f"upgrade hotel-agent"
        )
    if found is None and (fresh is None or fresh):
        meta_set(db, schema.component, schema_version=schema.version)
        return None
    start = found or 0
    for step in range(start + 1, schema.version + 1):
        upgrade = schema.upgrades.get(step)
        if upgrade is not None:
            upgrade(db)
        meta_set(db, schema.component, schema_version=step)  # recorded per step: a crash resumes where it stopped
    return found
