"""Put finished runs side by side in one markdown table, next to the reference's published figures, and
say so when they were not computed on the same data."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.core.datafiles import BY_PATH, TEST
from agent.core.errors import UserError
from evalharness.runner import SUMMARY


@dataclass(frozen=True)
class Row:
    name: str
    bleu4: float | None  # the reference's four figures, 0..100
    slot_p: float | None
    slot_r: float | None
    slot_f1: float | None
    sacrebleu: float | None = None  # corpus BLEU, tokenize=zh
    reply_for_search: int | None = None
    search_for_reply: int | None = None
    failed: int | None = None
    samples: int | None = None
    samples_per_s: float | None = None
    data_sha256: str | None = None
    data_path: str | None = None
    sacrebleu_signature: str | None = None
    reference: bool = False
    training: Training | None = None  # for a run of a trained adapter: how it was trained
    changed_adapter: str | None = None  # the run's adapter directory, when its weights are no longer the ones scored


@dataclass(frozen=True)
class Training:
    """What an adapter's hotel_agent.json (and log_history.json) say about its training run."""

    steps: int | None
    tokens_seen: int | None  # input tokens through the model, padding excluded
    seconds: float | None
    device: str | None
    peak_gpu_gib: float | None
    peak_rss_gib: float | None

    @property
    def peak_memory(self) -> str:
        if self.peak_gpu_gib is not None:
            return f"{self.peak_gpu_gib:.2f} GiB GPU"
        return "—" if self.peak_rss_gib is None else f"{self.peak_rss_gib:.1f} GiB RSS"

    @property
    def time(self) -> str:
        if self.seconds is None:
            return "—"
        text = f"{self.seconds / 60:.1f} min" if self.seconds < 5400 else f"{self.seconds / 3600:.1f} h"
        return f"{text} {self.device}" if self.device else text


# The course's table (agiclass/Student_Experiments), BLEU-4 / slot P / R / F1 on hotel/test.jsonl.
REFERENCE_SHA256 = BY_PATH[TEST].sha256
REFERENCE_ROWS: tuple[Row, ...] = tuple(
    Row(f"reference: {name}", *figures, samples=560, data_sha256=REFERENCE_SHA256, data_path=TEST, reference=True)
    for name, figures in (
        ("GLM4-9B prompt", (53.53, 82.79, 73.47, 77.85)),
        ("GLM4-9B QLoRA", (67.41, 95.95, 96.74, 96.34)),
        ("Llama3.1-8B prompt", (51.94, 92.55, 87.84, 90.19)),
        ("Llama3.1-8B QLoRA", (66.53, 97.23, 95.98, 96.60)),
        ("Qwen2-7B prompt", (23.43, 85.21, 88.91, 88.02)),
        ("Qwen2-7B LoRA", (66.70, 96.42, 95.34, 95.87)),
    )
)


@dataclass(frozen=True)
class Table:
    rows: list[Row]
    warnings: list[str]
    markdown: str


def load_summary(run_dir: Path) -> dict[str, Any]:
    path = run_dir / SUMMARY
    if not path.is_file():
        raise UserError(
            f"{run_dir}: no {SUMMARY} (unfinished run? finish it with `evalharness run --resume --out {run_dir} ...`)"
        )
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise UserError(f"{path}:{e.lineno}: not JSON ({e.msg})") from None


def row_of(name: str, summary: dict[str, Any]) -> Row:
    try:
        metrics, signature, run = summary["metrics"], summary["signature"], summary["run"]
        percent = metrics["percent"]
        return Row(
            name,
            percent["bleu-4"],
            percent["slot_P"],
            percent["slot_R"],
            percent["slot_F1"],
            sacrebleu=metrics["sacrebleu"],
            reply_for_search=metrics["reply_for_search"],
            search_for_reply=metrics["search_for_reply"],
            failed=metrics["failed"],
            samples=metrics["samples"],
            samples_per_s=run.get("samples_per_s"),
            data_sha256=signature["data"]["sha256"],
            data_path=signature["data"]["path"],
            sacrebleu_signature=metrics["sacrebleu_signature"],
            **_training_fields(signature.get("backend", {})),
        )
    except (KeyError, TypeError) as e:
        raise UserError(f"{name}/{SUMMARY}: missing field {e}; not an evalharness summary") from None


def _training_fields(backend: dict[str, Any]) -> dict[str, Any]:
    """The row's training columns, from the adapter the run names, unless that adapter has been retrained
    since (its weights' sha256 is not the one the run recorded): then they would describe another model."""
    from backends.llm.loading import adapter_sha256

    adapter, scored = backend.get("adapter"), backend.get("adapter_sha256")
    if adapter and scored and Path(adapter).is_dir() and adapter_sha256(Path(adapter)) != scored:
        return {"training": None, "changed_adapter": adapter}
    return {"training": training_of(adapter)}


def training_of(adapter: str | None) -> Training | None:
    """How the run's adapter was trained, from the files finetune wrote next to it (None when it has none)."""
    from backends.llm.adapter_info import read_adapter_info

    if not adapter or not Path(adapter).is_dir():
        return None
    info = read_adapter_info(adapter)
    if info is None:
        return None
    extra = info.extra
    tokens = extra.get("train_tokens_seen")
    if tokens is None:  # adapters from before the field: the Trainer's own count in the log, when it is readable
        from backends.llm.log_history import read_history, tokens_seen

        try:
            tokens = tokens_seen(read_history(adapter))
        except UserError:
            tokens = None
    return Training(
        steps=extra.get("steps"),
        tokens_seen=tokens,
        seconds=extra.get("train_seconds"),
        device=(extra.get("hyperparameters") or {}).get("device"),
        peak_gpu_gib=extra.get("peak_gpu_memory_gib"),
        peak_rss_gib=extra.get("peak_rss_gib"),
    )


