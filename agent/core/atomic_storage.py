"""TinyDB files that survive a crash, and the schema version each of them records.

TinyDB's own `JSONStorage` rewrites the file in place (seek 0, write, truncate): a process killed in the middle
leaves half a JSON document and loses everything. `AtomicJSONStorage` writes the whole state to a temporary
file in the same directory, flushes and fsyncs it, then `os.replace`s it over the old file; a reader (or the
next run after a kill) sees either the old state or the new one, never a mix.

`ensure_schema` records, in a `meta` table, which version of a component's data layout a file holds, and runs
the upgrade steps from that version to the current one (the same idea as SQLite's `PRAGMA user_version`).
One file may hold several components (the hotel store and the bookings), each with its own version.

A file that exists but is not what we write (empty, truncated, not UTF-8, not JSON, the wrong shape) is
*damaged*: every read and write of it raises `DamagedFileError` and leaves it exactly as it is, because it may
hold bookings or conversations that a person can still recover. Only `move_aside`, which the user asks for
(`hotel-agent data repair`), takes it out of the way, under a timestamped name. Filesystem failures (a full
disk, a read-only directory, a path that is a file) are a one-line `StorageError`; a failed write changes
nothing."""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import os
import re
import tempfile
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinydb import Query, TinyDB
from tinydb.storages import Storage
from tinydb.table import Table

from agent.core import strict_json
from agent.core.errors import DataFormatError, StorageError, UserError

try:  # advisory locks serialize read-modify-write between processes; POSIX only
    import fcntl
except ImportError:  # pragma: no cover - Windows: atomic replace still protects the file, updates may race
    fcntl = None  # type: ignore[assignment]

META_TABLE = "meta"


REPAIR_HINT = "`hotel-agent data repair` keeps it aside as {name}.damaged-<time> and starts a new one"
DOC_ID = re.compile(r"[0-9]+")


class DamagedFileError(DataFormatError):
    """A file that exists but cannot be one we wrote. It is left exactly as it is (it may hold bookings);
    the message names it and the way out."""

    def __init__(self, path: Path, problem: str):
        self.problem = problem
        hint = REPAIR_HINT.format(name=path.name)
        super().__init__(f"damaged: {problem}; it was left as it is: {hint}, or fix it by hand", path=str(path))


def ensure_dir(directory: Path) -> None:
    """Create `directory` (and its parents) unless it exists; StorageError when that cannot be."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise StorageError(f"{_existing_file(directory)} is not a directory") from None
    except NotADirectoryError:
        raise StorageError(f"{_existing_file(directory)} is not a directory") from None
    except OSError as e:
        raise StorageError(f"cannot create the directory {directory}: {e.strerror or e}") from None


def _existing_file(directory: Path) -> Path:
    """The first of `directory` and its parents that exists (the file that stands in the way)."""
    for candidate in (directory, *directory.parents):
        if candidate.exists():
            return candidate
    return directory


class AtomicJSONStorage(Storage):
    """A TinyDB storage writing JSON atomically (temp file + fsync + os.replace).

    The file is opened for each read and write rather than held open: after a replace an open handle would
    still point at the old file. Extra keyword arguments go to `json.dumps` (default: readable UTF-8)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        create_dirs: bool = True,
        tables: Collection[str] | None = None,
        **json_kwargs: Any,
    ):
        super().__init__()
        self.path = Path(path)
        self.tables = tables
        if create_dirs:
            ensure_dir(self.path.parent)
        self.json_kwargs = {"ensure_ascii": False, **json_kwargs}

    def read(self) -> dict[str, dict[str, Any]] | None:
        return read_tables(self.path, self.tables)

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        text = json.dumps(data, **self.json_kwargs)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            # A lone surrogate got past the doors that clean text (agent.core.text): \u escapes keep it
            # losslessly in valid JSON, where writing it raw would fail and lose the whole save.
            text = json.dumps(data, **{**self.json_kwargs, "ensure_ascii": True})
        write_atomically(self.path, text)


