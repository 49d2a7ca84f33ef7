"""Replay turn-level samples through a backend, write each prediction as it completes, then score the run.

A run directory holds:
* `run.json` — what the run is (data sha256, limit, backend and its signature), written first so that
  `--resume` can refuse to mix predictions of a different setup;
* `predictions.jsonl` — one line per sample, appended and flushed as batches complete, so a killed run
  loses at most the batches in flight (a half-written last line is dropped on resume);
* `summary.json` — the metrics and the signature, computed from the predictions in `predictions.jsonl` and
  the expected turns of the data file (re-read, never trusted from the predictions file), so a resumed run and
  an uninterrupted one score the same.

`--concurrency N` keeps N batches in flight on threads (for backends that wait on a server); they are written
in the order they were sent, so the file's order does not depend on which answer came first.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, cast

from tqdm import tqdm

from agent.core.atomic_storage import write_atomically
from agent.core.codecs import (
    Sample,
    detect_format,
    dialogue_from_json_line,
    dialogue_to_samples,
    read_numbered,
    sample_from_json_line,
)
from agent.core.errors import ArgumentError, DataFormatError, UserError
from agent.core.schema import TOOLS, validate_arguments
from agent.core.turns import (
    AGENT_TYPES,
    AgentTurn,
    BookTurn,
    CancelTurn,
    Dialogue,
    SearchTurn,
    turn_from_json,
    turn_to_json,
)
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
    concurrency: int = 1  # batches in flight at once


@dataclass(frozen=True)
class RunResult:
    out: Path
    metrics: Metrics
    summary: dict[str, Any]
    predicted_now: int  # samples predicted by this invocation (the rest came from an earlier one)


def load_samples(path: Path, limit: int | None) -> tuple[list[Sample], int]:
    """The samples to evaluate (the first `limit` of the file) and how many the file holds. Bytes that are not
    UTF-8 and expected calls that break their tool's schema (unknown keys, NaN, ...) are refused with the line."""
    check_utf8(path)
    samples = []
    for line, sample in _numbered_samples(path):
        try:
            check_expected(sample.response)
        except ArgumentError as e:
            raise DataFormatError(
                f"the expected {sample.response.role} turn is not valid: {e}", path=str(path), line=line
            ) from None
        samples.append(sample)
    if not samples:
        raise UserError(f"{path}: no samples to evaluate")
    return (samples[:limit] if limit is not None else samples), len(samples)


def check_expected(turn: AgentTurn) -> None:
    """ArgumentError when an expected call's arguments break its tool's schema: a search must pass
    validate_arguments; a booking call may use only its tool's keys, and no number may be NaN or infinite."""
    if isinstance(turn, SearchTurn):
        validate_arguments(turn.arguments)
    elif isinstance(turn, (BookTurn, CancelTurn)):
        allowed = _TOOL_KEYS[turn.tool]
        for key, value in turn.arguments.items():
            if key not in allowed:
                raise ArgumentError(f"unknown argument {key!r} of {turn.tool}; allowed: {', '.join(allowed)}")
            if isinstance(value, float) and not math.isfinite(value):
                raise ArgumentError(f"argument {key!r} of {turn.tool} must be a finite number, got {value!r}")


_TOOL_KEYS: dict[str, tuple[str, ...]] = {
    t["function"]["name"]: tuple(t["function"]["parameters"]["properties"]) for t in TOOLS
}


def _numbered_samples(path: Path) -> Iterator[tuple[int, Sample]]:
    """(line number, sample) of a turn-level file, or of a GLM-4 dialogue file cut by the course rule."""
    if detect_format(path) == "messages":
        for number, _, dialogue in read_numbered(path, dialogue_from_json_line):
            for sample in dialogue_to_samples(dialogue):
                yield number, sample
    else:
        for number, _, sample in read_numbered(path, sample_from_json_line):
            yield number, sample


