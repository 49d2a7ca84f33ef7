"""`evalharness run`: predictions in order, signed summaries, self-checks, per-sample failures, resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent.core.errors import UserError
from agent.core.turns import AssistantTurn
from backends.gold import GoldBackend
from backends.reply_only import ReplyOnlyBackend
from evalharness.cli import main
from evalharness.runner import PREDICTIONS, SUMMARY, RunOptions, context_size, evaluate, read_predictions

from scripted_backend import ScriptedBackend

REPO = Path(__file__).resolve().parents[1]


def run(backend, data: Path, out: Path, **options) -> object:
    return evaluate(backend, backend.name, RunOptions(data=data, out=out, quiet=True, **options))


def test_gold_backend_scores_100_on_every_metric_over_test_jsonl(data_dir: Path, tmp_path: Path):
    test = data_dir / "hotel" / "test.jsonl"
    metrics = run(GoldBackend(test), test, tmp_path / "gold", batch_size=64).metrics
    assert metrics.samples == 560 and (metrics.search_samples, metrics.reply_samples) == (242, 318)
    assert metrics.as_percent() == {"bleu-4": 100.0, "slot_P": 100.0, "slot_R": 100.0, "slot_F1": 100.0}
    assert metrics.sacrebleu == pytest.approx(100.0)
    assert (metrics.reply_for_search, metrics.search_for_reply, metrics.failed) == (0, 0, 0)


def test_reply_only_baseline_scores_zero_slots_by_the_wrong_kind_rule(data_dir: Path, tmp_path: Path):
    test = data_dir / "hotel" / "test.jsonl"
    metrics = run(ReplyOnlyBackend(), test, tmp_path / "reply", batch_size=64).metrics
    assert (metrics.slot_precision, metrics.slot_recall, metrics.slot_f1) == (0.0, 0.0, 0.0)
    assert metrics.reply_for_search == 242 and metrics.slots.gold > 0
    assert 0.0 < metrics.bleu4 < 1.0


def test_batches_hold_contexts_of_similar_length_longest_first(small_data: Path, tmp_path: Path):
    batches: list[list[int]] = []

    def record(dialogue):
        batches[-1].append(context_size(dialogue))
        return AssistantTurn("好的")

    backend = ScriptedBackend(script=record)
    original = backend.predict

    def predict(dialogues, **kwargs):
        batches.append([])
        return original(dialogues, **kwargs)

    backend.predict = predict
    run(backend, small_data, tmp_path / "run", batch_size=5)
    sizes = [size for batch in batches for size in batch]
    assert sizes == sorted(sizes, reverse=True) and len(sizes) == 24


def test_predictions_are_one_line_per_sample_in_input_order_with_turns_and_scores(small_data: Path, tmp_path: Path):
    run(GoldBackend(small_data), small_data, tmp_path / "run", batch_size=5)
    records = read_predictions(tmp_path / "run" / PREDICTIONS)
    assert [r["id"] for r in records] == list(range(24))
    first = json.loads(small_data.read_text(encoding="utf-8").splitlines()[0])
    assert records[0]["expected"] == json.loads(first["response"]) == records[0]["predicted"]
    assert records[0]["scores"]["expected_kind"] == "search" and "error" not in records[0]


def test_summary_signature_names_data_backend_metrics_and_packages(small_data: Path, tmp_path: Path):
    summary = run(GoldBackend(small_data), small_data, tmp_path / "run").summary
    signature = summary["signature"]
    assert len(signature["data"]["sha256"]) == 64 and signature["data"]["samples_evaluated"] == 24
    assert signature["backend"]["name"] == "gold" and signature["backend"]["source_sha256"]
    assert "method3" in signature["metrics"]["bleu4"] and "tok:zh" in signature["metrics"]["sacrebleu_signature"]
    assert signature["packages"]["sacrebleu"]
    assert summary["run"]["samples_per_s"] > 0
    assert json.loads((tmp_path / "run" / SUMMARY).read_text(encoding="utf-8")) == summary


def test_a_resumed_runs_samples_per_second_covers_every_invocation(small_data: Path, tmp_path: Path, monkeypatch):
    import types

    from evalharness import runner

    clock = types.SimpleNamespace(now=0.0)
    monkeypatch.setattr(runner, "time", types.SimpleNamespace(monotonic=lambda: clock.now))

    def slow(seconds_per_sample: float):
        def reply(dialogue):
            clock.now += seconds_per_sample
            return AssistantTurn("好的")

        return ScriptedBackend(script=reply)

    run(slow(1.0), small_data, tmp_path / "run", limit=10)
    summary = run(slow(3.0), small_data, tmp_path / "run", limit=20, resume=True).summary
    # 10 samples at 1 s and 10 at 3 s: 20 in 40 s, not this invocation's 10 in 30 s
    assert summary["run"]["prediction_s"] == pytest.approx(40.0)
    assert summary["run"]["samples_per_s"] == pytest.approx(0.5)
    assert summary["run"]["predicted_this_run"] == 10


def test_a_sample_the_backend_raises_on_is_recorded_and_the_run_goes_on(small_data: Path, tmp_path: Path):
    backend = ScriptedBackend(fail_when=lambda d: len(d) == 3)
    result = run(backend, small_data, tmp_path / "run", batch_size=4)
    records = read_predictions(tmp_path / "run" / PREDICTIONS)
    failed = [r for r in records if "error" in r]
    assert failed and all(r["predicted"] is None and "scripted failure" in r["error"] for r in failed)
    assert len(records) == 24 and result.metrics.failed == len(failed)
    assert result.summary["run"]["failed"] == len(failed)


def test_a_failing_batch_is_retried_one_sample_at_a_time(small_data: Path, tmp_path: Path):
    backend = ScriptedBackend(fail_batches_over=1)
    result = run(backend, small_data, tmp_path / "run", batch_size=8)
    assert result.metrics.failed == 0
    assert backend.calls[:9] == [8] + [1] * 8


def test_limit_evaluates_the_first_n_samples(small_data: Path, tmp_path: Path):
    assert run(GoldBackend(small_data), small_data, tmp_path / "run", limit=7).metrics.samples == 7


def test_an_existing_run_is_not_overwritten_without_resume(small_data: Path, tmp_path: Path):
    run(GoldBackend(small_data), small_data, tmp_path / "run")
    with pytest.raises(UserError, match="--resume"):
        run(GoldBackend(small_data), small_data, tmp_path / "run")


def test_resume_refuses_a_run_made_by_another_backend(small_data: Path, tmp_path: Path):
    run(GoldBackend(small_data), small_data, tmp_path / "run", limit=3)
    with pytest.raises(UserError, match="backend"):
        run(ReplyOnlyBackend(), small_data, tmp_path / "run", limit=3, resume=True)


class AdapterGold(GoldBackend):
    """Gold answers, signed like an adapter backend: the adapter's path and the sha256 of its weights."""

    def __init__(self, data: Path, adapter: str, sha256: str) -> None:
        super().__init__(data)
        self.adapter, self.sha256 = adapter, sha256

    def signature(self) -> dict:
        return {**super().signature(), "adapter": self.adapter, "adapter_sha256": self.sha256}


