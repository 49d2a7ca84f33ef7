"""Which of two ways the rules backend answers where a person and the course data disagree.

The course's dialogues (and the turn-level metric scored on them) have two habits a person chatting does not
expect: a decision (我决定入住北京饭店 / 我愿意入住这个酒店) is answered with a farewell, 好的，祝您入住愉快！, though nothing
was booked; and a yes/no question about a hotel just shown (这家有健身房吗？ / 酒店有叫醒服务吗？) searches again
instead of being answered. The chat backend (`rules`) puts the person first; the harness-only `rules-course` keeps
the course's habits, so what the person-first choices cost on the course metric is one command away:
`evalharness run --backend rules-course` against `--backend rules`."""

from __future__ import annotations

from dataclasses import dataclass

# How a message points at the hotel it asks about (backends.rules.references.Reference.how): by row number, by
# name, 这家 (the hotel in focus), the only hotel shown, or not at all (asked of every row shown).
EVERY_REFERENCE = frozenset({"ordinal", "name", "focus", "only", ""})


@dataclass(frozen=True)
class Habits:
    """The rules backend's choices where a person and the course data disagree (defaults: the person's)."""

    # Every decision (我决定入住X / 那就选X吧) starts booking it. False: only a decision by row number (我决定入住第二
    # 家, never in the course data) does, and the others get the data's farewell — which the dialogue loop then
    # replaces as a claim of a booking that was not made.
    decisions_book: bool = True
    # The ways of pointing at a shown hotel whose yes/no facility questions are answered from its record; a
    # question pointing otherwise searches again, as the course's original dialogues do.
    answered_references: frozenset[str] = EVERY_REFERENCE
    # 第二家是经济型吗？ / X的评分是4.5以上吗？ (a named or counted hotel's type, price or rating) answered from the
    # record too, not only its facilities.
    answers_record_fields: bool = True


PERSON_FIRST = Habits()
# The course's: questions that name or count the hotel are answered (the data rarely has them), the rest search.
COURSE = Habits(decisions_book=False, answered_references=frozenset({"ordinal", "name"}), answers_record_fields=False)
