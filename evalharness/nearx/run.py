"""Run the near-X set through the real dialogue loop (a backend and the HotelStore) and score it.

A run directory holds `predictions.jsonl` (one line per case: the case, what the agent searched and showed in
the last exchange, its reply, the scores, or the error) and `summary.json` (task success and its breakdowns,
with a signature: the set's seed and sha256, the phrasings' sha256, the databases' sha256, the backend and its
signature, package versions, wall time), the way `evalharness run` signs its scores."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tqdm import tqdm

from agent.core import datafiles
from agent.core.atomic_storage import write_atomically
from agent.core.errors import UserError
from agent.core.turns import Dialogue
from agent.dialogue.loop import DialogueLoop, Reply, Searcher, SearchFinished
from backends.base import Backend
from evalharness.nearx.cases import DEFAULT_SEED, NearCase, build_cases, phrasings_sha256, set_sha256
from evalharness.nearx.scoring import CaseScore, Exchange, judge, summarize
from evalharness.signature import package_versions

PREDICTIONS = "predictions.jsonl"
SUMMARY = "summary.json"
DATA_FILES = (datafiles.HOTEL_DB, datafiles.ATTRACTION_DB, datafiles.RESTAURANT_DB, datafiles.METRO_DB)


@dataclass(frozen=True)
class NearRunOptions:
    out: Path
    seed: int = DEFAULT_SEED
    limit: int | None = None  # the first N cases (the set is shuffled: a fair sample)
    quiet: bool = False


def play(loop: DialogueLoop, case: NearCase) -> Exchange:
    """Say the case's messages in one dialogue; what the agent did in the last exchange."""
    dialogue = Dialogue()
    exchange = Exchange([], [], "")
    for message in case.messages:
        searches: list[dict[str, Any]] = []
        shown: list[int] = []
        reply = ""
        for event in loop.respond(dialogue, message):
            if isinstance(event, SearchFinished):
                searches.append(event.arguments)
                shown = [r["hotel_id"] for r in event.result.records]
            elif isinstance(event, Reply):
                reply, dialogue = event.content, event.dialogue
        exchange = Exchange(searches, shown, reply)
    return exchange


def run_nearx(backend: Backend, backend_name: str, store: Searcher, options: NearRunOptions) -> dict[str, Any]:
    """Play every case (or the first `limit`), write the run directory, return the summary."""
    if options.limit is not None and options.limit < 1:
        raise UserError(f"--limit must be at least 1, got {options.limit}")
    everything = build_cases(options.seed)
    cases = everything[: options.limit] if options.limit is not None else everything
    out = options.out
    if (out / PREDICTIONS).exists():
        raise UserError(f"{out} already holds a near-X run; choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    loop = DialogueLoop(backend, store)
    scores: list[CaseScore | None] = []
    started = time.monotonic()
    with (out / PREDICTIONS).open("w", encoding="utf-8") as sink:
        for case in tqdm(cases, unit="case", desc=f"near-X {backend_name}", disable=options.quiet):
            record: dict[str, Any] = {"case": case.to_json()}
            try:
                exchange = play(loop, case)
            except UserError as e:  # a backend that fails on one case does not lose the others
                scores.append(None)
                record["error"] = str(e)
            else:
                score = judge(case, exchange)
                scores.append(score)
                record.update(searches=exchange.searches, shown=exchange.shown, reply=exchange.reply, **score.to_json())
            sink.write(json.dumps(record, ensure_ascii=False) + "\n")
            sink.flush()
    wall = time.monotonic() - started
    summary = {
        "metrics": summarize(cases, scores),
        "signature": signature(everything, cases, options, backend, backend_name),
        "run": {
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "wall_time_s": round(wall, 3),
            "cases_per_s": round(len(cases) / wall, 3) if wall > 0 else None,
        },
    }
    write_atomically(out / SUMMARY, json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
    return summary


def signature(
    everything: Sequence[NearCase], cases: Sequence[NearCase], options: NearRunOptions, backend: Backend, name: str
) -> dict[str, Any]:
    return {
        "set": {
            "name": "near-X",
            "seed": options.seed,
            "cases_in_set": len(everything),
            "cases_evaluated": len(cases),
            "limit": options.limit,
            "sha256": set_sha256(everything),
            "phrasings_sha256": phrasings_sha256(),
        },
        "data": {path: datafiles.sha256_of(datafiles.data_path(path)) for path in DATA_FILES},
        "backend": {"name": name, **backend.signature()},
        "packages": package_versions(),
    }


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """The summary as a few lines for the terminal."""
    m = summary["metrics"]

    def rates(groups: dict[str, Any]) -> str:
        return " · ".join(f"{k} {v['task_success']:.1%} ({v['succeeded']}/{v['cases']})" for k, v in groups.items())

    kept = m["constraints_kept"]
    lines = [
        f"near-X task success: {m['task_success']:.1%} ({m['succeeded']}/{m['cases']})"
        + (f", {m['failed']} failed" if m["failed"] else ""),
        f"  by place:    {rates(m['by_kind'])}",
        f"  by phrasing: {rates(m['by_phrasing'])}",
        f"  by answer:   {rates(m['by_answer'])}",
        f"  place right: {m['place_right']:.1%}"
        + (f" · other constraints kept: {kept:.1%}" if kept is not None else ""),
    ]
    return lines
