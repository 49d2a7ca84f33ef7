"""The training set of a run: the course's train file and other dialogue files in chosen ratios, optionally cleaned,
with dialogues of under-represented turn kinds repeated.

* `--mix PATH=RATIO` adds a GLM-4 dialogue file (e.g. `finetune augment`'s): ratio 1 uses every dialogue once,
  0.5 a seeded half, 2 every dialogue twice (`train_ratio` does the same to `--train`).
* `--oversample KIND=FACTOR` repeats every dialogue holding a model turn of that kind (`finetune.turn_kinds`;
  `later search` names all later-turn searches): factor 2 puts each twice in the set, 1.5 half of them once more.
  One dialogue is one training sequence, so repeating it weights all its turns; the kinds it was chosen for are
  those the data lacks, and the report says how many dialogues were added.
* `--clean` applies `finetune data-report`'s bound fixes and drops exact duplicates first (its log's count of
  fixed lines is reported and recorded).

Everything is seeded: the same settings give the same set, in the same order, recorded in hotel_agent.json."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from agent.core.codecs import read_dialogues
from agent.core.datafiles import sha256_of
from agent.core.errors import UserError
from agent.core.turns import Dialogue
from finetune.data_report import clean
from finetune.turn_kinds import dialogue_has, kind_names


@dataclass(frozen=True)
class Share:
    """A dialogue file and how much of it goes into the training set."""

    path: str
    ratio: float


def parse_share(text: str) -> Share:
    """`PATH=RATIO` (or `PATH`, ratio 1) → Share; a one-line UserError for anything else."""
    path, sep, ratio_text = text.rpartition("=")
    if not sep:
        path, ratio_text = text, "1"
    ratio = _positive(ratio_text, f"--mix {text!r}: the ratio after '=' must be a positive number, e.g. data.jsonl=0.5")
    if not path:
        raise UserError(f"--mix {text!r}: name a dialogue file before '='")
    return Share(path, ratio)


def parse_oversample(text: str) -> tuple[str, float]:
    """`KIND=FACTOR` → (kind, factor); the kind must be one of finetune.turn_kinds', the factor at least 1."""
    kind, sep, factor_text = text.rpartition("=")
    if not sep or kind not in kind_names():
        raise UserError(f"--oversample {text!r}: write KIND=FACTOR with KIND one of: {', '.join(kind_names())}")
    factor = _positive(factor_text, f"--oversample {text!r}: the factor must be a number of at least 1")
    if factor < 1:
        raise UserError(f"--oversample {text!r}: the factor must be at least 1 (1 changes nothing)")
    return kind, factor


def _positive(text: str, message: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UserError(message) from None
    if not math.isfinite(value) or value <= 0:
        raise UserError(message)
    return value


@dataclass
class SourceUse:
    path: str
    sha256: str
    dialogues: int  # in the file
    ratio: float
    used: int  # after cleaning, the limit and the ratio
    fixed_lines: int = 0  # lines whose bound direction cleaning fixed
    fixes: int = 0  # searches changed by those fixes
    duplicates_dropped: int = 0


@dataclass
class TrainingSet:
    dialogues: list[Dialogue]
    sources: list[SourceUse]
    oversampled: dict[str, dict[str, float]] = field(default_factory=dict)  # kind -> factor, holding, added
    cleaned: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "dialogues": len(self.dialogues),
            "sources": [asdict(s) for s in self.sources],
            "oversampled": self.oversampled,
            "cleaned": self.cleaned,
        }

    def describe(self) -> str:
        parts = [
            f"{s.path} ×{s.ratio:g}: {s.used} of {s.dialogues}"
            + (f" ({s.fixed_lines} lines fixed, {s.duplicates_dropped} duplicates dropped)" if self.cleaned else "")
            for s in self.sources
        ]
        parts += [
            f"oversampled {kind} ×{o['factor']:g}: {int(o['holding'])} dialogues hold one, {int(o['added'])} added"
            for kind, o in self.oversampled.items()
        ]
        return f"training set: {len(self.dialogues)} dialogues — " + "; ".join(parts)


def take(dialogues: Sequence[Dialogue], ratio: float, rng: random.Random) -> list[Dialogue]:
    """`ratio` times the dialogues: whole copies, then a seeded sample (in file order) for the fraction."""
    whole = int(ratio)
    chosen = list(dialogues) * whole
    extra = round((ratio - whole) * len(dialogues))
    if extra:
        picked = sorted(rng.sample(range(len(dialogues)), extra))
        chosen += [dialogues[i] for i in picked]
    return chosen


def build_training_set(
    train: str | Path,
    *,
    train_ratio: float = 1.0,
    mix: Sequence[Share] = (),
    oversample: Sequence[tuple[str, float]] = (),
    clean_data: bool = False,
    limit: int | None = None,
    seed: int = 42,
) -> TrainingSet:
    """The dialogues to train on (see the module docstring); `limit` keeps the first N of `train` only."""
    rng = random.Random(f"{seed}:mix")
    dialogues: list[Dialogue] = []
    sources: list[SourceUse] = []
    for index, share in enumerate([Share(str(train), train_ratio), *mix]):
        path = Path(share.path)
        if not path.is_file():
            raise UserError(f"{path}: no such dialogue file")
        use = SourceUse(str(path), sha256_of(path), 0, share.ratio, 0)
        if clean_data:
            cleaned = clean(path)
            items = cleaned.dialogues
            use.dialogues = len(items) + cleaned.duplicates
            use.fixed_lines, use.fixes, use.duplicates_dropped = cleaned.fixed_lines, cleaned.fixes, cleaned.duplicates
        else:
            items = list(read_dialogues(path))
            use.dialogues = len(items)
        if index == 0 and limit is not None:
            items = items[:limit]
        chosen = take(items, share.ratio, rng)
        use.used = len(chosen)
        dialogues += chosen
        sources.append(use)
    result = TrainingSet(dialogues, sources, cleaned=clean_data)
    for kind, factor in oversample:
        holding = [d for d in result.dialogues if dialogue_has(d, kind)]
        added = take(holding, factor - 1, rng) if factor > 1 else []
        result.dialogues += added
        result.oversampled[kind] = {"factor": factor, "holding": len(holding), "added": len(added)}
    return result
