"""The phrasing file of `finetune augment` (phrasings.yaml beside this module): loaded once, checked on load.

Every template section lists the placeholders it may use; a template using another one, a missing section or an
empty one is a one-line error naming the file and the section, so a typo never reaches the generated data."""

from __future__ import annotations

import random
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from agent.core.errors import DataFormatError

PHRASINGS_FILE = "phrasings.yaml"

# section -> the placeholders its templates may use
TEMPLATES: dict[str, frozenset[str]] = {
    key: frozenset(names.split())
    for key, names in {
        "first_requests_np": "np",
        "first_requests_clauses": "clauses",
        "add_constraint": "part",
        "change_type": "type",
        "change_price_upper": "p",
        "change_rating": "r",
        "drop_price": "",
        "drop_rating": "",
        "drop_type": "",
        "drop_facility": "f",
        "new_search": "np",
        "ask_phone": "ref",
        "ask_address": "ref",
        "ask_subway": "ref",
        "ask_price": "ref",
        "ask_rating": "ref",
        "ask_type": "ref",
        "ask_two": "ref a b",
        "ask_facility": "ref f",
        "answer_phone": "name phone",
        "answer_address": "name address",
        "answer_subway": "name subway",
        "answer_price": "name price",
        "answer_no_price": "name",
        "answer_rating": "name rating",
        "answer_type": "name type",
        "answer_facility_yes": "name has",
        "answer_facility_no": "name f",
        "present_one": "names",
        "present_many": "names",
        "present_relaxed": "relaxed names",
        "present_near": "place names",
        "present_near_relaxed": "place names",
        "present_none": "",
        "present_near_none": "place",
        "present_name_none": "hotel",
        "near_requests": "place np",
        "near_followups": "place",
        "near_with_question": "question place",
        "near_question_reply": "place",
        "book_heads": "ref",
        "book_heads_no_hotel": "",
        "detail_date": "date",
        "detail_nights": "nights",
        "detail_guest": "guest",
        "details_later": "details",
        "hotel_later": "ref",
        "change_nights": "nights",
        "change_date": "date",
        "nights_words": "n cn",
        "rebook": "ref",
        "ask_missing": "missing",
        "ask_which_hotel": "",
        "booked": "hotel check_in nights guest booking_id",
        "booking_declined": "",
        "error_past": "",
        "error_far": "",
        "error_date": "",
        "error_nights": "",
        "error_hotel": "hotel",
        "error_ambiguous": "hotel options",
        "cancel_latest": "",
        "cancel_by_number": "id",
        "cancelled": "booking_id hotel",
        "cancel_declined": "",
        "nothing_to_cancel": "",
        "thanks": "",
        "closing_no_booking": "",
        "closing_booked": "",
        "greetings": "",
        "off_topic": "",
        "clarify_greeting": "",
        "clarify_unclear": "",
        "clarify_off_topic": "",
        "english": "",
        "chinese_only": "",
    }.items()
}
# Sections whose templates are parts of a turn, joined by the generator (detail_* into a booking request).
FRAGMENTS = frozenset({"detail_date", "detail_nights", "detail_guest", "nights_words", "near_question_reply"})
CONSTRAINT_KINDS = ("type", "price_upper", "price_lower", "price_range", "rating_lower", "facility")
CONSTRAINT_PLACEHOLDERS = frozenset("type p lo hi r f".split())
WORD_LISTS = ("surnames", "given_names", "last_ordinals", "demonstratives", "fillers", "particles")
MAPPINGS = ("field_words", "relaxed_words", "missing_words")
PLACE_KINDS = ("attraction", "restaurant", "hotel", "station")


@dataclass(frozen=True)
class Phrasings:
    """The checked content of phrasings.yaml."""

    templates: Mapping[str, tuple[str, ...]]
    constraint_parts: Mapping[str, tuple[str, ...]]
    words: Mapping[str, tuple[str, ...]]
    mappings: Mapping[str, Mapping[str, str]]
    facilities: Mapping[str, tuple[str, ...]]  # user word -> database facilities it means
    ordinals: tuple[tuple[str, ...], ...]  # per row (0-based), the ways to count it
    near_questions: Mapping[str, tuple[str, ...]]  # per kind of place, a question the agent cannot answer
    source: str  # the file, for messages

    def pick(self, rng: random.Random, key: str, **values: Any) -> str:
        """One template of `key`, chosen with `rng`, filled with `values`."""
        return rng.choice(self.templates[key]).format(**values)

    def part(self, rng: random.Random, kind: str, **values: Any) -> str:
        return rng.choice(self.constraint_parts[kind]).format(**values)

    def line_templates(self) -> list[tuple[str, str]]:
        """(section, template) of every template that is a whole turn (not a fragment such as 评分{r}以上, which
        is simply how anyone says it): what tests compare with the evaluation's templates."""
        return [(key, t) for key, templates in self.templates.items() if key not in FRAGMENTS for t in templates]


