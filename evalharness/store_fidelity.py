"""How closely `HotelStore.search` reproduces the course's search results.

Over every search with a non-empty `return` in the given GLM-4 dialogue files (default: dev + test, which the
facility map never saw), it runs our search with no limit and counts
  (a) hit: our result contains at least one record the course returned (same hotel_id);
  (b) non-empty: our result has at least one record;
  (c) top-3 hit: one of our first 3 records (what the chat shows, agent.dialogue.loop.DEFAULT_RESULT_LIMIT) is the
      course's; the course's pick among many matching hotels was a person's, so this is far below (a).
Searches whose course return was empty are counted apart (mostly noise: 叫凯悦 found nothing).
Each miss gets one cause, checked in this order:
  name          the course's hotel does not match the `name` argument by our name rules;
  facility map  the course's hotel meets every other constraint but lacks a facility we mapped a phrase to;
  label noise   the course's hotel lacks a facility the search names literally (棋牌室), or breaks one of the
                search's own type/price/rating constraints although hotels meeting them all exist (a wrong
                label, or the course's system picked a near miss);
  relaxation    nothing met every constraint and we dropped other keys or kept other hotels than the course.

Usage: evalharness store-fidelity [--show-misses] [FILE ...]"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.core.codecs import read_dialogues
from agent.core.errors import ArgumentError
from agent.core.hotel_names import match_names
from agent.core.schema import validate_arguments
from agent.core.store import HotelStore, build_constraints
from agent.core.turns import ReturnTurn, SearchTurn

DEFAULT_FILES = ("hotel/dev.glm4.jsonl", "hotel/test.glm4.jsonl")


@dataclass(frozen=True)
class Case:
    file: str
    line: int  # 1-based dialogue line
    arguments: dict[str, Any]
    course_ids: tuple[int, ...]


@dataclass
class Report:
    searches: int = 0
    hits: int = 0
    non_empty: int = 0
    top3: int = 0
    relaxed: int = 0  # our result dropped some keys
    course_empty: int = 0  # searches whose course return was empty (not in `searches`)
    course_empty_ours_empty: int = 0
    invalid: int = 0  # arguments that break the schema (skipped)
    misses: Counter = field(default_factory=Counter)
    examples: list[tuple[str, Case, list[int]]] = field(default_factory=list)

    @property
    def hit_rate(self) -> float:
        return self.hits / self.searches if self.searches else 0.0

    @property
    def top3_rate(self) -> float:
        return self.top3 / self.searches if self.searches else 0.0

    @property
    def non_empty_rate(self) -> float:
        return self.non_empty / self.searches if self.searches else 0.0


def cases(paths: Iterable[Path]) -> Iterable[Case]:
    for path in paths:
        for line, dialogue in enumerate(read_dialogues(path), 1):
            turns = dialogue.turns
            for turn, following in zip(turns, turns[1:]):
                if isinstance(turn, SearchTurn) and isinstance(following, ReturnTurn):
                    yield Case(path.name, line, turn.arguments, tuple(r["hotel_id"] for r in following.records))


def miss_cause(store: HotelStore, arguments: dict[str, Any], course_ids: Sequence[int]) -> str:
    course = [store.get(i) for i in course_ids]
    if "name" in arguments:
        named = set(match_names(arguments["name"], [r["name"] for r in store.records()]))
        if not any(r["hotel_id"] in named for r in course):
            return "name"
    phrases = [store.facility_map.map(p) for p in arguments.get("facilities", [])]
    sets = [frozenset(m) for m in phrases if m]
    constraints = build_constraints(arguments, None, sets)
    plain = [c for c in constraints if c.key != "facilities"]
    meets_plain = [r for r in course if all(c.holds(r) for c in plain)]
    if meets_plain:
        # The course's hotel lacks a facility that the phrase names literally: its own data is off, not our map.
        literal = set(store.facility_map.facilities)
        failing = {
            p
            for p, m in zip(arguments.get("facilities", []), phrases)
            if m and any(not set(r["facilities"]) & set(m) for r in meets_plain)
        }
        return "label noise" if failing and failing <= literal else "facility map"
    if any(all(c.holds(r) for c in plain) for r in store.records()):
        return "label noise"
    return "relaxation"


def measure(store: HotelStore, paths: Iterable[Path]) -> Report:
    report = Report()
    for case in cases(paths):
        try:
            arguments = validate_arguments(case.arguments)
        except ArgumentError:
            report.invalid += 1
            continue
        result = store.search(arguments)
        ours = [r["hotel_id"] for r in result.records]
        if not case.course_ids:
            report.course_empty += 1
            report.course_empty_ours_empty += not ours
            continue
        report.searches += 1
        report.top3 += bool(set(ours[:3]) & set(case.course_ids))
        report.non_empty += bool(ours)
        report.relaxed += bool(result.relaxed)
        if set(ours) & set(case.course_ids):
            report.hits += 1
            continue
        cause = miss_cause(store, arguments, case.course_ids)
        if cause == "label noise" and result.relaxed:
            cause = "relaxation"
        report.misses[cause] += 1
        report.examples.append((cause, case, ours[:3]))
    return report


def report_lines(report: Report, paths: Sequence[Path], show_misses: bool) -> list[str]:
    lines = []
    if show_misses:
        for cause, case, ours in sorted(report.examples, key=lambda e: e[0]):
            lines.append(
                f"{cause:13} {case.file}:{case.line} {case.arguments} course={list(case.course_ids)} ours={ours}"
            )
    lines += [
        f"files: {', '.join(p.name for p in paths)}",
        f"searches with a non-empty return: {report.searches} (skipped {report.invalid} with invalid arguments)",
        f"(a) ours contains a course record: {report.hits}/{report.searches} = {report.hit_rate:.1%}",
        f"(b) ours is non-empty:             {report.non_empty}/{report.searches} = {report.non_empty_rate:.1%}",
        f"(c) a course record in our top 3:  {report.top3}/{report.searches} = {report.top3_rate:.1%}",
        f"relaxed searches (ours):           {report.relaxed}/{report.searches}",
        f"course returned nothing:           {report.course_empty} searches, ours empty in "
        f"{report.course_empty_ours_empty}",
    ]
    lines += [f"miss: {cause:13} {n}" for cause, n in report.misses.most_common()]
    return lines
