"""`evalharness compare`: one markdown table, a warning when runs differ in data, reference rows, a plot."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from backends.gold import GoldBackend
from backends.reply_only import ReplyOnlyBackend
from evalharness.cli import main
from evalharness.compare import REFERENCE_ROWS, run_labels
from evalharness.runner import RunOptions, evaluate


@pytest.fixture
def samples(data_dir: Path, tmp_path: Path) -> Path:
    lines = (data_dir / "hotel" / "test.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    path = tmp_path / "first20.jsonl"
    path.write_text("".join(lines[:20]), encoding="utf-8")
    return path


def finished_run(backend, data: Path, out: Path) -> Path:
    evaluate(backend, backend.name, RunOptions(data=data, out=out, quiet=True))
    return out


def compare(*args: str):
    return CliRunner().invoke(main, ["compare", *args])


def test_compare_prints_one_row_per_run_with_the_reference_columns(samples: Path, tmp_path: Path):
    gold = finished_run(GoldBackend(samples), samples, tmp_path / "gold")
    reply = finished_run(ReplyOnlyBackend(), samples, tmp_path / "reply")
    result = compare(str(gold), str(reply))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("| run | BLEU-4 | slot P | slot R | slot F1 | sacreBLEU zh | reply for search")
    assert "samples/s" in lines[0] and "warning" not in result.output
    assert lines[2].startswith("| gold | 100.00 | 100.00 | 100.00 | 100.00 | 100.00 | 0 | 0 | 0 | 20 |")
    assert lines[3].startswith("| reply |") and "| 0.00 | 0.00 | 0.00 |" in lines[3]


def test_compare_warns_when_runs_used_different_data(samples: Path, tmp_path: Path):
    other = tmp_path / "other.jsonl"
    other.write_text("".join(samples.read_text(encoding="utf-8").splitlines(keepends=True)[:10]), encoding="utf-8")
    a = finished_run(GoldBackend(samples), samples, tmp_path / "a")
    b = finished_run(GoldBackend(other), other, tmp_path / "b")
    result = compare(str(a), str(b))
    assert result.output.startswith("warning: these runs used different data (sha256")


def test_with_reference_adds_the_six_reference_rows(samples: Path, tmp_path: Path):
    gold = finished_run(GoldBackend(samples), samples, tmp_path / "gold")
    result = compare(str(gold), "--with-reference")
    rows = [line for line in result.output.splitlines() if line.startswith("| reference: ")]
    assert len(rows) == 6 == len(REFERENCE_ROWS)
    assert "| reference: GLM4-9B QLoRA | 67.41 | 95.95 | 96.74 | 96.34 |" in result.output
    # these 20 samples are not the reference's test.jsonl
    assert "warning: these runs used different data" in result.output


def test_plot_writes_a_png(samples: Path, tmp_path: Path):
    gold = finished_run(GoldBackend(samples), samples, tmp_path / "gold")
    result = compare(str(gold), "--with-reference", "--plot", str(tmp_path / "chart.png"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_runs_are_labelled_by_their_directory_name_with_parents_only_to_tell_twins_apart(tmp_path: Path):
    runs = [tmp_path / "sweep" / "a" / "out", tmp_path / "sweep" / "b" / "out", tmp_path / "lora-smollm2-20261129T1"]
    assert run_labels(runs) == ["a/out", "b/out", "lora-smollm2-20261129T1"]
    assert run_labels([tmp_path / "x", tmp_path / "x"]) == [(tmp_path / "x").resolve().as_posix()] * 2


def test_the_plot_legend_uses_the_short_labels_and_every_bar_shows_its_value(samples: Path, tmp_path: Path):
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    from evalharness.compare import load_runs
    from evalharness.plot import draw

    rows = load_runs(
        [
            finished_run(ReplyOnlyBackend(), samples, tmp_path / "reply"),
            finished_run(GoldBackend(samples), samples, tmp_path / "gold"),
        ]
    )
    figure = draw(rows + [REFERENCE_ROWS[1]])
    try:
        [axes] = figure.axes
        assert [t.get_text() for t in axes.get_legend().get_texts()] == ["reply", "gold", "reference: GLM4-9B QLoRA"]
        values = [t.get_text() for t in axes.texts]
        assert values[4:8] == ["100.0"] * 4  # gold's bars, in FIGURES order
        assert values[8:] == ["67.4", "96.0", "96.7", "96.3"]  # the reference row's own figures
        assert len(values) == 3 * 4
    finally:
        plt.close(figure)


def test_a_run_without_summary_is_a_one_line_error(tmp_path: Path):
    (tmp_path / "unfinished").mkdir()
    result = compare(str(tmp_path / "unfinished"))
    assert result.exit_code == 1 and "no summary.json" in result.output and "--resume" in result.output


def adapter_run(samples: Path, tmp_path: Path, extra: dict, history: list | None = None) -> Path:
    """A finished run whose signature names an adapter directory with finetune's metadata."""
    import json

    from backends.llm.adapter_info import AdapterInfo, write_adapter_info

    adapter = tmp_path / "adapter"
    adapter.mkdir()
    write_adapter_info(adapter, AdapterInfo("smollm2", "base", "qlora", "hash", "compact", extra=extra))
    if history is not None:
        (adapter / "log_history.json").write_text(json.dumps(history), encoding="utf-8")
    run = finished_run(GoldBackend(samples), samples, tmp_path / "run")
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    summary["signature"]["backend"]["adapter"] = str(adapter)
    (run / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return run


def test_a_trained_adapters_run_shows_its_steps_tokens_time_and_peak_memory(samples: Path, tmp_path: Path):
    run = adapter_run(
        samples,
        tmp_path,
        {
            "steps": 60,
            "train_tokens_seen": 294569,
            "train_seconds": 1761.0,
            "hyperparameters": {"device": "cpu"},
            "peak_gpu_memory_gib": None,
            "peak_rss_gib": 5.27,
        },
    )
    reply = finished_run(ReplyOnlyBackend(), samples, tmp_path / "reply")
    lines = compare(str(run), str(reply)).output.splitlines()
    assert lines[0].endswith("| train steps | train tokens | train time | peak memory |")
    assert lines[2].endswith("| 60 | 294,569 | 29.4 min cpu | 5.3 GiB RSS |")
    assert lines[3].endswith("|  |  |  |  |")


def test_an_adapter_without_a_token_count_takes_it_from_its_log_history(samples: Path, tmp_path: Path):
    run = adapter_run(
        samples,
        tmp_path,
        {"steps": 2, "train_seconds": 7200.0, "peak_gpu_memory_gib": 0.71},
        history=[
            {"loss": 2.0, "num_input_tokens_seen": 100, "step": 1},
            {"loss": 1.0, "num_input_tokens_seen": 250, "step": 2},
        ],
    )
    lines = compare(str(run)).output.splitlines()
    assert lines[2].endswith("| 2 | 250 | 2.0 h | 0.71 GiB GPU |")


def test_an_unreadable_log_history_leaves_the_token_count_unknown_instead_of_failing(samples: Path, tmp_path: Path):
    run = adapter_run(samples, tmp_path, {"steps": 2, "train_seconds": 60.0})
    (tmp_path / "adapter" / "log_history.json").write_text("{not json", encoding="utf-8")
    result = compare(str(run))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[2].endswith("| 2 | — | 1.0 min | — |")


def test_an_adapter_retrained_since_the_run_leaves_its_training_columns_blank_with_a_warning(
    samples: Path, tmp_path: Path
):
    import json

    run = adapter_run(samples, tmp_path, {"steps": 60, "train_seconds": 60.0})
    (tmp_path / "adapter" / "adapter_model.safetensors").write_bytes(b"the weights it scored")
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    summary["signature"]["backend"]["adapter_sha256"] = "0" * 64
    (run / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    output = compare(str(run)).output
    assert f"warning: run: its adapter {tmp_path / 'adapter'} has other weights" in output
    assert "| 60 |" not in output


def test_runs_without_adapters_keep_the_plain_columns(samples: Path, tmp_path: Path):
    gold = finished_run(GoldBackend(samples), samples, tmp_path / "gold")
    assert "train steps" not in compare(str(gold)).output
