"""What generated user turns must never copy: the course's dev and test user turns and the conversation suites' lines.

A model trained on a sentence it is then scored on learns the score, not the skill. `finetune augment` checks every
user turn it writes against these lines (compared without spaces, case and punctuation at either end) and draws the
dialogue again when one matches. The user simulator's and the near-X set's phrasings are templates in evalharness,
which finetune does not import (the layers keep the two apart): tests/test_augment.py checks generated turns
against those templates too."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from agent.core.codecs import read_samples
from agent.core.datafiles import data_path
from agent.core.errors import DataFormatError
from agent.core.turns import UserTurn

COURSE_EVALUATION_FILES = ("hotel/dev.glm4.jsonl", "hotel/test.glm4.jsonl")
# The conversation suites ship as data files of the evalharness package (pyproject's package-data), beside this one.
SUITES_DIR = Path(__file__).resolve().parents[2] / "evalharness" / "suites"
_EDGES = re.compile(r"^[\s\W_]+|[\s\W_]+$")


def normalize(text: str) -> str:
    """The form lines are compared in: NFKC, lower case, no spaces, no punctuation at either end."""
    return _EDGES.sub("", re.sub(r"\s+", "", unicodedata.normalize("NFKC", text).lower()))


@dataclass
class Forbidden:
    """Lines a generated user turn may not equal, each with where it comes from."""

    lines: dict[str, str] = field(default_factory=dict)  # normalized line -> source

    def add(self, texts: Iterable[str], source: str) -> None:
        for text in texts:
            key = normalize(text)
            if key:
                self.lines.setdefault(key, source)

    def source_of(self, text: str) -> str | None:
        """Where `text` comes from, when it copies a forbidden line; None otherwise."""
        return self.lines.get(normalize(text))

    def __len__(self) -> int:
        return len(self.lines)


def course_user_turns(path: str | Path) -> Iterator[str]:
    """Every user turn of a course file (GLM-4 dialogues or turn-level samples)."""
    for sample in read_samples(path):
        for turn in sample.context:
            if isinstance(turn, UserTurn):
                yield turn.content


def suite_lines(directory: str | Path) -> Iterator[tuple[str, str]]:
    """(user line, file name) of every step of every conversation suite file in `directory`."""
    for path in sorted(Path(directory).glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as e:
            raise DataFormatError(f"not valid YAML ({getattr(e, 'problem', e)})", path=str(path)) from None
        for conversation in data.get("conversations") or []:
            for step in (conversation or {}).get("steps") or []:
                line = _step_line(step)
                if line:
                    yield line, path.name


def _step_line(step: Any) -> str | None:
    if isinstance(step, str):
        return step
    if isinstance(step, dict) and isinstance(step.get("user"), str):
        return step["user"]
    return None


def default_forbidden(suites: str | Path | None = SUITES_DIR) -> Forbidden:
    """The course's dev and test user turns, and the suites' lines when their directory is there."""
    forbidden = Forbidden()
    for relative in COURSE_EVALUATION_FILES:
        forbidden.add(course_user_turns(data_path(relative)), relative)
    if suites is not None and Path(suites).is_dir():
        for line, name in suite_lines(suites):
            forbidden.add([line], f"evalharness/suites/{name}")
    return forbidden
