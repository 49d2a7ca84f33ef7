"""`evalharness analyze RUN`: where a run loses points, from its predictions.jsonl and the data it replayed.

Three views the summary's single numbers hide: slots per argument key, replies by what they had to do
(present search results, answer a follow-up about a hotel already shown, close the conversation), and the
samples where the backend chose the wrong kind of turn."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from agent.codecs import Sample
from agent.datafiles import data_path
from agent.errors import UserError
from agent.turns import ReturnTurn, UserTurn
from evalharness.compare import load_summary
from evalharness.runner import PREDICTIONS, load_samples, read_predictions

REPLY_KINDS = ("results", "follow-up", "closing")
# The course's closings: the user books, thanks or says goodbye, and the agent wishes a pleasant stay.
_CLOSING = re.compile(r"再见|谢谢|感谢|入住|预订|预定|订[这那]|决定|就[选要定]|就这")
# A unit of 1-8 characters repeated five or more times in a row: a model stuck in a loop.
_LOOP = re.compile(r"(.{1,8}?)\1{4,}", re.S)


def reply_kind(sample: Sample) -> str:
    """What a reply sample asks of the agent, from its context alone."""
    turns = sample.context.turns
    if turns and isinstance(turns[-1], ReturnTurn):
        return "results"
    return "closing" if _CLOSING.search(_last_user_text(sample)) else "follow-up"


def _last_user_text(sample: Sample) -> str:
    return next((t.content for t in reversed(sample.context.turns) if isinstance(t, UserTurn)), "")


@dataclass(frozen=True)
class Analysis:
    lines: list[str]


def analyze(run_dir: Path, data: Path | None = None, cases: int = 10) -> Analysis:
    summary = load_summary(run_dir)
    signature = summary["signature"]["data"]
    if data is None:
        recorded = Path(signature["path"])  # a path inside the data dir when the run used the data dir's file
        data = recorded if recorded.is_absolute() or recorded.is_file() else data_path(str(recorded))
    if not data.is_file():
        raise UserError(f"{run_dir}: its data file {data} is not there; pass --data FILE")
    records = read_predictions(run_dir / PREDICTIONS)
    samples, _ = load_samples(data, None)
    if any(r["id"] >= len(samples) for r in records):
        raise UserError(f"{data} has {len(samples)} samples, fewer than {run_dir} scored; wrong --data?")
    lines = [f"# {run_dir}: {len(records)} samples of {data}", ""]
    lines += _slot_lines(summary["metrics"])
    lines += [""] + _reply_lines(records, samples)
    lines += [""] + _search_lines(records)
    lines += [""] + _wrong_kind_lines(records, samples, cases)
    return Analysis(lines)


def _slot_lines(metrics: dict[str, Any]) -> list[str]:
    lines = ["## Slots per argument key", "", "| key | P | R | F1 | correct | predicted | gold |", "|---|---:|---:|---:|---:|---:|---:|"]
    for key, v in metrics.get("per_key", {}).items():
        lines.append(f"| {key} | {v['precision'] * 100:.2f} | {v['recall'] * 100:.2f} | {v['f1'] * 100:.2f} | "
                     f"{v['correct']} | {v['predicted']} | {v['gold']} |")
    return lines


def _reply_lines(records: Sequence[dict[str, Any]], samples: Sequence[Sample]) -> list[str]:
    lines = ["## Replies by what they had to do", "",
             "| kind | samples | BLEU-4 (mean) | answered with a search | stuck in a loop |", "|---|---:|---:|---:|---:|"]
    replies = [r for r in records if r["expected"]["role"] == "assistant"]
    kinds = {r["id"]: reply_kind(samples[r["id"]]) for r in replies}
    for kind in REPLY_KINDS:
        mine = [r for r in replies if kinds[r["id"]] == kind]
        if not mine:
            continue
        bleu = [r["scores"].get("bleu4", 0.0) for r in mine]
        searched = sum(1 for r in mine if (r.get("predicted") or {}).get("role") == "search")
        loops = sum(1 for r in mine if _LOOP.search((r.get("predicted") or {}).get("content") or ""))
        lines.append(f"| {kind} | {len(mine)} | {100 * sum(bleu) / len(bleu):.2f} | {searched} | {loops} |")
    return lines


def _search_lines(records: Sequence[dict[str, Any]]) -> list[str]:
    searches = [r for r in records if r["expected"]["role"] == "search"]
    predicted = [r for r in searches if (r.get("predicted") or {}).get("role") == "search"]
    exact = sum(1 for r in predicted if r["predicted"]["arguments"] == r["expected"]["arguments"])
    keys = Counter(k for r in predicted for k in r["predicted"]["arguments"])
    lines = ["## Searches", "",
             f"- {len(searches)} due; {len(predicted)} made; {exact} with exactly the gold arguments"
             + (f" ({100 * exact / len(searches):.1f}% of those due)" if searches else ""),
             "- keys the backend wrote: " + (", ".join(f"{k} {n}" for k, n in keys.most_common()) or "none")]
    return lines


def _wrong_kind_lines(records: Sequence[dict[str, Any]], samples: Sequence[Sample], cases: int) -> list[str]:
    wrong = [r for r in records if (r.get("predicted") or {}).get("role") not in (None, r["expected"]["role"])]
    failed = [r for r in records if r.get("predicted") is None]
    lines = ["## Wrong kind of turn", "",
             f"- reply where a search was due: {sum(1 for r in wrong if r['expected']['role'] == 'search')}",
             f"- search where a reply was due: {sum(1 for r in wrong if r['expected']['role'] == 'assistant')}",
             f"- no prediction (backend error): {len(failed)}"]
    for r in wrong[:cases]:
        last_user = _last_user_text(samples[r["id"]])
        got = r["predicted"].get("arguments") if r["predicted"]["role"] == "search" else r["predicted"].get("content")
        lines.append(f"  - #{r['id']} user: {_short(last_user)} → expected {r['expected']['role']}, "
                     f"got {r['predicted']['role']}: {_short(str(got))}")
    return lines


def _short(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 1] + "…"
