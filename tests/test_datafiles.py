import hashlib
import io

import pytest
from click.testing import CliRunner

from agent.app.cli import main
from agent.core import datafiles
from agent.core.errors import DataMissingError


def test_data_dir_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("HOTEL_AGENT_DATA", str(tmp_path))
    assert datafiles.data_dir() == tmp_path


def test_data_dir_defaults_to_the_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("HOTEL_AGENT_DATA")
    monkeypatch.setenv("HOTEL_AGENT_CACHE", str(tmp_path))
    assert datafiles.data_dir() == tmp_path / "data"


def test_missing_file_error_says_how_to_fix(monkeypatch, tmp_path):
    monkeypatch.setenv("HOTEL_AGENT_DATA", str(tmp_path))
    with pytest.raises(DataMissingError, match="hotel-agent data download"):
        datafiles.data_path(datafiles.TEST)


def test_check_passes_on_the_shared_data(data_dir):
    result = CliRunner().invoke(main, ["data", "check"])
    assert result.exit_code == 0, result.output
    assert "hotel/test.jsonl" in result.output and "560 lines" in result.output


def test_check_reports_a_corrupt_file_in_one_line(monkeypatch, tmp_path, data_dir):
    for file in datafiles.DATA_FILES:
        (tmp_path / file.path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / file.path).write_bytes((data_dir / file.path).read_bytes())
    (tmp_path / datafiles.TEST).write_text("tampered\n")
    monkeypatch.setenv("HOTEL_AGENT_DATA", str(tmp_path))
    result = CliRunner().invoke(main, ["data", "check"])
    assert result.exit_code == 1
    assert "BAD       hotel/test.jsonl" in result.output
    assert result.output.strip().splitlines()[-1].startswith("error: 1 data file(s) missing or corrupt")


class FakeResponse(io.BytesIO):
    headers = {}


def test_download_verifies_and_writes_atomically(tmp_path):
    body = b"hello"
    file = datafiles.DataFile("x/a.txt", "http://example/a", hashlib.sha256(body).hexdigest())
    seen = []
    path = datafiles.download_file(
        file, tmp_path, lambda n, total: seen.append(n), opener=lambda url: FakeResponse(body)
    )
    assert path.read_bytes() == body and sum(seen) == 5
    assert list(path.parent.iterdir()) == [path]


def test_download_with_wrong_sha_leaves_nothing_behind(tmp_path):
    file = datafiles.DataFile("x/a.txt", "http://example/a", "0" * 64)
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "a.txt").write_text("old good copy")
    with pytest.raises(DataMissingError, match="sha256"):
        datafiles.download_file(file, tmp_path, opener=lambda url: FakeResponse(b"changed upstream"))
    assert [p.name for p in (tmp_path / "x").iterdir()] == ["a.txt"]
    assert (tmp_path / "x" / "a.txt").read_text() == "old good copy"


def test_the_place_databases_are_fetched_and_verified_like_the_others():
    for path in (datafiles.ATTRACTION_DB, datafiles.RESTAURANT_DB, datafiles.METRO_DB):
        file = datafiles.BY_PATH[path]
        assert file.url.endswith(path.split("/")[-1]) and len(file.sha256) == 64
        assert datafiles.check_file(file).ok