def load_phrasings(path: str | Path | None = None) -> Phrasings:
    """The bundled phrasings.yaml, or another file of the same shape."""
    if path is None:
        text = resources.files("finetune.augment").joinpath(PHRASINGS_FILE).read_text(encoding="utf-8")
        source = PHRASINGS_FILE
    else:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as e:
            raise DataFormatError(f"cannot read ({e.strerror})", path=source) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise DataFormatError(f"not valid YAML ({getattr(e, 'problem', e)})", path=source) from None
    if not isinstance(data, dict):
        raise DataFormatError("expected a mapping of sections", path=source)
    return _check(data, source)


def _check(data: Mapping[str, Any], source: str) -> Phrasings:
    def strings(key: str, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
            raise DataFormatError(f"section {key!r} must be a non-empty list of strings", path=source)
        return tuple(value)

    def placeholders_ok(key: str, template: str, allowed: frozenset[str]) -> None:
        try:
            used = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
        except ValueError as e:
            raise DataFormatError(f"section {key!r}: {template!r} is not a valid template ({e})", path=source) from None
        unknown = sorted(used - allowed)
        if unknown:
            known = ", ".join(sorted(allowed)) or "none"
            raise DataFormatError(
                f"section {key!r}: {template!r} uses {{{unknown[0]}}}; this section may use: {known}", path=source
            )

    def section(key: str) -> Any:
        if key not in data:
            raise DataFormatError(f"missing section {key!r}", path=source)
        return data[key]

    templates: dict[str, tuple[str, ...]] = {}
    for key, allowed in TEMPLATES.items():
        templates[key] = strings(key, section(key))
        for template in templates[key]:
            placeholders_ok(key, template, allowed)
    parts_data = section("constraint_parts")
    if not isinstance(parts_data, dict) or set(parts_data) != set(CONSTRAINT_KINDS):
        raise DataFormatError(
            f"section 'constraint_parts' must have exactly: {', '.join(CONSTRAINT_KINDS)}", path=source
        )
    parts = {kind: strings(f"constraint_parts.{kind}", parts_data[kind]) for kind in CONSTRAINT_KINDS}
    for kind, kind_parts in parts.items():
        for template in kind_parts:
            placeholders_ok(f"constraint_parts.{kind}", template, CONSTRAINT_PLACEHOLDERS)
    words = {key: strings(key, section(key)) for key in WORD_LISTS}
    mappings: dict[str, dict[str, str]] = {}
    for key in MAPPINGS:
        value = section(key)
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise DataFormatError(f"section {key!r} must map names to strings", path=source)
        mappings[key] = {str(k): v for k, v in value.items()}
    facility_data = section("facilities")
    if not isinstance(facility_data, dict) or not facility_data:
        raise DataFormatError("section 'facilities' must map user words to database facilities", path=source)
    facilities = {str(word): strings(f"facilities.{word}", names) for word, names in facility_data.items()}
    ordinal_data = section("ordinals")
    if not isinstance(ordinal_data, list) or len(ordinal_data) < 3:
        raise DataFormatError("section 'ordinals' must list the ways to count rows 1, 2 and 3", path=source)
    ordinals = tuple(strings(f"ordinals[{i}]", row) for i, row in enumerate(ordinal_data))
    question_data = section("near_questions")
    if not isinstance(question_data, dict) or set(question_data) != set(PLACE_KINDS):
        raise DataFormatError(f"section 'near_questions' must have exactly: {', '.join(PLACE_KINDS)}", path=source)
    near_questions = {kind: strings(f"near_questions.{kind}", question_data[kind]) for kind in PLACE_KINDS}
    for kind, questions in near_questions.items():
        for template in questions:
            placeholders_ok(f"near_questions.{kind}", template, frozenset({"place"}))
    return Phrasings(templates, parts, words, mappings, facilities, ordinals, near_questions, source)


def words_of(values: Sequence[str]) -> str:
    """A, B和C: how a reply lists things (hotels in the order shown, missing details)."""
    items = list(values)
    if len(items) <= 1:
        return "".join(items)
    return "、".join(items[:-1]) + "和" + items[-1]
