"""Where the data lives, what it must contain, and how to fetch and verify it.

The data directory is `$HOTEL_AGENT_DATA`, else `<user cache>/hotel-agent/data`. Derived files (the TinyDB
store, fetched models) go to the cache directory: `$HOTEL_AGENT_CACHE`, else `<user cache>/hotel-agent`.
Nothing here is ever committed to the repository."""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from agent.core.errors import DataMissingError

CROSSWOZ_URL = "https://raw.githubusercontent.com/thu-coai/CrossWOZ/master/data/crosswoz/database/"
COURSE_URL = "https://raw.githubusercontent.com/agiclass/Student_Experiments/v8/data/"


@dataclass(frozen=True)
class DataFile:
    path: str  # relative to the data directory
    url: str
    sha256: str
    lines: int | None = None  # expected JSONL lines (None for JSON/markdown)


DATA_FILES: tuple[DataFile, ...] = (
    DataFile(
        "crosswoz/hotel_db.json",
        CROSSWOZ_URL + "hotel_db.json",
        "5746b3846f285c82dd7640b50d3ac21f2ae929f52fdca2b603e452585a4a694e",
    ),
    # The places around the hotels (hotels near X): attractions and restaurants with the hotels they list as
    # nearby, and every place's subway exit.
    DataFile(
        "crosswoz/attraction_db.json",
        CROSSWOZ_URL + "attraction_db.json",
        "89b0db1a11ce63233e822ead70c30522d5b7715542307b9235d8c4d69d18929d",
    ),
    DataFile(
        "crosswoz/restaurant_db.json",
        CROSSWOZ_URL + "restaurant_db.json",
        "df3827ac9bd0536d4c7c92aa41c7071b240a8c85d8a24fbd6b8b25753382d296",
    ),
    DataFile(
        "crosswoz/metro_db.json",
        CROSSWOZ_URL + "metro_db.json",
        "d609df3795b6aed7abac06e5a9f7e5ef885858ea2847bc8f92fd7a91aa6ed528",
    ),
    DataFile(
        "crosswoz/database.md",
        "https://raw.githubusercontent.com/thu-coai/CrossWOZ/master/data/crosswoz/database/README.md",
        "24dd38eef7c3b8dd1c77ee6394cac561679776eb236958e8ae228bdea803301c",
    ),
    DataFile(
        "hotel/train.glm4.jsonl",
        COURSE_URL + "train.glm4.jsonl",
        "36f78bb6345ba7245a6f340bfcf49d323d14f8c4ad09c0ca13a360d01715598a",
        1599,
    ),
    DataFile(
        "hotel/dev.glm4.jsonl",
        COURSE_URL + "dev.glm4.jsonl",
        "0c96620d55a8c2e4d33e4409a68408183ae62da110de19227705962af7165ed1",
        198,
    ),
    DataFile(
        "hotel/test.glm4.jsonl",
        COURSE_URL + "test.glm4.jsonl",
        "c6e1240f60b9bd96ec1af0ba7c23c2941c516f4cee843efc773a1686fbc959d7",
        201,
    ),
    DataFile(
        "hotel/dev.jsonl",
        COURSE_URL + "dev.jsonl",
        "67df1a43f054721e4dcb401eda5d876a67470c77006bd847e9037eb9091b6dc9",
        537,
    ),
    DataFile(
        "hotel/test.jsonl",
        COURSE_URL + "test.jsonl",
        "b69c29f63f3ea893b36f7aef5e6366e4f31c235fd3628f80cb09637771569277",
        560,
    ),
)
BY_PATH = {f.path: f for f in DATA_FILES}
HOTEL_DB = "crosswoz/hotel_db.json"
ATTRACTION_DB = "crosswoz/attraction_db.json"
RESTAURANT_DB = "crosswoz/restaurant_db.json"
METRO_DB = "crosswoz/metro_db.json"
TRAIN = "hotel/train.glm4.jsonl"
DEV = "hotel/dev.jsonl"
TEST = "hotel/test.jsonl"

FIX_HINT = "run `hotel-agent data download` or set HOTEL_AGENT_DATA to a directory that has the data"


def data_dir() -> Path:
    env = os.environ.get("HOTEL_AGENT_DATA")
    return Path(env).expanduser() if env else cache_dir() / "data"


def cache_dir() -> Path:
    env = os.environ.get("HOTEL_AGENT_CACHE")
    return Path(env).expanduser() if env else Path(platformdirs.user_cache_dir("hotel-agent"))


def data_path(relative: str) -> Path:
    """Path of a data file; DataMissingError (one line with the fix) when it is absent."""
    path = data_dir() / relative
    if not path.is_file():
        raise DataMissingError(f"data file {relative} not found in {data_dir()}; {FIX_HINT}")
    return path


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class FileStatus:
    file: DataFile
    ok: bool
    problem: str = ""
    lines: int | None = None


def check_file(file: DataFile, directory: Path | None = None) -> FileStatus:
    path = (directory or data_dir()) / file.path
    if not path.is_file():
        return FileStatus(file, False, "missing")
    if sha256_of(path) != file.sha256:
        return FileStatus(file, False, "sha256 mismatch (corrupt or a different version)")
    lines = None
    if file.lines is not None:
        with path.open("rb") as f:
            lines = sum(1 for line in f if line.strip())
    return FileStatus(file, True, lines=lines)


def write_verified(
    chunks: Iterable[bytes],
    target: Path,
    *,
    sha256: str,
    size: int | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    total: int | None = None,
    source: str,
) -> Path:
    """Write `chunks` to `target` through a temp file in the same directory, check the sha256 (and size),
    then rename into place: an interrupted or wrong download never leaves a file under the real name.
    A mismatch raises DataMissingError naming `source`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    written = 0
    fd, tmp = tempfile.mkstemp(prefix=target.name + ".", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            for block in chunks:
                out.write(block)
                digest.update(block)
                written += len(block)
                if progress:
                    progress(len(block), total)
        if digest.hexdigest() != sha256 or (size is not None and written != size):
            raise DataMissingError(
                f"{target.name} from {source} has sha256 {digest.hexdigest()} and size "
                f"{written}, expected {sha256}"
                + (f" and {size}" if size is not None else "")
                + "; the upstream file changed"
            )
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def read_blocks(stream, block_size: int = 1 << 16) -> Iterator[bytes]:
    while block := stream.read(block_size):
        yield block


def download_file(
    file: DataFile,
    directory: Path,
    progress: Callable[[int, int | None], None] | None = None,
    opener: Callable[[str], object] = urllib.request.urlopen,
) -> Path:
    """Fetch one file from its upstream URL into `directory`, verified and atomic (`write_verified`)."""
    with opener(file.url) as response:  # type: ignore[attr-defined]
        length = response.headers.get("Content-Length") if hasattr(response, "headers") else None
        return write_verified(
            read_blocks(response),
            directory / file.path,
            sha256=file.sha256,
            progress=progress,
            total=int(length) if length else None,
            source=file.url,
        )
