"""`hotel-agent backends` says, for each backend, whether it runs offline now or what it needs first, and how
to get it; checked without importing torch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent.app.cli import main
from agent.core import datafiles
from backends.llm import readiness
from backends.llm.smollm2 import SMOLLM2

REPO = Path(__file__).resolve().parents[1]


def listing(*args: str) -> dict[str, str]:
    """backend name -> its status column, plus the whole output under "" (the fixes are below the table)."""
    result = CliRunner().invoke(main, ["backends", *args])
    assert result.exit_code == 0, result.output
    rows = {}
    for line in result.output.splitlines():
        name, _, rest = line.partition(" ")
        if name and rest.startswith(" "):
            rows[name] = rest.strip().split("  ")[0]
    rows[""] = result.output
    return rows


def fake_fetched_smollm2() -> None:
    """A sparse file of the right size: what `is_fetched` checks (the sha256 is checked when fetching)."""
    SMOLLM2.path().parent.mkdir(parents=True, exist_ok=True)
    with SMOLLM2.path().open("wb") as f:
        f.truncate(SMOLLM2.size)


def test_the_rules_backend_runs_offline_now(own_cache):
    assert listing()["rules"] == "offline now"


def test_smollm2_backends_need_models_fetch_until_it_is_fetched(own_cache):
    rows = listing()
    assert {rows[f"{m}-smollm2"] for m in ("prompt", "lora", "qlora")} == {"fetch smollm2"}
    assert "run `hotel-agent models fetch smollm2`" in rows[""]
    fake_fetched_smollm2()
    rows = listing()
    assert {rows[f"{m}-smollm2"] for m in ("prompt", "lora", "qlora")} == {"offline now"}


def test_without_torch_every_llm_backend_needs_the_llm_extra(own_cache, monkeypatch):
    real = readiness.importlib.util.find_spec
    monkeypatch.setattr(readiness.importlib.util, "find_spec", lambda name: None if name == "torch" else real(name))
    rows = listing()
    assert rows["lora-smollm2"].startswith("needs [llm]") and rows["prompt-qwen2"].startswith("needs [llm]")
    assert rows["rules"] == "offline now"
    assert "pip install 'hotel-agent[llm]'" in rows[""]


def test_qlora_without_bitsandbytes_needs_the_qlora_extra(own_cache, monkeypatch):
    real = readiness.importlib.util.find_spec
    monkeypatch.setattr(readiness.importlib.util, "find_spec", lambda n: None if n == "bitsandbytes" else real(n))
    fake_fetched_smollm2()
    rows = listing()
    assert rows["qlora-smollm2"] == "needs [qlora]" and rows["lora-smollm2"] == "offline now"


@pytest.mark.parametrize("cached", [False, True])
def test_a_hub_model_needs_a_download_unless_it_is_in_the_hub_cache(own_cache, monkeypatch, cached):
    monkeypatch.setattr(readiness, "in_hub_cache", lambda model_id: cached)
    rows = listing()
    assert rows["prompt-qwen2"] == ("offline now" if cached else "hub download")
    assert rows["lora-qwen2"] == ("needs adapter" if cached else "hub download, needs adapter")


def test_data_files_missing_are_named_once_below_the_table(own_cache, monkeypatch, tmp_path):
    monkeypatch.setenv("HOTEL_AGENT_DATA", str(tmp_path))
    output = listing()[""]
    assert (
        output.strip()
        .splitlines()[-1]
        .startswith(f"every backend needs the data files ({len(datafiles.DATA_FILES)} missing in")
    )


def test_listing_the_backends_does_not_import_torch(tmp_path):
    script = (
        "import sys; from click.testing import CliRunner; from agent.app.cli import main; "
        "r = CliRunner().invoke(main, ['backends', '--all']); assert r.exit_code == 0, r.output; "
        "print(sorted(m for m in ('torch', 'transformers', 'peft', 'bitsandbytes') if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_served_backend_says_it_needs_a_server():
    rows = listing()
    assert rows["served"] == "needs a server"
