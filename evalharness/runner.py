"""Replay turn-level samples through a backend, write each prediction as it completes, then score the run.

A run directory holds:
* `run.json` — what the run is (data sha256, limit, backend and its signature), written first so that
  `--resume` can refuse to mix predictions of a different setup;
* `predictions.jsonl` — one line per sample, appended and flushed as batches complete, so a killed run
  loses at most the batch in flight (a half-written last line is dropped on resume);
* `summary.json` — the metrics and the signature, always computed from `predictions.jsonl` alone, so a
  resumed run and an uninterrupted one score the same.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, cast

from tqdm import tqdm

from agent.core.codecs import Sample, read_samples
from agent.core.errors import UserError
from agent.core.turns import AgentTurn, AssistantTurn, Dialogue, SearchTurn, turn_from_json, turn_to_json
from backends.base import Backend, Prediction
from evalharness.metrics import Metrics, aggregate, score_sample
from evalharness.signature import data_signature, run_signature

PREDICTIONS = "predictions.jsonl"
SUMMARY = "summary.json"
MANIFEST = "run.json"
# A backend that fails on this many samples in a row from the start is broken (no model, no GPU memory),
# not unlucky: stop instead of recording hundreds of identical errors.
FAIL_FAST = 8


@dataclass(frozen=True)
class RunOptions:
    data: Path
    out: Path
    batch_size: int = 8
    limit: int | None = None
    resume: bool = False
    quiet: bool = False


@dataclass(frozen=True)
class RunResult:
    out: Path
    metrics: Metrics
    summary: dict[str, Any]
    predicted_now: int  # samples predicted by this invocation (the rest came from an earlier one)


def load_samples(path: Path, limit: int | None) -> tuple[list[Sample], int]:
    """The samples to evaluate (the first `limit` of the file) and how many the file holds."""
    samples = list(read_samples(path))
    if not samples:
        raise UserError(f"{path}: no samples to evaluate")
    return (samples[:limit] if limit is not None else samples), len(samples)


def evaluate(backend: Backend, backend_name: str, options: RunOptions) -> RunResult:
    if options.batch_size < 1:
        raise UserError(f"--batch-size must be at least 1, got {options.batch_size}")
    if options.limit is not None and options.limit < 1:
        raise UserError(f"--limit must be at least 1, got {options.limit}")
    samples, in_file = load_samples(options.data, options.limit)
    data = data_signature(options.data, in_file, len(samples), options.limit)
    manifest = {
        "data_sha256": data.sha256,
        "data_path": data.path,
        "limit": options.limit,
        "samples": len(samples),
        "backend": backend_name,
        "backend_signature": backend.signature(),
    }
    out = options.out
    done = _prepare_out(out, manifest, options.resume)

    # Longest contexts first: a batch then pads its prompts to similar lengths (for an LLM the padded prompt
    # tokens cost as much as real ones), and a context too long for memory fails in the first minute.
    pending = sorted(
        (i for i in range(len(samples)) if i not in done), key=lambda i: context_size(samples[i].context), reverse=True
    )
    started = time.monotonic()
    failed_now = attempted = 0
    with (
        (out / PREDICTIONS).open("a", encoding="utf-8") as sink,
        tqdm(
            total=len(samples),
            initial=len(done),
            unit="sample",
            desc=backend_name,
            disable=options.quiet,
            dynamic_ncols=True,
        ) as bar,
    ):
        for batch in _chunks(pending, options.batch_size):
            batch_started = time.monotonic()
            results = _predict_batch(backend, [samples[i] for i in batch], batch)
            # each record keeps its share of the batch's time, so a resumed run's rate covers every invocation
            share = (time.monotonic() - batch_started) / max(len(results), 1)
            for index, prediction, error in results:
                record = _record(index, samples[index].response, prediction, error)
                record["seconds"] = round(share, 6)
                sink.write(json.dumps(record, ensure_ascii=False) + "\n")
                failed_now += error is not None
            sink.flush()  # a kill -9 after this loses nothing that was written
            attempted += len(results)
            if failed_now == attempted >= min(FAIL_FAST, len(pending)):
                raise UserError(
                    f"the backend failed on each of the first {attempted} samples ({results[-1][2]}); "
                    f"fix it, then rerun with --resume --out {out}"
                )
            bar.update(len(batch))
            if failed_now:
                bar.set_postfix(failed=failed_now)
    wall = time.monotonic() - started

    records = _finish_predictions(out / PREDICTIONS, len(samples))
    metrics = metrics_of(records)
    predicting = prediction_seconds(records)
    summary = {
        "metrics": metrics.to_json(),
        "signature": run_signature(
            data, backend_name, cast(dict[str, Any], manifest["backend_signature"]), metrics.sacrebleu_signature
        ),
        "run": {
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "resumed": bool(done),
            "predicted_this_run": len(pending),
            "failed": metrics.failed,
            "wall_time_s": round(wall, 3),
            "prediction_s": round(predicting, 3) if predicting is not None else None,
            "samples_per_s": _rate(len(records), predicting) if predicting else _rate(len(pending), wall),
        },
    }
    _write_atomic(out / SUMMARY, json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
    return RunResult(out, metrics, summary, len(pending))


def prediction_seconds(records: Sequence[dict[str, Any]]) -> float | None:
    """Time spent predicting all the records, over every invocation of a resumed run (None when some record
    predates the per-record timing)."""
    seconds = [r.get("seconds") for r in records]
    numbers = [float(x) for x in seconds if isinstance(x, (int, float))]
    if not seconds or len(numbers) != len(seconds):
        return None
    return sum(numbers)


def _rate(samples: int, seconds: float) -> float | None:
    return round(samples / seconds, 3) if samples and seconds > 0 else None


def metrics_of(records: Sequence[dict[str, Any]]) -> Metrics:
    """The run's metrics from its prediction records (recomputed, never read from the stored scores)."""
    expected = [_agent_turn(r["expected"]) for r in records]
    predicted = [None if r.get("predicted") is None else _agent_turn(r["predicted"]) for r in records]
    return aggregate(expected, predicted)