def load_runs(run_dirs: Sequence[Path]) -> list[Row]:
    """One row per run directory, named by its short label (`run_labels`)."""
    return [row_of(label, load_summary(d)) for label, d in zip(run_labels(run_dirs), run_dirs)]


def run_labels(run_dirs: Sequence[Path]) -> list[str]:
    """Short names for runs in tables and legends: each directory's own name (`runs/<backend>-<stamp>` by
    default), with as many parent folders as it takes to tell apart runs whose directories share a name
    (sweep/a/out and sweep/b/out: a/out, b/out)."""
    parts = [Path(d).resolve().parts for d in run_dirs]
    depth = [1] * len(parts)
    while True:
        labels = [Path(*p[-k:]).as_posix() for p, k in zip(parts, depth)]
        clashing = [i for i, label in enumerate(labels) if labels.count(label) > 1 and depth[i] < len(parts[i])]
        if not clashing:  # all distinct, or the same directory given twice (nothing left to add)
            return labels
        for i in clashing:
            depth[i] += 1


def comparison_warnings(rows: Sequence[Row]) -> list[str]:
    """Why some rows should not be compared as equals (empty when they all match)."""
    warnings = []
    shas = {r.data_sha256 for r in rows}
    if len(shas) > 1:
        described = "; ".join(
            f"{(sha or '?')[:12]}: {_names([r for r in rows if r.data_sha256 == sha])}" for sha in sorted(shas, key=str)
        )
        warnings.append(f"these runs used different data (sha256 {described})")
    elif len({r.samples for r in rows}) > 1:
        counts = sorted({r.samples for r in rows}, key=lambda n: -1 if n is None else n)
        warnings.append(
            "these runs scored different numbers of samples (--limit): "
            + "; ".join(f"{n}: {_names([r for r in rows if r.samples == n])}" for n in counts)
        )
    signatures = {r.sacrebleu_signature for r in rows if not r.reference}
    if len(signatures) > 1:
        warnings.append("sacreBLEU signatures differ: " + " / ".join(sorted(str(s) for s in signatures)))
    for r in rows:
        if r.changed_adapter:
            warnings.append(
                f"{r.name}: its adapter {r.changed_adapter} has other weights than the ones it scored "
                "(sha256 differs), so its training columns are left blank"
            )
    return warnings


def compare_runs(rows: Sequence[Row], *, with_reference: bool = False) -> Table:
    all_rows = list(rows) + (list(REFERENCE_ROWS) if with_reference else [])
    warnings = comparison_warnings(all_rows)
    lines = [f"warning: {w}" for w in warnings]
    if lines:
        lines.append("")
    lines += markdown_table(all_rows)
    return Table(all_rows, warnings, "\n".join(lines))


COLUMNS = (
    "run",
    "BLEU-4",
    "slot P",
    "slot R",
    "slot F1",
    "sacreBLEU zh",
    "reply for search",
    "search for reply",
    "failed",
    "samples",
    "samples/s",
)
TRAINING_COLUMNS = ("train steps", "train tokens", "train time", "peak memory")


def markdown_table(rows: Sequence[Row]) -> list[str]:
    """The table; the training columns appear when some row is a trained adapter."""
    trained = any(r.training for r in rows)
    columns = COLUMNS + (TRAINING_COLUMNS if trained else ())
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" + "---:|" * (len(columns) - 1)]
    for r in rows:
        cells = [
            r.name,
            _num(r.bleu4),
            _num(r.slot_p),
            _num(r.slot_r),
            _num(r.slot_f1),
            _num(r.sacrebleu),
            _int(r.reply_for_search),
            _int(r.search_for_reply),
            _int(r.failed),
            _int(r.samples),
            _num(r.samples_per_s, 2),
        ]
        if trained:
            t = r.training
            cells += (
                ["", "", "", ""]
                if t is None
                else [_int(t.steps), "—" if t.tokens_seen is None else f"{t.tokens_seen:,}", t.time, t.peak_memory]
            )
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """The few lines `evalharness run` prints when it is done."""
    lines = markdown_table([row_of("this run", summary)])
    m = summary["metrics"]
    lines.append(f"sacreBLEU signature: {m['sacrebleu_signature']}")
    if m["per_key"]:
        lines.append("slots per argument key (P / R / F1, correct/predicted/gold):")
        width = max(len(k) for k in m["per_key"])
        lines += [
            f"  {k:{width}}  {v['precision'] * 100:6.2f} {v['recall'] * 100:6.2f} {v['f1'] * 100:6.2f}  "
            f"{v['correct']}/{v['predicted']}/{v['gold']}"
            for k, v in m["per_key"].items()
        ]
    return lines


def _names(rows: Sequence[Row]) -> str:
    runs = [r.name for r in rows if not r.reference]
    references = sum(1 for r in rows if r.reference)
    return ", ".join(runs + ([f"{references} reference rows"] if references else []))


def _num(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _int(value: int | None) -> str:
    return "—" if value is None else str(value)
