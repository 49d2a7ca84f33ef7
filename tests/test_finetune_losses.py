"""`finetune losses`: train loss of several runs at the same steps, side by side, and their dev losses."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from finetune.cli import main


def run_dir(tmp_path: Path, name: str, history: list[dict]) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "log_history.json").write_text(json.dumps(history), encoding="utf-8")
    return folder


def losses(*args: str):
    return CliRunner().invoke(main, ["losses", *args])


def test_losses_line_up_runs_step_by_step_and_leave_missing_steps_blank(tmp_path: Path):
    lora = run_dir(
        tmp_path, "lora", [{"loss": 3.0, "step": 1}, {"loss": 2.0, "step": 5}, {"eval_loss": 1.5, "step": 5}]
    )
    qlora = run_dir(tmp_path, "qlora", [{"loss": 3.1, "step": 1}])
    result = losses(str(lora), str(qlora))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"| step | {lora} | {qlora} |",
        "|---:|---:|---:|",
        "| 1 | 3.0000 | 3.1000 |",
        "| 5 | 2.0000 |  |",
        "| dev loss at 5 | 1.5000 |  |",
    ]


def test_losses_plot_writes_a_png(tmp_path: Path):
    lora = run_dir(tmp_path, "lora", [{"loss": 3.0, "step": 1}, {"loss": 2.0, "step": 2}])
    result = losses(str(lora), "--plot", str(tmp_path / "loss.png"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_directory_without_a_log_is_a_one_line_error(tmp_path: Path):
    result = losses(str(tmp_path))
    assert result.exit_code == 1
    assert (
        result.output == f"error: {tmp_path}: no log_history.json (not a finished `finetune run` output directory?)\n"
    )


def test_a_corrupt_log_names_the_file_and_line(tmp_path: Path):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "log_history.json").write_text('[\n{"loss": 1.0,\n', encoding="utf-8")
    result = losses(str(folder))
    assert result.exit_code == 1 and result.output.startswith(f"error: {folder / 'log_history.json'}:3: not JSON")
