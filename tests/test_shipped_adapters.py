"""The adapters the project ships are part of the installed package: `--backend lora-smollm2` finds them from
any working directory, a user's own ./adapters/<backend> comes first, and --adapter DIR still wins."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent.core.errors import UserError
from backends.llm.loading import SHIPPED_ADAPTER_ROOT, default_adapter, resolve, shipped_adapters

REPO = Path(__file__).resolve().parents[1]
SHIPPED = ("lora-smollm2", "qlora-smollm2")


def test_the_smollm2_adapters_ship_inside_the_backends_package():
    assert set(SHIPPED) <= set(shipped_adapters())
    assert SHIPPED_ADAPTER_ROOT.is_relative_to(REPO / "backends")


@pytest.mark.parametrize("backend", SHIPPED)
def test_a_shipped_adapter_resolves_from_another_working_directory(tmp_path: Path, backend: str):
    method, family = backend.split("-")
    script = (
        "import json; from backends.llm.loading import resolve; "
        f"spec = resolve({family!r}, {method!r}, model='unused'); "
        "print(json.dumps({'adapter': str(spec.adapter), 'family': spec.adapter_info.family}))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    resolved = json.loads(result.stdout.strip().splitlines()[-1])
    assert Path(resolved["adapter"]) == SHIPPED_ADAPTER_ROOT / backend and resolved["family"] == family


def test_an_adapter_the_user_trained_into_dot_adapters_comes_before_the_shipped_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    own = tmp_path / "adapters" / "lora-smollm2"
    own.mkdir(parents=True)
    (own / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA"}), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert default_adapter("lora-smollm2") == Path("adapters/lora-smollm2")


def test_an_explicit_adapter_directory_wins_over_the_shipped_one(tmp_path: Path):
    with pytest.raises(UserError, match=f"no LoRA adapter in {tmp_path}"):
        resolve("smollm2", "lora", model="unused", adapter=tmp_path)


def test_a_backend_without_any_adapter_names_where_it_looked_and_what_ships(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError, match=r"no LoRA adapter for lora-qwen2 in adapters/lora-qwen2 .*lora-smollm2"):
        resolve("qwen2", "lora", model="unused")
