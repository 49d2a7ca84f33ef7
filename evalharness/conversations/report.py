"""What a conversation-level run writes: one JSON line per conversation (its transcript and verdict), then a
summary.json whose signature says what produced the figures (inputs and their sha256, the backend's signature,
the fixed today, the hotel database, package versions), as `evalharness run` signs its scores."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from agent.core.atomic_storage import write_atomically
from agent.core.datafiles import HOTEL_DB, data_path, sha256_of
from evalharness.signature import package_versions

SUMMARY = "summary.json"


def signature(
    backend_name: str, backend_signature: Mapping[str, Any], today: dt.date, inputs: Mapping[str, Any]
) -> dict[str, Any]:
    return {
        **inputs,
        "backend": {"name": backend_name, **backend_signature},
        "today": today.isoformat(),
        "hotel_db_sha256": sha256_of(data_path(HOTEL_DB)),
        "packages": package_versions(),
    }


def prepare_out(out: Path, lines_file: str) -> Path:
    """The run directory, created; refuses to mix with an earlier run's results."""
    if (out / lines_file).exists() or (out / SUMMARY).exists():
        from agent.core.errors import UserError

        raise UserError(f"{out} already holds a run; choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    return out / lines_file


def append_line(path: Path, record: Mapping[str, Any]) -> None:
    """One record per line, flushed as each conversation finishes (a killed run keeps what it did)."""
    with path.open("a", encoding="utf-8") as sink:
        sink.write(json.dumps(record, ensure_ascii=False) + "\n")


def write_summary(out: Path, summary: Mapping[str, Any]) -> None:
    write_atomically(out / SUMMARY, json.dumps(summary, ensure_ascii=False, indent=2) + "\n")


def rate(part: int, whole: int) -> float | None:
    """A percentage with two decimals; None when there is nothing to divide by."""
    return round(100.0 * part / whole, 2) if whole else None


def mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return round(sum(items) / len(items), 4) if items else None


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}%"
