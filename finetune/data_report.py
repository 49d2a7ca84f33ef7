"""What is in a GLM-4 dialogue file, and which labels look wrong: `finetune data-report FILE [--clean OUT]`.

Counts (turns and samples per kind, model turns per skill and per turn position — `finetune.turn_kinds` —, searches
per slot, dialogue lengths), exact duplicates, and two kinds of suspicious search labels, each with its line number:

* bound direction: the user's latest words put a number under an upper-bound cue (低于, 以下, 不超过, ...) but
  the search sets only the lower bound to that number, or the reverse (the data README's "价格低于500" labelled
  `price_range_lower: 500`). These are fixed by `--clean`, in that search and in later searches of the same
  dialogue that carried the wrong bound forward.
* unseen value: a name, facility or number of a search that appears nowhere earlier in the dialogue (user or
  assistant words, or records the agent was shown). Listed only: the right value cannot be guessed.

`--clean OUT` writes the corrected dialogues (duplicates dropped, unchanged lines byte for byte) and
`OUT.log`, one line per change."""

from __future__ import annotations

import json
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from agent.core.codecs import dialogue_from_json_line, dialogue_to_json_line, dialogue_to_samples, read_numbered
from agent.core.errors import DataFormatError
from agent.core.turns import AssistantTurn, Dialogue, ReturnTurn, SearchTurn, UserTurn
from finetune.turn_kinds import KINDS, turn_kinds

NUMBER = re.compile(r"\d+(?:\.\d+)?")
_UNIT = r"\s*(?:元|块钱|块|分|星)?\s*(?:左右)?\s*"
# A comparison word before the number, possibly negated: 低于 is an upper bound, 不低于 / 不能低于 a lower one;
# 超过 is a lower bound, 不超过 / 不要超过 an upper one. 不到 ("not even") is an upper bound.
_NEGATION = "不要|不能|不会|不得|不可以|别|不"
_WORD_SIDE = {
    "超过": "lower",
    "超出": "lower",
    "高于": "lower",
    "大于": "lower",
    "多于": "lower",
    "至少": "lower",
    "最少": "lower",
    "最低": "lower",
    "低于": "upper",
    "少于": "upper",
    "小于": "upper",
    "最多": "upper",
    "最高": "upper",
    "到": None,
}
CUE_BEFORE = re.compile(f"({_NEGATION})?({'|'.join(_WORD_SIDE)})[^\\d]{{0,4}}$")
UPPER_AFTER = re.compile(r"^" + _UNIT + r"(?:以下|以内|之内)")
LOWER_AFTER = re.compile(r"^" + _UNIT + r"(?:以上|起)")
_FLIP = {"lower": "upper", "upper": "lower"}
BOUNDS = {"price": ("price_range_lower", "price_range_upper"), "rating": ("rating_range_lower", "rating_range_upper")}


@dataclass(frozen=True)
class BoundFix:
    """Move `value` from key `wrong` to key `right` in the search at `turn` (index in the dialogue)."""

    line: int
    turn: int
    wrong: str
    right: str
    value: float | int
    evidence: str

    def describe(self) -> str:
        return (
            f"line {self.line} turn {self.turn}: {self.wrong}={_fmt(self.value)} → {self.right}={_fmt(self.value)}"
            f" (user: {self.evidence})"
        )


@dataclass(frozen=True)
class UnseenValue:
    line: int
    turn: int
    key: str
    value: object

    def describe(self) -> str:
        return (
            f"line {self.line} turn {self.turn}: {self.key}={_fmt(self.value)} appears nowhere earlier in the dialogue"
        )