def test_resume_takes_the_same_adapter_given_by_another_path(small_data: Path, tmp_path: Path):
    run(AdapterGold(small_data, "runs/a", "abc"), small_data, tmp_path / "run", limit=3)
    resumed = run(AdapterGold(small_data, "/work/runs/a", "abc"), small_data, tmp_path / "run", resume=True)
    assert resumed.predicted_now == 21


def test_resume_refuses_other_adapter_weights_at_the_same_path(small_data: Path, tmp_path: Path):
    run(AdapterGold(small_data, "runs/a", "abc"), small_data, tmp_path / "run", limit=3)
    with pytest.raises(UserError, match="backend_signature"):
        run(AdapterGold(small_data, "runs/a", "def"), small_data, tmp_path / "run", resume=True)


def test_resume_drops_a_half_written_line_and_predicts_only_the_missing_samples(small_data: Path, tmp_path: Path):
    full = run(GoldBackend(small_data), small_data, tmp_path / "full")
    out = tmp_path / "cut"
    run(GoldBackend(small_data), small_data, out)
    lines = (out / PREDICTIONS).read_text(encoding="utf-8").splitlines(keepends=True)
    (out / PREDICTIONS).write_text("".join(lines[:10]) + lines[10][:25], encoding="utf-8")
    backend = GoldBackend(small_data)
    resumed = run(backend, small_data, out, resume=True)
    assert resumed.predicted_now == 14
    assert resumed.summary["metrics"] == full.summary["metrics"]


def test_resume_with_a_higher_limit_grows_a_quick_run_into_the_full_one(small_data: Path, tmp_path: Path):
    full = run(GoldBackend(small_data), small_data, tmp_path / "full")
    out = tmp_path / "grown"
    run(GoldBackend(small_data), small_data, out, limit=10)
    grown = run(GoldBackend(small_data), small_data, out, resume=True)
    assert grown.predicted_now == 14
    assert grown.summary["metrics"] == full.summary["metrics"]
    assert json.loads((out / "run.json").read_text(encoding="utf-8"))["limit"] is None


def test_resume_refuses_a_lower_limit(small_data: Path, tmp_path: Path):
    run(GoldBackend(small_data), small_data, tmp_path / "run", limit=10)
    with pytest.raises(UserError, match="can only raise --limit"):
        run(GoldBackend(small_data), small_data, tmp_path / "run", limit=5, resume=True)


