"""`evalharness analyze RUN`: where a run loses points, from its predictions.jsonl and the data it replayed.

Views the summary's single numbers hide: slots per argument key, what each lost slot went wrong on (a
right value under another key, a wrong value, a key nobody asked for, a slot never written), replies by
what they had to do (present search results, answer a follow-up about a hotel already shown, close the
conversation), and the samples where the backend chose the wrong kind of turn."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.core.codecs import Sample
from agent.core.datafiles import data_path
from agent.core.errors import UserError
from agent.core.turns import ReturnTurn
from evalharness.compare import load_summary
from evalharness.metrics import item_hits, slot_items
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
    return "closing" if _CLOSING.search(sample.context.last_user_text()) else "follow-up"


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
    lines += [""] + _slot_error_lines(records)
    lines += [""] + _wrong_kind_lines(records, samples, cases)
    return Analysis(lines)


def _slot_lines(metrics: dict[str, Any]) -> list[str]:
    lines = [
        "## Slots per argument key",
        "",
        "| key | P | R | F1 | correct | predicted | gold |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for key, v in metrics.get("per_key", {}).items():
        lines.append(
            f"| {key} | {v['precision'] * 100:.2f} | {v['recall'] * 100:.2f} | {v['f1'] * 100:.2f} | "
            f"{v['correct']} | {v['predicted']} | {v['gold']} |"
        )
    return lines


def _reply_lines(records: Sequence[dict[str, Any]], samples: Sequence[Sample]) -> list[str]:
    lines = [
        "## Replies by what they had to do",
        "",
        "| kind | samples | BLEU-4 (mean) | answered with a search | stuck in a loop |",
        "|---|---:|---:|---:|---:|",
    ]
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
    lines = [
        "## Searches",
        "",
        f"- {len(searches)} due; {len(predicted)} made; {exact} with exactly the gold arguments"
        + (f" ({100 * exact / len(searches):.1f}% of those due)" if searches else ""),
        "- keys the backend wrote: " + (", ".join(f"{k} {n}" for k, n in keys.most_common()) or "none"),
    ]
    return lines


@dataclass(frozen=True)
class SlotErrors:
    """Why one search's slots were not all right: each wrong predicted item and each missed gold item, once."""

    under_another_key: int = 0  # predicted: the value is in the gold arguments, but under another key
    wrong_value: int = 0  # predicted: the key was asked for, the value is not its gold value
    key_not_asked: int = 0  # predicted: the gold arguments have neither this key nor this value
    missed_misplaced: int = 0  # gold: not under its key, but written under another
    missed_unwritten: int = 0  # gold: written nowhere
    confusions: tuple[tuple[str, str], ...] = ()  # (gold key, predicted key) per misplaced value


def slot_errors(predicted: dict[str, Any], gold: dict[str, Any]) -> SlotErrors:
    under, wrong, not_asked, confusions = 0, 0, 0, []
    for key, value in predicted.items():
        hits = {k: item_hits(value, g) for k, g in gold.items()}  # the metric's rule, against every gold key
        for i in range(len(slot_items(value))):
            if key in hits and hits[key][i]:
                continue
            owner = next((k for k, h in hits.items() if k != key and h[i]), None)
            if owner is not None:
                under += 1
                confusions.append((owner, key))
            elif key in gold:
                wrong += 1
            else:
                not_asked += 1
    misplaced, unwritten = 0, 0
    for key, value in gold.items():
        for item in slot_items(value):
            if key in predicted and item in slot_items(predicted[key]):
                continue
            if any(k != key and item in slot_items(v) for k, v in predicted.items()):
                misplaced += 1
            else:
                unwritten += 1
    return SlotErrors(under, wrong, not_asked, misplaced, unwritten, tuple(confusions))


def _slot_error_lines(records: Sequence[dict[str, Any]]) -> list[str]:
    due = [r for r in records if r["expected"]["role"] == "search"]
    made = [r for r in due if (r.get("predicted") or {}).get("role") == "search"]
    made_ids = {r["id"] for r in made}
    errors = [slot_errors(r["predicted"]["arguments"], r["expected"]["arguments"]) for r in made]
    total = lambda field: sum(getattr(e, field) for e in errors)  # noqa: E731
    unsearched = sum(
        len(slot_items(v)) for r in due if r["id"] not in made_ids for v in r["expected"]["arguments"].values()
    )
    confusions = Counter(c for e in errors for c in e.confusions)
    wrong = total("under_another_key") + total("wrong_value") + total("key_not_asked")
    return [
        "## Slot errors",
        "",
        f"- wrong predicted slots in the {len(made)} searches made: {wrong} — right value under another key "
        f"{total('under_another_key')}, wrong value for a key asked for {total('wrong_value')}, "
        f"key not asked for {total('key_not_asked')}",
        f"- gold slots missed by those searches: {total('missed_misplaced') + total('missed_unwritten')} — "
        f"written under another key {total('missed_misplaced')}, not written {total('missed_unwritten')}; "
        f"missed by replying instead of searching: {unsearched}",
        "- values under another key (gold key → key written): "
        + (", ".join(f"{g} → {p} {n}" for (g, p), n in confusions.most_common(8)) or "none"),
    ]


def _wrong_kind_lines(records: Sequence[dict[str, Any]], samples: Sequence[Sample], cases: int) -> list[str]:
    wrong = [r for r in records if (r.get("predicted") or {}).get("role") not in (None, r["expected"]["role"])]
    failed = [r for r in records if r.get("predicted") is None]
    lines = [
        "## Wrong kind of turn",
        "",
        f"- reply where a search was due: {sum(1 for r in wrong if r['expected']['role'] == 'search')}",
        f"- search where a reply was due: {sum(1 for r in wrong if r['expected']['role'] == 'assistant')}",
        f"- no prediction (backend error): {len(failed)}",
    ]
    for r in wrong[:cases]:
        last_user = samples[r["id"]].context.last_user_text()
        got = r["predicted"].get("arguments") if r["predicted"]["role"] == "search" else r["predicted"].get("content")
        lines.append(
            f"  - #{r['id']} user: {_short(last_user)} → expected {r['expected']['role']}, "
            f"got {r['predicted']['role']}: {_short(str(got))}"
        )
    return lines


def _short(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