@dataclass
class DataReport:
    path: str
    dialogues: int = 0
    turns: Counter = field(default_factory=Counter)
    samples: Counter = field(default_factory=Counter)  # course samples (turns with history) per kind
    slots: Counter = field(default_factory=Counter)  # searches that set each argument
    skills: Counter = field(default_factory=Counter)  # model turns per kind (finetune.turn_kinds.KINDS)
    positions: Counter = field(default_factory=Counter)  # (turn position label, role) -> model turns
    turns_per_dialogue: list[int] = field(default_factory=list)
    chars_per_dialogue: list[int] = field(default_factory=list)
    duplicates: list[tuple[int, int]] = field(default_factory=list)  # (line, line of its first copy)
    fixes: list[BoundFix] = field(default_factory=list)
    unseen: list[UnseenValue] = field(default_factory=list)

    def render(self) -> str:
        out = [f"{self.path}: {self.dialogues} dialogues", "", "turns per kind:"]
        roles = ("user", "search", "return", "book", "cancel", "result", "assistant")
        out += [f"  {kind:<10}{self.turns[kind]:>7}" for kind in roles if self.turns[kind] or kind in COURSE_ROLES]
        out += ["samples per kind (turns with history, as the course splits them):"]
        out += [
            f"  {kind:<10}{self.samples[kind]:>7}"
            for kind in ("search", "book", "cancel", "assistant")
            if self.samples[kind] or kind in COURSE_ROLES
        ]
        out += ["model turns per skill:"]
        out += [f"  {kind:<36}{self.skills[kind]:>7}" for kind in KINDS if self.skills[kind]]
        model_roles = ("search", "book", "cancel", "assistant")
        out += ["model turns per turn position (1: answering the first user turn):"]
        out += ["  " + f"{'position':<10}" + "".join(f"{role:>11}" for role in model_roles)]
        for label in POSITION_LABELS:
            if any(self.positions[label, role] for role in model_roles):
                out += ["  " + f"{label:<10}" + "".join(f"{self.positions[label, role]:>11}" for role in model_roles)]
        out += ["searches per slot:"]
        out += [f"  {slot:<20}{count:>7}" for slot, count in self.slots.most_common()]
        out += [
            "dialogue length:",
            _spread("turns", self.turns_per_dialogue),
            _spread("characters", self.chars_per_dialogue),
            "",
        ]
        out += [f"duplicates: {len(self.duplicates)}"]
        out += [f"  line {line} repeats line {first}" for line, first in self.duplicates]
        out += [f"bound direction opposite to the user's words: {len(self.fixes)}"]
        out += ["  " + fix.describe() for fix in self.fixes]
        out += [f"search values that appear nowhere earlier in the dialogue: {len(self.unseen)}"]
        out += ["  " + u.describe() for u in self.unseen]
        return "\n".join(out)


POSITION_LABELS = ("1", "2", "3", "4", "5+")
COURSE_ROLES = ("user", "search", "return", "assistant")  # always listed; the others when a file has them


def position_label(position: int) -> str:
    return str(position) if position < 5 else "5+"


def _spread(name: str, values: list[int]) -> str:
    if not values:
        return f"  {name}: none"
    return (
        f"  {name:<11} min {min(values)}, median {statistics.median(values):g}, "
        f"mean {statistics.fmean(values):.1f}, max {max(values)}"
    )


def _fmt(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, (int, float)) else str(value)


def build_report(path: str | Path) -> DataReport:
    report = DataReport(str(path))
    first_copy: dict[str, int] = {}
    for number, _line, dialogue in read_numbered(path, dialogue_from_json_line):
        report.dialogues += 1
        report.turns.update(turn.role for turn in dialogue)
        report.samples.update(s.response.role for s in dialogue_to_samples(dialogue))
        for turn in dialogue:
            if isinstance(turn, SearchTurn):
                report.slots.update(turn.arguments.keys())
        for kind in turn_kinds(dialogue):
            report.skills[kind.kind] += 1
            report.positions[position_label(kind.position), kind.role] += 1
        report.turns_per_dialogue.append(len(dialogue))
        canonical = dialogue_to_json_line(dialogue)
        report.chars_per_dialogue.append(len(canonical))
        if canonical in first_copy:
            report.duplicates.append((number, first_copy[canonical]))
        else:
            first_copy[canonical] = number
        report.fixes += bound_fixes(dialogue, number)
        report.unseen += unseen_values(dialogue, number)
    return report