def read_tables(path: Path, tables: Collection[str] | None = None) -> dict[str, dict[str, Any]] | None:
    """The tables of the TinyDB file at `path` ({table: {doc_id: document}}), or None when there is no file.
    DamagedFileError when the file is not one we could have written (with `tables`, the names a file may hold:
    another name is a damaged one, whose documents would otherwise silently vanish); StorageError when it
    cannot be read."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise StorageError(f"cannot read {path}: {e.strerror or e}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DamagedFileError(path, f"not UTF-8 text (byte {raw[e.start]:#04x} at offset {e.start:,})") from None
    if not text.strip():
        raise DamagedFileError(path, "the file is empty" if not text else "the file holds only whitespace")
    try:
        data = strict_json.loads(text)
    except strict_json.JSONError as e:
        raise DamagedFileError(path, f"not valid JSON ({e})") from None
    problem = _shape_problem(data)
    if problem is None and tables is not None:
        unknown = sorted(set(data) - set(tables) - {META_TABLE})
        if unknown:
            problem = f"it holds a table {unknown[0]!r} that hotel-agent does not keep there"
    if problem is not None:
        raise DamagedFileError(path, problem)
    return data


def _shape_problem(data: Any) -> str | None:
    """What keeps `data` from being TinyDB tables with our meta documents, or None."""
    if not isinstance(data, dict):
        return f"the top level is a JSON {_json_kind(data)}, not an object of tables"
    for name, table in data.items():
        if not isinstance(table, dict):
            return f"table {name!r} is a JSON {_json_kind(table)}, not an object of documents"
        for doc_id, doc in table.items():
            if not DOC_ID.fullmatch(doc_id):
                return f"table {name!r} has a document id {doc_id!r} that is not a number"
            if not isinstance(doc, dict):
                return f"document {doc_id} of table {name!r} is a JSON {_json_kind(doc)}, not an object"
            if name == META_TABLE and "schema_version" in doc:
                version = doc["schema_version"]
                if isinstance(version, bool) or not isinstance(version, int) or version < 0:
                    return f"the schema version of {doc.get('component', '?')!r} is {version!r}, not a number"
    return None


def _json_kind(value: Any) -> str:
    kinds = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return kinds.get(type(value), "number")


def damage(path: str | os.PathLike[str], tables: Collection[str] | None = None) -> str | None:
    """What is wrong with the TinyDB file at `path` (that may hold `tables`), or None when it reads well (or
    is absent)."""
    try:
        read_tables(Path(path), tables)
    except DamagedFileError as e:
        return e.problem
    return None


def move_aside(path: str | os.PathLike[str]) -> Path:
    """Rename the file at `path` to `<name>.damaged-<local time>` beside it, never over an existing file;
    returns the new path. Hold `locked(path)` around it so that no writer is in the middle of a write."""
    path = Path(path)
    stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
    for attempt in range(1, 1000):
        target = path.with_name(f"{path.name}.damaged-{stamp}" + (f"-{attempt}" if attempt > 1 else ""))
        try:
            os.link(path, target)  # fails when the target exists: nothing kept aside is ever overwritten
        except FileExistsError:
            continue
        except OSError as e:
            raise StorageError(f"cannot keep {path} aside as {target.name}: {e.strerror or e}") from None
        try:
            os.unlink(path)
        except OSError as e:
            raise StorageError(f"kept a copy of {path} as {target.name} but cannot remove it: {e.strerror}") from None
        _fsync_directory(path.parent)
        return target
    raise StorageError(f"cannot find a free name to keep {path} aside")


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` by `text` so that a crash at any moment leaves either the old or the new content.
    The file is readable by its owner only (mkstemp's 0600, whatever the umask). A write that fails (a full
    disk, a read-only directory) raises StorageError and leaves the old content and no temporary file."""
    data = text.encode("utf-8")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise StorageError(_cannot_write(path, e)) from None
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise StorageError(_cannot_write(path, e)) from None
        raise
    _fsync_directory(path.parent)


def _cannot_write(path: Path, error: OSError) -> str:
    if isinstance(error, (FileNotFoundError, NotADirectoryError)) and not path.parent.is_dir():
        return f"cannot write {path}: {_existing_file(path.parent)} is not a directory"
    return f"cannot write {path}: {error.strerror or error}; it was left as it was"


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


def open_db(path: str | os.PathLike[str], tables: Collection[str] | None = None) -> TinyDB:
    """A TinyDB on `path` with atomic writes; `tables`, when given, are the only tables the file may hold
    (besides the meta table)."""
    return TinyDB(path, storage=AtomicJSONStorage, tables=tables)


@contextlib.contextmanager
def locked(path: str | os.PathLike[str]) -> Iterator[None]:
    """Hold an exclusive advisory lock on `<path>.lock` (beside the data file, which gets replaced and so
    cannot carry the lock itself). Wrap read-modify-write sequences that two processes may run at once.

    The lock file is created 0600 whatever the umask. Where it cannot be opened for writing (a read-only
    directory or mount) it is locked through a read-only descriptor, which flock allows; where it does not
    exist and cannot be created, no process can write the data file beside it either, so reading goes on
    without a lock."""
    lock_path = Path(str(path) + ".lock")
    ensure_dir(lock_path.parent)
    fd = _open_lock(lock_path)
    try:
        if fd is not None and fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        if fd is not None:
            os.close(fd)  # closing releases the lock


_READ_ONLY_ERRORS = (errno.EACCES, errno.EPERM, errno.EROFS)


def _open_lock(lock_path: Path) -> int | None:
    cloexec = getattr(os, "O_CLOEXEC", 0)
    try:
        return os.open(lock_path, os.O_RDWR | os.O_CREAT | cloexec, 0o600)
    except OSError as e:
        if e.errno not in _READ_ONLY_ERRORS:
            raise StorageError(f"cannot open the lock file {lock_path}: {e.strerror or e}") from None
    try:
        return os.open(lock_path, os.O_RDONLY | cloexec)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise StorageError(f"cannot open the lock file {lock_path}: {e.strerror or e}") from None


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
    version = meta_get(db, component).get("schema_version")  # an int: read_tables checked it
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