def test_a_corrupt_input_line_gives_one_error_with_its_line_number(small_data: Path, tmp_path: Path):
    lines = small_data.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = '{"context": "[]", "response": oops}\n'
    small_data.write_text("".join(lines), encoding="utf-8")
    result = CliRunner().invoke(
        main, ["run", "--backend", "reply-only", "--data", str(small_data), "--out", str(tmp_path / "run"), "--quiet"]
    )
    assert result.exit_code == 1
    assert result.output.startswith(f"error: {small_data}:3: not JSON") and "Traceback" not in result.output


def test_quiet_run_prints_no_progress_bar_or_table(small_data: Path, tmp_path: Path):
    result = CliRunner().invoke(
        main, ["run", "--backend", "gold", "--data", str(small_data), "--out", str(tmp_path / "run"), "--quiet"]
    )
    assert result.exit_code == 0, result.output
    assert "sample/s" not in result.output and "| run |" not in result.output
    assert (tmp_path / "run" / SUMMARY).is_file()


def test_run_prints_the_summary_table(small_data: Path, tmp_path: Path):
    result = CliRunner().invoke(
        main, ["run", "--backend", "gold", "--data", str(small_data), "--out", str(tmp_path / "run")]
    )
    assert result.exit_code == 0, result.output
    assert "| this run | 100.00 | 100.00 | 100.00 | 100.00 |" in result.output


def test_resume_after_kill_9_gives_the_metrics_of_an_uninterrupted_run(small_data: Path, tmp_path: Path):
    command = [
        sys.executable,
        "-m",
        "evalharness",
        "run",
        "--backend",
        "gold",
        "--data",
        str(small_data),
        "--batch-size",
        "1",
        "--quiet",
    ]
    env = {**os.environ, "HOTEL_AGENT_GOLD_DELAY": "0.1"}
    out = tmp_path / "killed"
    process = subprocess.Popen(
        command + ["--out", str(out)], env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    predictions = out / PREDICTIONS
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if predictions.exists() and predictions.read_text(encoding="utf-8").count("\n") >= 3:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    done = predictions.read_text(encoding="utf-8").count("\n")
    assert 3 <= done < 24 and not (out / SUMMARY).exists()

    resumed = subprocess.run(
        command + ["--out", str(out), "--resume"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "HOTEL_AGENT_GOLD_DELAY": "0"},
    )
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads((out / SUMMARY).read_text(encoding="utf-8"))
    assert summary["run"]["predicted_this_run"] == 24 - done
    uninterrupted = run(GoldBackend(small_data), small_data, tmp_path / "whole")
    assert summary["metrics"] == uninterrupted.summary["metrics"]
    assert [r["id"] for r in read_predictions(predictions)] == list(range(24))


def test_a_backend_that_fails_on_every_sample_from_the_start_stops_the_run(small_data: Path, tmp_path: Path):
    backend = ScriptedBackend(fail_when=lambda d: True)
    with pytest.raises(UserError, match="failed on each of the first 8 samples"):
        run(backend, small_data, tmp_path / "run", batch_size=4)
    assert sum(backend.calls) < 24


def test_resume_tries_failed_samples_again(small_data: Path, tmp_path: Path):
    out = tmp_path / "run"
    first = run(
        ScriptedBackend(script=lambda d: AssistantTurn("好的"), fail_when=lambda d: len(d) == 3),
        small_data,
        out,
        limit=12,
    )
    assert first.metrics.failed > 0
    again = run(ScriptedBackend(script=lambda d: AssistantTurn("好的")), small_data, out, limit=12, resume=True)
    assert again.predicted_now == first.metrics.failed and again.metrics.failed == 0
    assert len(read_predictions(out / PREDICTIONS)) == 12


def test_a_dialogue_file_is_cut_into_samples_by_the_course_rule(data_dir: Path, tmp_path: Path):
    lines = [
        line
        for line in (data_dir / "hotel" / "test.glm4.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
        if '"observation"' in line
    ][:5]  # dialogues with searches and replies
    dialogues = tmp_path / "five.glm4.jsonl"
    dialogues.write_text("".join(lines), encoding="utf-8")
    # one sample per assistant message (search or reply); none of these dialogues opens with one
    assistant_messages = sum(m["role"] == "assistant" for line in lines for m in json.loads(line)["messages"])
    result = run(GoldBackend(dialogues), dialogues, tmp_path / "run")
    assert result.summary["signature"]["data"]["format"] == "messages"
    assert result.metrics.samples == assistant_messages
    assert result.metrics.as_percent() == {"bleu-4": 100.0, "slot_P": 100.0, "slot_R": 100.0, "slot_F1": 100.0}