def number_cues(text: str) -> list[tuple[float, str]]:
    """Each number in `text` that sits next to a bound cue, with the side the cue implies ('upper'/'lower')."""
    found = []
    for match in NUMBER.finditer(text):
        before, after = text[max(0, match.start() - 10) : match.start()], text[match.end() : match.end() + 8]
        sides = set()
        cue = CUE_BEFORE.search(before)
        if cue:
            negated, word = cue.groups()
            side: str | None = _WORD_SIDE[word]
            if word == "到":
                side = "upper" if negated else None  # 不到500: under 500; 300到500 is a range
            elif negated and side is not None:
                side = _FLIP[side]
            if side:
                sides.add(side)
        if UPPER_AFTER.search(after):
            sides.add("upper")
        if LOWER_AFTER.search(after):
            sides.add("lower")
        if len(sides) == 1:  # both or neither: no clear direction
            found.append((float(match.group()), sides.pop()))
    return found


def bound_fixes(dialogue: Dialogue, line: int = 0) -> list[BoundFix]:
    """Searches that set only the bound opposite to what the user's latest words say, and later searches of
    the dialogue that carried that wrong bound forward."""
    fixes: list[BoundFix] = []
    carried: list[tuple[str, str, float, str]] = []  # (wrong key, right key, value, evidence)
    last_user = ""
    for index, turn in enumerate(dialogue):
        if isinstance(turn, UserTurn):
            last_user = turn.content
        if not isinstance(turn, SearchTurn):
            continue
        args = turn.arguments
        for value, side in number_cues(last_user):
            for lower, upper in BOUNDS.values():
                wrong, right = (lower, upper) if side == "upper" else (upper, lower)
                if _equal(args.get(wrong), value) and right not in args:
                    if not any(c[:3] == (wrong, right, value) for c in carried):
                        carried.append((wrong, right, value, last_user))
        for wrong, right, value, evidence in carried:
            if _equal(args.get(wrong), value) and right not in args:
                fixes.append(BoundFix(line, index, wrong, right, args[wrong], evidence))
    return fixes


def _equal(a: object, b: float) -> bool:
    return isinstance(a, (int, float)) and not isinstance(a, bool) and float(a) == b


def unseen_values(dialogue: Dialogue, line: int = 0) -> list[UnseenValue]:
    found: list[UnseenValue] = []
    seen_text = ""
    for index, turn in enumerate(dialogue):
        if isinstance(turn, (UserTurn, AssistantTurn)):
            seen_text += "\n" + turn.content
        elif isinstance(turn, ReturnTurn):
            seen_text += "\n" + json.dumps(turn.records, ensure_ascii=False)
        elif isinstance(turn, SearchTurn):
            numbers = spoken_numbers(seen_text)
            for key, value in turn.arguments.items():
                if key == "name" and isinstance(value, str) and value not in seen_text:
                    found.append(UnseenValue(line, index, key, value))
                elif key == "facilities" and isinstance(value, list):
                    found += [
                        UnseenValue(line, index, key, v) for v in value if isinstance(v, str) and v not in seen_text
                    ]
                elif _is_number(value) and float(value) not in numbers:
                    found.append(UnseenValue(line, index, key, value))
    return found


_DIGIT = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_D = "[一二两三四五六七八九]"
# 三百, 三五百 (300 and 500), 六到八百 (600 and 800), 五百多 (500 to 600)
CHINESE_RANGE = re.compile(f"({_D})(?:到|至|-)?({_D})?([百千])(多)?")
CHINESE_THOUSAND = re.compile(f"({_D})千({_D})")  # 一千五 = 1500
CHINESE_DECIMAL = re.compile(f"({_D})点({_D})")  # 四点五 = 4.5


