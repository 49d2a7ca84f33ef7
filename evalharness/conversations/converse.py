"""`evalharness converse`: every conversation of the suites, each in a fresh world through the real
DialogueLoop, judged step by step and at the end from the Bookings store.

Writes DIR/conversations.jsonl (per conversation: id, tags, passed, failures, false claims, turns, seconds, the
transcript of every step and the store's bookings at the end) and DIR/summary.json (pass rate, false booking
claims, turns and seconds per conversation, per suite and per tag, the failed conversations, the signature)."""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from agent.core.bookings import Booking
from agent.core.store import HotelStore
from agent.dialogue.actions import Proposal
from backends.base import Backend
from evalharness.conversations.judge import Failure, judge_end, judge_step
from evalharness.conversations.placeholders import Context
from evalharness.conversations.report import append_line, mean, percent, prepare_out, rate, signature, write_summary
from evalharness.conversations.session import Session, StepRecord
from evalharness.conversations.suite import Conversation, Suite, bundled_suites_dir
from evalharness.conversations.world import Worlds

CONVERSATIONS = "conversations.jsonl"
DEFAULT_TODAY = dt.date(2026, 11, 29)


@dataclass(frozen=True)
class ConversationResult:
    conversation: Conversation
    steps: tuple[StepRecord, ...]
    failures: tuple[Failure, ...]
    bookings: tuple[Booking, ...]  # the store's, at the end

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def false_claims(self) -> list[tuple[int, str]]:
        return [(i, s.false_claim) for i, s in enumerate(self.steps, 1) if s.false_claim is not None]

    @property
    def seconds(self) -> float:
        return sum(s.seconds for s in self.steps)

    def to_json(self) -> dict[str, Any]:
        c = self.conversation
        return {
            "id": c.id,
            "suite": c.suite,
            "line": c.line,
            "tags": list(c.tags),
            "passed": self.passed,
            "failures": [f.to_json() for f in self.failures],
            "false_claims": len(self.false_claims),
            "turns": len(self.steps),
            "seconds": round(self.seconds, 4),
            "steps": [s.to_json() for s in self.steps],
            "bookings": [asdict(b) for b in self.bookings],
        }


def run_conversation(
    conversation: Conversation, backend: Backend, worlds: Worlds, today: dt.date
) -> ConversationResult:
    """Play the conversation's user lines in a fresh world; judge each step, then the end."""
    steps: list[StepRecord] = []
    failures: list[Failure] = []
    with worlds.fresh() as world:
        session = Session(backend, world, today)
        for number, step in enumerate(conversation.steps, 1):
            record = session.say(step.user, accept if step.answer else decline)
            steps.append(record)
            context = Context(record.shown_before, record.found, today)
            failures.extend(judge_step(number, step.expect, record, context))
            if record.error is not None:
                break  # the backend failed: the rest of the conversation cannot be played
        bookings = tuple(world.bookings.list())
        claims = [(i, s.false_claim) for i, s in enumerate(steps, 1) if s.false_claim is not None]
        end_context = Context(session.shown, session.shown, today)
        failures.extend(judge_end(conversation.end, bookings, end_context, claims))
    return ConversationResult(conversation, tuple(steps), tuple(failures), bookings)


def accept(proposal: Proposal) -> Proposal:
    return proposal


def decline(proposal: Proposal) -> None:
    return None


def run_suites(
    suites: Sequence[Suite],
    backend: Backend,
    backend_name: str,
    out: Path,
    today: dt.date = DEFAULT_TODAY,
    progress: Any = None,
    template: HotelStore | None = None,
) -> dict[str, Any]:
    """Run every conversation; write the run directory; return the summary. `progress(result)` is called after
    each conversation (the CLI prints a line); `template` is a store built earlier to copy (default: build one)."""
    lines = prepare_out(out, CONVERSATIONS)
    started = time.monotonic()
    results: list[ConversationResult] = []
    with Worlds(template) as worlds:
        for suite in suites:
            for conversation in suite.conversations:
                result = run_conversation(conversation, backend, worlds, today)
                append_line(lines, result.to_json())
                results.append(result)
                if progress is not None:
                    progress(result)
    summary = summarize(results, suites)
    summary["signature"] = signature(
        backend_name,
        backend.signature(),
        today,
        {
            "suites": [
                {"path": _display(s.path), "sha256": s.sha256, "conversations": len(s.conversations)} for s in suites
            ]
        },
    )
    summary["run"] = {
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "wall_time_s": round(time.monotonic() - started, 3),
    }
    write_summary(out, summary)
    return summary


def summarize(results: Sequence[ConversationResult], suites: Sequence[Suite]) -> dict[str, Any]:
    by_suite: dict[str, list[ConversationResult]] = defaultdict(list)
    by_tag: dict[str, list[ConversationResult]] = defaultdict(list)
    for result in results:
        by_suite[_display(result.conversation.suite)].append(result)
        for tag in result.conversation.tags:
            by_tag[tag].append(result)
    return {
        "metrics": _metrics(results),
        "by_suite": {name: _metrics(group) for name, group in by_suite.items()},
        "by_tag": {tag: _metrics(group) for tag, group in sorted(by_tag.items())},
        "failed": [
            {"id": r.conversation.id, "failures": [f.describe() for f in r.failures]} for r in results if not r.passed
        ],
    }


def _metrics(results: Sequence[ConversationResult]) -> dict[str, Any]:
    passed = sum(r.passed for r in results)
    return {
        "conversations": len(results),
        "passed": passed,
        "pass_rate": rate(passed, len(results)),
        "false_claims": sum(len(r.false_claims) for r in results),
        "conversations_with_false_claims": sum(bool(r.false_claims) for r in results),
        "errors": sum(any(s.error for s in r.steps) for r in results),
        "turns_per_conversation": mean(len(r.steps) for r in results),
        "seconds_per_conversation": mean(r.seconds for r in results),
    }


def summary_lines(summary: dict[str, Any], failures: int = 20) -> list[str]:
    """The console report: the headline, per suite, per tag, and the first failure of each failed conversation."""
    m = summary["metrics"]
    lines = [
        f"conversations {m['conversations']}  passed {m['passed']} ({percent(m['pass_rate'])})  "
        f"false claims {m['false_claims']}  errors {m['errors']}  "
        f"turns/conversation {m['turns_per_conversation']}  s/conversation {m['seconds_per_conversation']}",
        "",
        "by suite:",
    ]
    for name, s in summary["by_suite"].items():
        lines.append(
            f"  {name:<44} {s['passed']:>3}/{s['conversations']:<3} {percent(s['pass_rate']):>7}  claims {s['false_claims']}"
        )
    if summary["by_tag"]:
        lines.append("by tag:")
        for tag, s in summary["by_tag"].items():
            lines.append(
                f"  {tag:<44} {s['passed']:>3}/{s['conversations']:<3} {percent(s['pass_rate']):>7}  claims {s['false_claims']}"
            )
    failed = summary["failed"]
    if failed:
        lines.append(f"failed ({len(failed)}; first failure of each, the rest in conversations.jsonl):")
        for item in failed[:failures]:
            lines.append(f"  {item['id']}: {item['failures'][0]}")
        if len(failed) > failures:
            lines.append(f"  ... and {len(failed) - failures} more")
    return lines


def _display(path: str) -> str:
    """A suite's path relative to the repository when it is a bundled one, so signatures compare across checkouts."""
    resolved = Path(path).resolve()
    bundled = bundled_suites_dir()
    try:
        return str(Path("evalharness") / "suites" / resolved.relative_to(bundled))
    except ValueError:
        return path