def check_utf8(path: Path) -> None:
    """DataFormatError naming the line and column of the first byte that is not UTF-8."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise DataFormatError(f"cannot read ({e.strerror})", path=str(path)) from None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        column = e.start - data.rfind(b"\n", 0, e.start)
        raise DataFormatError(
            f"not valid UTF-8 (byte 0x{data[e.start]:02x} at column {column}); save the file as UTF-8",
            path=str(path),
            line=line,
        ) from None


def evaluate(backend: Backend, backend_name: str, options: RunOptions) -> RunResult:
    if options.batch_size < 1:
        raise UserError(f"--batch-size must be at least 1, got {options.batch_size}")
    if options.limit is not None and options.limit < 1:
        raise UserError(f"--limit must be at least 1, got {options.limit}")
    if options.concurrency < 1:
        raise UserError(f"--concurrency must be at least 1, got {options.concurrency}")
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
    try:
        _predict_pending(backend, backend_name, samples, pending, len(done), options)
    except OSError as e:
        raise _write_error(out / PREDICTIONS, e) from None
    wall = time.monotonic() - started

    records = _finish_predictions(out / PREDICTIONS, samples)
    metrics = metrics_of(records)
    predicting = prediction_seconds(records)
    tokens = generated_tokens(records)
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
            "concurrency": options.concurrency,
            "wall_time_s": round(wall, 3),
            "prediction_s": round(predicting, 3) if predicting is not None else None,
            "samples_per_s": _rate(len(records), predicting) if predicting else _rate(len(pending), wall),
            "generated_tokens": tokens,
            "tokens_per_s": _rate(tokens, predicting) if tokens is not None and predicting else None,
        },
    }
    try:
        write_atomically(out / SUMMARY, json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
    except OSError as e:
        raise _write_error(out / SUMMARY, e) from None
    return RunResult(out, metrics, summary, len(pending))


def _predict_pending(
    backend: Backend,
    backend_name: str,
    samples: Sequence[Sample],
    pending: Sequence[int],
    done: int,
    options: RunOptions,
) -> None:
    """Predict the pending samples, `options.concurrency` batches at a time, appending each batch's records in
    the order the batches were sent. Each record's `seconds` is its share of the wall time since the previous
    batch was written, so the records' seconds add up to the time spent predicting even when batches overlap."""
    out = options.out
    cancel = threading.Event()  # set when the run stops early: in-flight requests give up instead of finishing
    batches = iter(_chunks(pending, options.batch_size))
    in_flight: deque[tuple[list[int], Future[list[tuple[int, Prediction | None, str | None]]]]] = deque()
    pool = ThreadPoolExecutor(max_workers=options.concurrency, thread_name_prefix="evalharness")

    def send() -> None:
        batch = next(batches, None)
        if batch is not None:
            in_flight.append((batch, pool.submit(_predict_batch, backend, [samples[i] for i in batch], batch, cancel)))

    failed_now = attempted = 0
    last_write = time.monotonic()
    try:
        with (
            (out / PREDICTIONS).open("a", encoding="utf-8") as sink,
            tqdm(
                total=len(samples),
                initial=done,
                unit="sample",
                desc=backend_name,
                disable=options.quiet,
                dynamic_ncols=True,
            ) as bar,
        ):
            for _ in range(options.concurrency):
                send()
            while in_flight:
                batch, future = in_flight.popleft()
                results = future.result()
                now = time.monotonic()
                share, last_write = (now - last_write) / max(len(results), 1), now
                for index, prediction, error in results:
                    record = _record(index, samples[index].response, prediction, error)
                    record["seconds"] = round(share, 6)
                    sink.write(_record_line(record))
                    failed_now += "error" in record
                sink.flush()  # a kill -9 after this loses nothing that was written
                attempted += len(results)
                if failed_now == attempted >= min(FAIL_FAST, len(pending)):
                    last_error = next(r[2] for r in reversed(results) if r[2] is not None)
                    raise UserError(
                        f"the backend failed on each of the first {attempted} samples ({last_error}); "
                        f"fix it, then rerun with --resume --out {out}"
                    )
                bar.update(len(batch))
                if failed_now:
                    bar.set_postfix(failed=failed_now)
                # Only now the next batch: sent before the check above, it was already running (and, on a fast
                # backend, finished) when the run stopped early.
                send()
    finally:
        cancel.set()
        pool.shutdown(wait=False, cancel_futures=True)


def _write_error(path: Path, error: OSError) -> UserError:
    reason = error.strerror or str(error)
    return UserError(
        f"cannot write {path} ({reason}); the predictions already written are kept: fix that, then rerun with "
        f"--resume --out {path.parent}"
    )


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


