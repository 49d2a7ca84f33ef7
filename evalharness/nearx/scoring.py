"""Task success on the near-X set, judged from what the agent did in the case's last exchange.

* A place with hotels near it: the agent searched, showed at least one hotel, and every hotel of its last
  search's top 3 is near the place (in the case's answer).
* A place with none near: the agent showed no hotel in that exchange and its reply says so (没有 / 抱歉 / ...).

Two diagnostics beside it: `place_right` (the last search's `near` names the case's place, as agent.core.places
resolves it) and `constraints_kept` (the last search keeps the other constraints the messages gave, among cases
that have some)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from agent.core.places import place_index
from evalharness.nearx.cases import NearCase

TOP = 3
# A reply that says nothing was found (for a place with no hotel near it).
SAYS_NONE = re.compile(r"没有|没找到|找不到|抱歉|不知道|无法|暂无")


@dataclass(frozen=True)
class Exchange:
    """What the agent did in a case's last exchange."""

    searches: list[dict[str, Any]]  # validated arguments of each search, in order
    shown: list[int]  # hotel_ids of the last search's records, in order
    reply: str


@dataclass(frozen=True)
class CaseScore:
    success: bool
    place_right: bool
    constraints_kept: bool | None  # None: the case has no other constraint

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def judge(case: NearCase, exchange: Exchange) -> CaseScore:
    top = exchange.shown[:TOP]
    if case.answer:
        success = bool(exchange.searches) and bool(top) and set(top) <= set(case.answer)
    else:
        success = not top and bool(SAYS_NONE.search(exchange.reply))
    last = exchange.searches[-1] if exchange.searches else {}
    return CaseScore(success, _names_place(last.get("near"), case), _kept(last, case.constraints))


def _names_place(near: Any, case: NearCase) -> bool:
    if not isinstance(near, str):
        return False
    place = place_index().resolve(near).place
    return place is not None and (place.name, place.kind) == (case.place, case.kind)


def _kept(arguments: Mapping[str, Any], constraints: Mapping[str, Any]) -> bool | None:
    if not constraints:
        return None
    return all(_equal(arguments.get(key), value) for key, value in constraints.items())


def _equal(got: Any, wanted: Any) -> bool:
    if isinstance(wanted, float):
        return isinstance(got, (int, float)) and not isinstance(got, bool) and float(got) == wanted
    return got == wanted


@dataclass(frozen=True)
class Rate:
    cases: int
    succeeded: int

    @property
    def rate(self) -> float:
        return self.succeeded / self.cases if self.cases else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"cases": self.cases, "succeeded": self.succeeded, "task_success": round(self.rate, 4)}


def _rate(flags: Iterable[bool]) -> Rate:
    values = list(flags)
    return Rate(len(values), sum(values))


def summarize(cases: Sequence[NearCase], scores: Sequence[CaseScore | None]) -> dict[str, Any]:
    """Task success overall, per kind of place, per phrasing kind and per answer (hotels near / none), and the
    diagnostics. A case whose run failed (None) counts as a failure."""
    ok = [s is not None and s.success for s in scores]

    def by(key: str) -> dict[str, Any]:
        groups: dict[str, list[bool]] = {}
        for case, success in zip(cases, ok):
            groups.setdefault(str(getattr(case, key)), []).append(success)
        return {k: _rate(v).to_json() for k, v in groups.items()}

    answers: dict[str, list[bool]] = {"near": [], "none": []}
    for case, success in zip(cases, ok):
        answers["near" if case.answer else "none"].append(success)
    kept = [s.constraints_kept for s in scores if s is not None and s.constraints_kept is not None]
    return {
        **_rate(ok).to_json(),
        "failed": sum(1 for s in scores if s is None),
        "by_kind": by("kind"),
        "by_phrasing": by("phrasing"),
        "by_answer": {k: _rate(v).to_json() for k, v in answers.items()},
        "place_right": round(_rate(s is not None and s.place_right for s in scores).rate, 4),
        "constraints_kept": round(_rate(kept).rate, 4) if kept else None,
    }