def read_predictions(path: Path) -> list[dict[str, Any]]:
    """Records of a predictions file; a half-written last line (a killed run) is ignored."""
    records, lines = [], path.read_text(encoding="utf-8").split("\n")
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines):  # no newline after it: the write was cut short
                break
            raise UserError(
                f"{path}:{number}: not a JSON prediction record; delete the run directory or fix the line"
            ) from None
        if not isinstance(record, dict) or not isinstance(record.get("id"), int) or "expected" not in record:
            raise UserError(f"{path}:{number}: a prediction record needs 'id' and 'expected'")
        records.append(record)
    return records


# ---- internals --------------------------------------------------------------------------------------


def _prepare_out(out: Path, manifest: dict[str, Any], resume: bool) -> set[int]:
    """Create or reopen the run directory; the ids of samples already predicted."""
    predictions = out / PREDICTIONS
    if predictions.exists() and predictions.stat().st_size > 0:
        if not resume:
            raise UserError(
                f"{out} already holds predictions; pass --resume to finish that run, or choose another --out"
            )
        old = _read_manifest(out / MANIFEST)
        # --limit takes the first N samples, so a quick run on the first 100 grows into the full one
        grows = old.get("limit") is not None and (manifest["limit"] is None or manifest["limit"] > old["limit"])
        for key in ("data_sha256", "limit", "samples", "backend", "backend_signature"):
            if key in ("limit", "samples") and grows:
                continue
            if old.get(key) != manifest[key]:
                hint = " (--resume can only raise --limit)" if key == "limit" else ""
                raise UserError(f"cannot resume {out}: its {key} was {old.get(key)!r}, now {manifest[key]!r}{hint}")
        _drop_partial_line(predictions)
        if grows:
            _write_atomic(out / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
        # failed samples are tried again; their new record supersedes the old one
        return {r["id"] for r in read_predictions(predictions) if "error" not in r}
    out.mkdir(parents=True, exist_ok=True)
    _write_atomic(out / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    predictions.write_text("", encoding="utf-8")
    return set()


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        raise UserError(f"cannot resume: {path} is missing or unreadable") from None


def _drop_partial_line(path: Path) -> None:
    """Cut a last line that has no newline (written when the run was killed), so appends start clean."""
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with path.open("r+b") as f:
            f.truncate(data.rfind(b"\n") + 1)


def _chunks(items: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _predict_batch(
    backend: Backend, samples: Sequence[Sample], ids: Sequence[int]
) -> list[tuple[int, Prediction | None, str | None]]:
    """Predict a batch; when it raises, retry its samples one by one so one bad sample costs only itself."""
    try:
        predictions = _checked(backend.predict([s.context for s in samples]), len(samples))
        return [(i, p, None) for i, p in zip(ids, predictions)]
    except Exception as batch_error:
        if len(samples) == 1:
            return [(ids[0], None, _describe(batch_error))]
    results: list[tuple[int, Prediction | None, str | None]] = []
    for index, sample in zip(ids, samples):
        try:
            results.append((index, _checked(backend.predict([sample.context]), 1)[0], None))
        except Exception as error:
            results.append((index, None, _describe(error)))
    return results


def _checked(predictions: Any, expected: int) -> list[Prediction]:
    if not isinstance(predictions, list) or len(predictions) != expected:
        raise RuntimeError(
            f"backend returned {len(predictions) if isinstance(predictions, list) else predictions!r} "
            f"predictions for {expected} dialogues"
        )
    for p in predictions:
        if not isinstance(p, Prediction) or not isinstance(p.turn, (SearchTurn, AssistantTurn)):
            raise RuntimeError(f"backend returned {p!r}, not a Prediction of a search or assistant turn")
    return predictions


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _record(index: int, expected: AgentTurn, prediction: Prediction | None, error: str | None) -> dict[str, Any]:
    predicted = prediction.turn if prediction is not None else None
    record: dict[str, Any] = {
        "id": index,
        "expected": turn_to_json(expected),
        "predicted": turn_to_json(predicted) if predicted is not None else None,
        "raw": prediction.raw if prediction is not None else None,
        "scores": score_sample(expected, predicted).to_json(),
    }
    if error is not None:
        record["error"] = error
    return record


def context_size(dialogue: Dialogue) -> int:
    """Characters of the dialogue's JSON: a backend-independent proxy for its prompt length."""
    return sum(len(json.dumps(turn_to_json(turn), ensure_ascii=False)) for turn in dialogue.turns)


def _finish_predictions(path: Path, count: int) -> list[dict[str, Any]]:
    """All records in input order, one per sample (the latest record of an id wins: a resume retries
    failures); rewrites the file when it is not already exactly that."""
    records = read_predictions(path)
    by_id = {r["id"]: r for r in records}
    missing = [i for i in range(count) if i not in by_id]
    if missing:
        raise RuntimeError(f"{path}: samples {missing[:5]} have no prediction")
    ordered = [by_id[i] for i in range(count)]
    if [r["id"] for r in records] != list(range(count)):
        _write_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ordered))
    return ordered


def _agent_turn(obj: Any) -> AgentTurn:
    turn = turn_from_json(obj)
    if not isinstance(turn, (SearchTurn, AssistantTurn)):
        raise UserError(f"a prediction record holds a {turn.role!r} turn; expected search or assistant")
    return turn


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
