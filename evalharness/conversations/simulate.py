"""`evalharness simulate`: N seeded goals, each pursued by the simulated user in a fresh world through the real
DialogueLoop, judged from the Bookings store (ConvLab-2's evaluator, for one domain):

* task success — the store holds exactly one booking (cancelled when the goal cancels, else active), of a hotel
  whose database record satisfies the goal's constraints, with the goal's guest, check-in date and nights;
  first-try success — the same, without the user ever having to repeat itself (restate its constraints, decline
  a wrong proposal and give its details again, ask again to cancel): a patient user hides what this shows;
* booking rate — goals where any booking was written;
* inform accuracy — facts the user asked (phone, address, subway, price, rating) whose reply held the record's
  value; success with informs — task success and every asked fact given (ConvLab's strict success);
* turns — user turns per goal and per successful goal; false claims — replies claiming what the store lacks.

Writes DIR/goals.jsonl (goal, transcript, verdict per goal) and DIR/summary.json (metrics, breakdown by kind of
goal, failure reasons, signature: seed, goals, simulator sha256, backend, today)."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from agent.core.bookings import CANCELLED, Booking
from agent.core.errors import UserError
from agent.core.store import HotelStore
from backends.base import Backend
from evalharness.conversations.goals import Goal, draw_goals
from evalharness.conversations.report import append_line, mean, percent, prepare_out, rate, signature, write_summary
from evalharness.conversations.session import Session, StepRecord
from evalharness.conversations.simulator import InformCheck, SimulatedUser
from evalharness.conversations.world import Worlds

GOALS_FILE = "goals.jsonl"
MAX_TURNS = 16  # user turns before the simulated user gives up


@dataclass(frozen=True)
class GoalResult:
    goal: Goal
    steps: tuple[StepRecord, ...]
    informs: tuple[InformCheck, ...]
    bookings: tuple[Booking, ...]  # the store's, at the end
    success: bool
    reason: str | None  # why it failed, and why the user gave up if it did (None on success)
    detail: str | None = None  # the particulars (which hotel, which details)
    repairs: int = 0  # times the user had to repeat itself (constraints, booking details, a cancellation)

    @property
    def turns(self) -> int:
        return len(self.steps)

    @property
    def false_claims(self) -> int:
        return sum(s.false_claim is not None for s in self.steps)

    @property
    def booked(self) -> bool:
        return bool(self.bookings)

    @property
    def informs_ok(self) -> bool:
        return all(i.given for i in self.informs)

    def to_json(self) -> dict[str, Any]:
        return {
            "goal": self.goal.to_json(),
            "kinds": self.goal.kinds,
            "success": self.success,
            "reason": self.reason,
            "detail": self.detail,
            "repairs": self.repairs,
            "informs": [asdict(i) for i in self.informs],
            "false_claims": self.false_claims,
            "turns": self.turns,
            "seconds": round(sum(s.seconds for s in self.steps), 4),
            "steps": [s.to_json() for s in self.steps],
            "bookings": [asdict(b) for b in self.bookings],
        }


def run_goal(goal: Goal, backend: Backend, worlds: Worlds, today: dt.date, max_turns: int = MAX_TURNS) -> GoalResult:
    user = SimulatedUser(goal, today, random.Random(f"user:{goal.seed}:{goal.index}"))
    steps: list[StepRecord] = []
    with worlds.fresh() as world:
        session = Session(backend, world, today)
        line: str | None = user.opening()
        while line is not None:
            if len(steps) == max_turns:
                user.stuck = user.stuck or f"no end after {max_turns} turns"
                break
            record = session.say(line, user.answer)
            steps.append(record)
            line = user.react(record)
        bookings = tuple(world.bookings.list())
        verdict = judge_goal(goal, bookings, world.store)
    reason = detail = None
    if verdict is not None:
        reason = verdict[0] + (f" (user: {user.stuck})" if user.stuck else "")
        detail = verdict[1] or None
    return GoalResult(goal, tuple(steps), tuple(user.informs), bookings, verdict is None, reason, detail, user.repairs)


def judge_goal(goal: Goal, bookings: Sequence[Booking], store: HotelStore) -> tuple[str, str] | None:
    """Why the store does not show the goal done, as (kind, particulars); None when it does."""
    if not bookings:
        return "nothing booked", ""
    if len(bookings) > 1:
        return "more than one booking", f"{len(bookings)} bookings written"
    booking = bookings[0]
    if goal.cancel and booking.status != CANCELLED:
        return "booked but not cancelled", ""
    if not goal.cancel and booking.status == CANCELLED:
        return "the booking was cancelled", ""
    unmet = goal.constraints.unmet(store.get(booking.hotel_id))
    if unmet:
        return "booked a hotel that misses the goal", f"{booking.hotel_name} misses {', '.join(unmet)}"
    wish = goal.booking
    wanted = (wish.guest, wish.check_in.isoformat(), wish.nights)
    got = (booking.guest, booking.check_in, booking.nights)
    if got != wanted:
        return "booked with other details", f"{got} instead of {wanted}"
    return None


def simulate(
    backend: Backend,
    backend_name: str,
    out: Path,
    goals: int,
    seed: int = 0,
    today: dt.date = dt.date(2026, 11, 29),
    near_share: float = 0.0,
    max_turns: int = MAX_TURNS,
    progress: Callable[[GoalResult], None] | None = None,
    template: HotelStore | None = None,
) -> dict[str, Any]:
    """Simulate `goals` goals; write the run directory; return the summary. `template`: a store built earlier to
    copy for each goal (default: build one)."""
    if goals < 1:
        raise UserError(f"--goals must be at least 1, got {goals}")
    if not 0.0 <= near_share <= 1.0:
        raise UserError(f"--near-share must be between 0 and 1, got {near_share}")
    lines = prepare_out(out, GOALS_FILE)
    started = time.monotonic()
    results = []
    with Worlds(template) as worlds:
        for goal in draw_goals(worlds.template.records(), goals, seed, today, near_share):
            result = run_goal(goal, backend, worlds, today, max_turns)
            append_line(lines, result.to_json())
            results.append(result)
            if progress is not None:
                progress(result)
    summary = summarize(results)
    summary["signature"] = signature(
        backend_name,
        backend.signature(),
        today,
        {
            "simulator": {
                "seed": seed,
                "goals": goals,
                "near_share": near_share,
                "max_turns": max_turns,
                "sha256": simulator_sha256(),
            }
        },
    )
    summary["run"] = {
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "wall_time_s": round(time.monotonic() - started, 3),
    }
    write_summary(out, summary)
    return summary


def summarize(results: Sequence[GoalResult]) -> dict[str, Any]:
    by_kind: dict[str, list[GoalResult]] = defaultdict(list)
    for result in results:
        for kind in result.goal.kinds:
            by_kind[kind].append(result)
    reasons = Counter(r.reason for r in results if r.reason is not None)
    return {
        "metrics": _metrics(results),
        "by_kind": {kind: _metrics(group, brief=True) for kind, group in sorted(by_kind.items())},
        "failure_reasons": dict(reasons.most_common()),
        "failed": [{"goal": r.goal.index, "reason": r.reason, "detail": r.detail} for r in results if not r.success],
    }


def _metrics(results: Sequence[GoalResult], brief: bool = False) -> dict[str, Any]:
    successes = [r for r in results if r.success]
    metrics: dict[str, Any] = {
        "goals": len(results),
        "task_success": rate(len(successes), len(results)),
        "first_try_success": rate(sum(not r.repairs for r in successes), len(results)),
        "false_claims": sum(r.false_claims for r in results),
    }
    if brief:
        return metrics
    asked = [i for r in results for i in r.informs]
    metrics.update(
        {
            "booking_rate": rate(sum(r.booked for r in results), len(results)),
            "inform_accuracy": rate(sum(i.given for i in asked), len(asked)),
            "informs_asked": len(asked),
            "success_with_informs": rate(sum(r.success and r.informs_ok for r in results), len(results)),
            "turns_per_success": mean(r.turns for r in successes),
            "turns_per_goal": mean(r.turns for r in results),
            "goals_with_false_claims": sum(bool(r.false_claims) for r in results),
            "errors": sum(any(s.error for s in r.steps) for r in results),
            "seconds_per_goal": mean(sum(s.seconds for s in r.steps) for r in results),
        }
    )
    return metrics


def summary_lines(summary: dict[str, Any]) -> list[str]:
    m = summary["metrics"]
    lines = [
        f"goals {m['goals']}  task success {percent(m['task_success'])} (first try {percent(m['first_try_success'])})  "
        f"booking rate {percent(m['booking_rate'])}  "
        f"inform accuracy {percent(m['inform_accuracy'])} of {m['informs_asked']}  "
        f"success with informs {percent(m['success_with_informs'])}",
        f"turns/success {m['turns_per_success']}  turns/goal {m['turns_per_goal']}  false claims {m['false_claims']} "
        f"(in {m['goals_with_false_claims']} goals)  errors {m['errors']}  s/goal {m['seconds_per_goal']}",
        "",
        "by kind of goal:",
    ]
    for kind, k in summary["by_kind"].items():
        lines.append(
            f"  {kind:<20} {k['goals']:>5} goals  success {percent(k['task_success']):>7}  claims {k['false_claims']}"
        )
    if summary["failure_reasons"]:
        lines.append("failure reasons:")
        for reason, count in summary["failure_reasons"].items():
            lines.append(f"  {count:>5}  {reason}")
    return lines


def simulator_sha256() -> str:
    """One hash of the simulator's code and templates: a changed phrasing makes runs incomparable."""
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for name in ("goals.py", "utterances.py", "simulator.py", "facility_words.py"):
        digest.update((here / name).read_bytes())
    return digest.hexdigest()
