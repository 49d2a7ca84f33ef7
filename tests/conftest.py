"""Every test reads the course data from $HOTEL_AGENT_DATA (CI: ../shared/data) and writes derived files
(the TinyDB store, bookings) to a cache dir of the test session, never the user's."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent.core import datafiles

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def pytest_configure(config: pytest.Config) -> None:
    """Point every test at the course data: $HOTEL_AGENT_DATA, else ../shared/data (CI), else the user's data dir
    (what `hotel-agent data download` fills and `hotel-agent data path` prints), resolved here, before the test
    session gets a cache dir of its own (the default data dir lives in the cache dir)."""
    if "HOTEL_AGENT_DATA" not in os.environ:
        os.environ["HOTEL_AGENT_DATA"] = str(SHARED_DATA if SHARED_DATA.is_dir() else datafiles.data_dir())


@pytest.fixture(scope="session", autouse=True)
def session_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = tmp_path_factory.mktemp("hotel-agent-cache")
    os.environ["HOTEL_AGENT_CACHE"] = str(cache)
    return cache


@pytest.fixture
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache dir for this test alone (bookings, history): nothing leaks between tests."""
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv("HOTEL_AGENT_CACHE", str(cache))
    return cache


@pytest.fixture(scope="session")
def data_dir() -> Path:
    path = Path(os.environ.get("HOTEL_AGENT_DATA", ""))
    if not (path / "hotel" / "test.jsonl").is_file():
        pytest.fail(
            f"course data not found in {path!s}: run `hotel-agent data download`, or set HOTEL_AGENT_DATA to a "
            "directory that has it (CI uses ../shared/data)"
        )
    return path


@pytest.fixture
def small_data(data_dir: Path, tmp_path: Path) -> Path:
    """The first 24 samples of test.jsonl (both kinds), so runs take milliseconds."""
    lines = (data_dir / "hotel" / "test.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)[:24]
    path = tmp_path / "small.jsonl"
    path.write_text("".join(lines), encoding="utf-8")
    return path
