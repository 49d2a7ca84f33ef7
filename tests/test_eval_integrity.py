"""`evalharness run` keeps its numbers honest and its errors to one line: the expected turns come from the data
on every resume (never from predictions.jsonl), damaged run files and gold data are refused with file and line,
NaN never reaches predictions.jsonl, filesystem trouble is one line, and --concurrency changes only the speed."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent.core.errors import UserError
from agent.core.turns import AssistantTurn, SearchTurn
from backends.base import Prediction
from backends.gold import GoldBackend
from evalharness import runner
from evalharness.cli import main
from evalharness.runner import MANIFEST, PREDICTIONS, SUMMARY, RunOptions, evaluate, read_predictions

from scripted_backend import ScriptedBackend


def run(backend, data: Path, out: Path, **options):
    return evaluate(backend, backend.name, RunOptions(data=data, out=out, quiet=True, **options))


def cli(*args: str):
    result = CliRunner().invoke(main, ["run", *args, "--quiet"])
    return result.exit_code, result.output


# ---- one-line errors --------------------------------------------------------------------------------


def test_a_run_json_that_is_not_an_object_is_refused_on_resume(small_data: Path, tmp_path: Path):
    out = tmp_path / "run"
    run(GoldBackend(small_data), small_data, out, limit=3)
    (out / MANIFEST).write_text("[]", encoding="utf-8")
    code, output = cli("--backend", "gold", "--data", str(small_data), "--out", str(out), "--resume")
    assert code == 1 and output.startswith(f"error: cannot resume: {out / MANIFEST} holds a JSON list")
    assert "Traceback" not in output


def test_an_out_below_a_file_is_one_line(small_data: Path, tmp_path: Path):
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    code, output = cli("--backend", "gold", "--data", str(small_data), "--out", str(tmp_path / "afile" / "sub"))
    assert code == 1 and output.startswith(f"error: cannot use {tmp_path / 'afile' / 'sub'} as the run directory")
    assert "Traceback" not in output and (tmp_path / "afile").read_text(encoding="utf-8") == "x"


def test_an_out_that_cannot_be_written_is_one_line(small_data: Path, tmp_path: Path, monkeypatch):
    # root ignores permission bits, so the refusal is what a read-only directory gives everyone else
    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)
    code, output = cli("--backend", "gold", "--data", str(small_data), "--out", str(tmp_path / "ro" / "run"))
    assert code == 1 and "as the run directory (Permission denied)" in output and "Traceback" not in output


def test_a_full_disk_while_writing_predictions_is_one_line_and_keeps_what_was_written(
    small_data: Path, tmp_path: Path, monkeypatch
):
    out = tmp_path / "run"
    real, written = runner._record_line, []

    def fill_up(record):
        if len(written) == 10:
            raise OSError(28, "No space left on device")
        written.append(record["id"])
        return real(record)

    monkeypatch.setattr(runner, "_record_line", fill_up)
    with pytest.raises(UserError, match=r"No space left on device.*kept.*--resume"):
        run(GoldBackend(small_data), small_data, out, batch_size=5)
    assert len(read_predictions(out / PREDICTIONS)) == 10
    monkeypatch.setattr(runner, "_record_line", real)
    assert run(GoldBackend(small_data), small_data, out, resume=True).predicted_now == 14


def test_data_that_is_not_utf8_is_refused_with_its_line(small_data: Path, tmp_path: Path):
    lines = small_data.read_bytes().split(b"\n")
    lines[4] = lines[4][:30] + b"\xff\xfe" + lines[4][30:]
    small_data.write_bytes(b"\n".join(lines))
    code, output = cli("--backend", "gold", "--data", str(small_data), "--out", str(tmp_path / "run"))
    assert code == 1 and output.startswith(f"error: {small_data}:5: not valid UTF-8 (byte 0xff at column 31)")
    assert output.count("\n") == 1


# ---- the expected turns come from the data --------------------------------------------------------


def _edit_record(path: Path, index: int, change) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[index])
    change(record)
    lines[index] = json.dumps(record, ensure_ascii=False)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_an_edited_expected_in_predictions_changes_nothing_on_resume(small_data: Path, tmp_path: Path):
    whole = run(GoldBackend(small_data), small_data, tmp_path / "whole")
    out = tmp_path / "edited"
    run(GoldBackend(small_data), small_data, out, limit=12)
    search = next(i for i, r in enumerate(read_predictions(out / PREDICTIONS)) if r["expected"]["role"] == "search")
    _edit_record(out / PREDICTIONS, search, lambda r: r.update(expected={"role": "assistant", "content": "改过"}))
    resumed = run(GoldBackend(small_data), small_data, out, resume=True)
    assert resumed.summary["metrics"] == whole.summary["metrics"]
    assert read_predictions(out / PREDICTIONS)[search]["expected"]["role"] == "search"


def test_a_duplicated_id_is_refused_with_both_lines(small_data: Path, tmp_path: Path):
    out = tmp_path / "run"
    run(GoldBackend(small_data), small_data, out, limit=6)
    lines = (out / PREDICTIONS).read_text(encoding="utf-8").splitlines(keepends=True)
    (out / PREDICTIONS).write_text("".join(lines) + lines[2], encoding="utf-8")
    with pytest.raises(UserError, match=r"predictions.jsonl:7: id 2 was already predicted on line 3"):
        run(GoldBackend(small_data), small_data, out, limit=6, resume=True)


def test_an_id_outside_the_data_is_refused(small_data: Path, tmp_path: Path):
    out = tmp_path / "run"
    run(GoldBackend(small_data), small_data, out, limit=6)
    _edit_record(out / PREDICTIONS, 0, lambda r: r.update(id=99))
    with pytest.raises(UserError, match=r"predictions.jsonl:1: id 99 is not a sample of this run"):
        run(GoldBackend(small_data), small_data, out, limit=6, resume=True)


# ---- gold arguments are validated, NaN never written ----------------------------------------------


def _set_first_search_response(path: Path, arguments_json: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, 1):
        sample = json.loads(line)
        if json.loads(sample["response"])["role"] == "search":
            sample["response"] = '{"role": "search", "arguments": ' + arguments_json + "}"
            lines[number - 1] = json.dumps(sample, ensure_ascii=False)
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            return number
    raise AssertionError("no search sample")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [('{"price_range_upper": NaN}', "finite number"), ('{"stars": 5}', "unknown argument 'stars'")],
)
def test_expected_arguments_that_break_the_schema_are_refused_with_file_and_line(
    small_data: Path, tmp_path: Path, arguments: str, message: str
):
    line = _set_first_search_response(small_data, arguments)
    code, output = cli("--backend", "gold", "--data", str(small_data), "--out", str(tmp_path / "run"))
    assert code == 1 and output.startswith(f"error: {small_data}:{line}: the expected search turn is not valid")
    assert message in output and not (tmp_path / "run" / PREDICTIONS).exists()


def test_a_prediction_holding_nan_is_recorded_as_failed_and_the_file_stays_json(small_data: Path, tmp_path: Path):
    nan = ScriptedBackend(script=lambda d: SearchTurn({"price_range_upper": math.nan}))
    result = run(nan, small_data, tmp_path / "run", limit=4)
    text = (tmp_path / "run" / PREDICTIONS).read_text(encoding="utf-8")
    assert "NaN" not in text and result.metrics.failed == 4
    assert all("not finite" in r["error"] for r in read_predictions(tmp_path / "run" / PREDICTIONS))


# ---- concurrency -----------------------------------------------------------------------------------


class Counting(ScriptedBackend):
    """Replies after `delay` seconds and says it generated 5 tokens."""

    def predict(self, dialogues, *, on_text=None, cancel=None):
        return [Prediction(p.turn, p.raw, tokens=5) for p in super().predict(dialogues, on_text=on_text, cancel=cancel)]


def test_concurrency_overlaps_requests_and_keeps_the_predictions_identical(small_data: Path, tmp_path: Path):
    def backend():
        return Counting(script=lambda d: AssistantTurn(f"第{len(d)}轮"), delay=0.1)

    started = time.monotonic()
    serial = run(backend(), small_data, tmp_path / "serial", batch_size=1, limit=16)
    serial_s = time.monotonic() - started
    started = time.monotonic()
    parallel = run(backend(), small_data, tmp_path / "parallel", batch_size=1, limit=16, concurrency=4)
    assert time.monotonic() - started < serial_s / 2
    assert parallel.summary["metrics"] == serial.summary["metrics"]

    def lines(name: str) -> list[dict]:
        return [{k: v for k, v in r.items() if k != "seconds"} for r in read_predictions(tmp_path / name / PREDICTIONS)]

    assert lines("parallel") == lines("serial")
    # the records' seconds add up to wall time, not to the sum of overlapping requests
    assert parallel.summary["run"]["samples_per_s"] > 2 * serial.summary["run"]["samples_per_s"]
    assert parallel.summary["run"]["concurrency"] == 4


def test_the_summary_reports_generated_tokens_and_tokens_per_second(small_data: Path, tmp_path: Path):
    summary = run(Counting(delay=0.01), small_data, tmp_path / "run", limit=8).summary
    assert summary["run"]["generated_tokens"] == 40
    assert summary["run"]["tokens_per_s"] == pytest.approx(40 / summary["run"]["prediction_s"], rel=0.01)


def test_a_backend_that_counts_no_tokens_reports_none(small_data: Path, tmp_path: Path):
    summary = run(GoldBackend(small_data), small_data, tmp_path / "run", limit=4).summary
    assert summary["run"]["generated_tokens"] is None and summary["run"]["tokens_per_s"] is None


def test_concurrency_below_one_is_refused(small_data: Path, tmp_path: Path):
    with pytest.raises(UserError, match="--concurrency must be at least 1"):
        run(GoldBackend(small_data), small_data, tmp_path / "run", concurrency=0)


def test_the_summary_file_matches_what_evaluate_returns(small_data: Path, tmp_path: Path):
    result = run(GoldBackend(small_data), small_data, tmp_path / "run", concurrency=3, batch_size=2)
    assert json.loads((tmp_path / "run" / SUMMARY).read_text(encoding="utf-8")) == result.summary