def spoken_numbers(text: str) -> set[float]:
    """Numbers written with digits or in the common spoken Chinese forms of the data (三五百 = 300 and 500)."""
    numbers = {float(n) for n in NUMBER.findall(text)}
    for a, b, unit, more in CHINESE_RANGE.findall(text):
        scale = 100 if unit == "百" else 1000
        numbers |= {_DIGIT[d] * scale for d in (a, b) if d}
        if more:
            numbers.add((_DIGIT[b or a] + 1) * scale)
    numbers |= {_DIGIT[a] * 1000 + _DIGIT[b] * 100 for a, b in CHINESE_THOUSAND.findall(text)}
    numbers |= {_DIGIT[a] + _DIGIT[b] / 10 for a, b in CHINESE_DECIMAL.findall(text)}
    return {float(n) for n in numbers}


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def apply_fixes(dialogue: Dialogue, fixes: list[BoundFix]) -> Dialogue:
    turns = list(dialogue.turns)
    for fix in fixes:
        search = turns[fix.turn]
        assert isinstance(search, SearchTurn), "a bound fix names a search turn"
        args = dict(search.arguments)
        value = args.pop(fix.wrong)
        args[fix.right] = value
        turns[fix.turn] = SearchTurn(args)
    return Dialogue(turns)


@dataclass(frozen=True)
class CleanLine:
    """One line of a cleaned file: the text to write (the input line itself when nothing changed) and what changed."""

    number: int
    text: str
    dialogue: Dialogue
    fixes: tuple[BoundFix, ...]


@dataclass
class Cleaned:
    """What cleaning a file kept and changed: dialogues (duplicates dropped, bound fixes applied) and the log."""

    lines: list[CleanLine] = field(default_factory=list)
    log: list[str] = field(default_factory=list)  # one entry per change
    duplicates: int = 0

    @property
    def dialogues(self) -> list[Dialogue]:
        return [line.dialogue for line in self.lines]

    @property
    def fixed_lines(self) -> int:
        return sum(1 for line in self.lines if line.fixes)

    @property
    def fixes(self) -> int:
        return sum(len(line.fixes) for line in self.lines)


def clean(path: str | Path) -> Cleaned:
    """The file's dialogues with `bound_fixes` applied (that search and later ones carrying the wrong bound) and
    exact duplicates dropped, every change logged; unchanged lines are kept byte for byte."""
    cleaned = Cleaned()
    first_copy: dict[str, int] = {}
    for number, line, dialogue in read_numbered(path, dialogue_from_json_line):
        canonical = dialogue_to_json_line(dialogue)
        if canonical in first_copy:
            cleaned.log.append(f"line {number}: dropped, a duplicate of line {first_copy[canonical]}")
            cleaned.duplicates += 1
            continue
        first_copy[canonical] = number
        fixes = tuple(bound_fixes(dialogue, number))
        if fixes:
            cleaned.log += [fix.describe() for fix in fixes]
            dialogue = apply_fixes(dialogue, list(fixes))
            line = dialogue_to_json_line(dialogue)
        cleaned.lines.append(CleanLine(number, line if line.endswith("\n") else line + "\n", dialogue, fixes))
    return cleaned


def write_clean(path: str | Path, out: str | Path) -> tuple[int, int]:
    """Write the corrected copy and `<out>.log`; returns (dialogues written, changes logged)."""
    out = Path(out)
    if out.resolve() == Path(path).resolve():
        raise DataFormatError("--clean must name a new file, not the input", path=str(out))
    cleaned = clean(path)
    out.write_text("".join(line.text for line in cleaned.lines), encoding="utf-8")
    Path(str(out) + ".log").write_text("".join(entry + "\n" for entry in cleaned.log), encoding="utf-8")
    return len(cleaned.lines), len(cleaned.log)