def generated_tokens(records: Sequence[dict[str, Any]]) -> int | None:
    """Tokens generated over all the records (None when the backend does not count them)."""
    counts = [r.get("tokens") for r in records if "error" not in r]
    if not counts or not all(isinstance(c, int) and not isinstance(c, bool) for c in counts):
        return None
    return sum(cast(list[int], counts))


def metrics_of(records: Sequence[dict[str, Any]]) -> Metrics:
    """The run's metrics from its prediction records (recomputed, never read from the stored scores)."""
    expected = [_agent_turn(r["expected"]) for r in records]
    predicted = [None if r.get("predicted") is None else _agent_turn(r["predicted"]) for r in records]
    return aggregate(expected, predicted)


def read_predictions(path: Path) -> list[dict[str, Any]]:
    """Records of a predictions file; a half-written last line (a killed run) is ignored."""
    return [record for _, record in _numbered_predictions(path)]


def _numbered_predictions(path: Path) -> list[tuple[int, dict[str, Any]]]:
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except UnicodeDecodeError:
        raise UserError(
            f"{path}: not valid UTF-8, so not a predictions file we wrote; delete the run directory"
        ) from None
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line, parse_constant=_refuse_constant)
        except ValueError:
            if number == len(lines):  # no newline after it: the write was cut short
                break
            raise UserError(
                f"{path}:{number}: not a JSON prediction record; delete the run directory or fix the line"
            ) from None
        if (
            not isinstance(record, dict)
            or not isinstance(record.get("id"), int)
            or isinstance(record.get("id"), bool)
            or "expected" not in record
        ):
            raise UserError(f"{path}:{number}: a prediction record needs 'id' and 'expected'")
        records.append((number, record))
    return records


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# ---- internals --------------------------------------------------------------------------------------


def _prepare_out(out: Path, manifest: dict[str, Any], resume: bool) -> set[int]:
    """Create or reopen the run directory; the ids of samples already predicted."""
    try:
        return _open_out(out, manifest, resume)
    except OSError as e:
        raise UserError(f"cannot use {out} as the run directory ({e.strerror or e}); choose another --out") from None


def _comparable(key: str, value: Any) -> Any:
    """What must match for a run to be resumed: an adapter is its weights (sha256), not the path it was given by
    (runs/x and /work/runs/x are one adapter)."""
    if key == "backend_signature" and isinstance(value, dict) and value.get("adapter_sha256"):
        return {k: v for k, v in value.items() if k != "adapter"}
    return value


def _open_out(out: Path, manifest: dict[str, Any], resume: bool) -> set[int]:
    predictions = out / PREDICTIONS
    if predictions.exists() and predictions.stat().st_size > 0:
        if not resume:
            raise UserError(
                f"{out} already holds predictions; pass --resume to finish that run, or choose another --out"
            )
        old = _read_manifest(out / MANIFEST)
        # --limit takes the first N samples, so a quick run on the first 100 grows into the full one
        old_limit = old.get("limit")
        grows = isinstance(old_limit, int) and (manifest["limit"] is None or manifest["limit"] > old_limit)
        for key in ("data_sha256", "limit", "samples", "backend", "backend_signature"):
            if key in ("limit", "samples") and grows:
                continue
            if _comparable(key, old.get(key)) != _comparable(key, manifest[key]):
                hint = " (--resume can only raise --limit)" if key == "limit" else ""
                raise UserError(f"cannot resume {out}: its {key} was {old.get(key)!r}, now {manifest[key]!r}{hint}")
        _drop_partial_line(predictions)
        if grows:
            write_atomically(out / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
        records = _latest_records(predictions, manifest["samples"])
        # failed samples are tried again; their new record supersedes the old one
        return {i for i, r in records.items() if "error" not in r}
    out.mkdir(parents=True, exist_ok=True)
    write_atomically(out / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    predictions.write_text("", encoding="utf-8")
    return set()


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise UserError(f"cannot resume: {path} is missing or unreadable") from None
    if not isinstance(manifest, dict):
        raise UserError(
            f"cannot resume: {path} holds a JSON {type(manifest).__name__}, not a run manifest; "
            "start a new run with another --out"
        )
    return manifest


def _latest_records(path: Path, count: int) -> dict[int, dict[str, Any]]:
    """The record of each id (a later record replaces an earlier one only when that one failed: a resume
    retries failures). Another duplicate, or an id outside the data, is a damaged file: refused with its line."""
    latest: dict[int, tuple[int, dict[str, Any]]] = {}
    for number, record in _numbered_predictions(path):
        index = record["id"]
        if not 0 <= index < count:
            raise UserError(f"{path}:{number}: id {index} is not a sample of this run (0..{count - 1})")
        if index in latest and "error" not in latest[index][1]:
            raise UserError(
                f"{path}:{number}: id {index} was already predicted on line {latest[index][0]}; the file was "
                "edited or damaged: delete the run directory and run again"
            )
        latest[index] = (number, record)
    return {index: record for index, (_, record) in latest.items()}


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
    backend: Backend, samples: Sequence[Sample], ids: Sequence[int], cancel: threading.Event | None = None
) -> list[tuple[int, Prediction | None, str | None]]:
    """Predict a batch; when it raises, retry its samples one by one so one bad sample costs only itself."""
    try:
        predictions = _checked(backend.predict([s.context for s in samples], cancel=cancel), len(samples))
        return [(i, p, None) for i, p in zip(ids, predictions)]
    except Exception as batch_error:
        if len(samples) == 1:
            return [(ids[0], None, _describe(batch_error))]
    results: list[tuple[int, Prediction | None, str | None]] = []
    for index, sample in zip(ids, samples):
        try:
            results.append((index, _checked(backend.predict([sample.context], cancel=cancel), 1)[0], None))
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
        if not isinstance(p, Prediction) or not isinstance(p.turn, AGENT_TYPES):
            raise RuntimeError(f"backend returned {p!r}, not a Prediction of an agent turn")
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
    if prediction is not None and prediction.tokens is not None:
        record["tokens"] = prediction.tokens
    if error is not None:
        record["error"] = error
    return record


def _record_line(record: dict[str, Any]) -> str:
    """One JSON line. A prediction holding NaN or Infinity (not JSON: no reader could load it back) is recorded
    as a failed sample instead."""
    try:
        return json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n"
    except ValueError:
        expected = _agent_turn(record["expected"])
        failed = _record(record["id"], expected, None, "ValueError: the prediction holds a number that is not finite")
        failed["seconds"] = record.get("seconds")
        return json.dumps(failed, ensure_ascii=False, allow_nan=False) + "\n"


def context_size(dialogue: Dialogue) -> int:
    """Characters of the dialogue's JSON: a backend-independent proxy for its prompt length."""
    return sum(len(json.dumps(turn_to_json(turn), ensure_ascii=False)) for turn in dialogue.turns)


def _finish_predictions(path: Path, samples: Sequence[Sample]) -> list[dict[str, Any]]:
    """All records in input order, one per sample, each with its expected turn and scores taken from the data
    (an edited `expected` in the file changes nothing); rewrites the file when it is not already exactly that."""
    records = read_predictions(path)
    latest = _latest_records(path, len(samples))
    missing = [i for i in range(len(samples)) if i not in latest]
    if missing:
        raise RuntimeError(f"{path}: samples {missing[:5]} have no prediction")
    ordered = []
    changed = [r["id"] for r in records] != list(range(len(samples)))
    for index, sample in enumerate(samples):
        record = latest[index]
        expected = turn_to_json(sample.response)
        if record["expected"] != expected:
            predicted = None if record.get("predicted") is None else _agent_turn(record["predicted"])
            record = {**record, "expected": expected, "scores": score_sample(sample.response, predicted).to_json()}
            changed = True
        ordered.append(record)
    if changed:
        write_atomically(path, "".join(_record_line(r) for r in ordered))
    return ordered


def _agent_turn(obj: Any) -> AgentTurn:
    try:
        turn = turn_from_json(obj)
    except DataFormatError as e:
        raise UserError(f"a prediction record holds a bad turn ({e})") from None
    if not isinstance(turn, AGENT_TYPES):
        raise UserError(f"a prediction record holds a {turn.role!r} turn; expected a tool call or an assistant turn")
    return turn
