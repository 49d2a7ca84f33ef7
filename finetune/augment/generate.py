"""`finetune augment`: seeded training dialogues for every skill the course data barely teaches.

Dialogue `i` of seed `s` is drawn from `random.Random("s:i:attempt")` alone, with its own date ("today", so that
后天 and a past date mean something) and its own bookings, so the same seed, count and data give the same file.
Each dialogue has a main skill (a recipe below), scheduled so the file holds the shares of `RECIPES`; the scenes it
is made of are counted in the report. A dialogue whose user turn copies a dev/test turn or a suite line, or that repeats an earlier dialogue,
is drawn again (next attempt)."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from agent.core.codecs import dialogue_to_json_line
from agent.core.errors import UserError
from agent.core.store import HotelStore
from agent.core.turns import Dialogue, UserTurn
from finetune.augment import scenes
from finetune.augment.episode import Episode, GenerationError, World
from finetune.augment.guard import Forbidden
from finetune.augment.phrasings import Phrasings

DEFAULT_SEED = 18  # issue 18
DEFAULT_DIALOGUES = 1000
MAX_ATTEMPTS = 20
# The first day a generated dialogue may take place on, and how many days after it: dates vary, so replies never
# learn one calendar.
FIRST_TODAY = dt.date(2026, 1, 1)
TODAY_SPAN_DAYS = 540


def _maybe(ep: Episode, chance: float, scene: Callable[[Episode], object]) -> None:
    if ep.rng.random() < chance:
        scene(ep)


def later_searches(ep: Episode) -> None:
    scenes.first_search(ep)
    for _ in range(ep.rng.choice((1, 1, 1, 2, 2))):
        scenes.later_search(ep)
    _maybe(ep, 0.25, scenes.ask_about)
    _maybe(ep, 0.25, scenes.closing)


def questions(ep: Episode) -> None:
    scenes.first_search(ep, at_least=2)
    for _ in range(ep.rng.choice((1, 2, 2, 3))):
        ep.rng.choice((scenes.ask_about, scenes.ask_about, scenes.ask_facility))(ep)
    _maybe(ep, 0.2, scenes.book_at_once)
    _maybe(ep, 0.2, scenes.closing)


def facilities(ep: Episode) -> None:
    scenes.first_search(ep)
    for _ in range(ep.rng.choice((1, 1, 2))):
        scenes.ask_facility(ep)
    _maybe(ep, 0.3, scenes.ask_about)
    _maybe(ep, 0.2, scenes.closing)


def booking(ep: Episode) -> None:
    scenes.first_search(ep)
    _maybe(ep, 0.3, scenes.later_search)
    if not ep.shown:
        scenes.first_search(ep, free=0.0)
    if ep.rng.random() < 0.5:
        index = ep.rng.randrange(len(ep.shown))
        wish = scenes.draw_wish(ep)
        result = scenes.book_at_once(ep, index, wish)
        if result.get("declined") and ep.rng.random() < 0.7:
            scenes.after_declined(ep, wish, ep.shown[index]["name"])
    else:
        scenes.book_over_turns(ep)
    _maybe(ep, 0.4, scenes.closing)


def booking_errors(ep: Episode) -> None:
    _maybe(ep, 0.6, scenes.first_search)
    scenes.book_with_error(ep)
    _maybe(ep, 0.3, scenes.closing)


def booking_by_name(ep: Episode) -> None:
    scenes.book_by_name(ep)
    _maybe(ep, 0.4, scenes.closing)


def cancelling(ep: Episode) -> None:
    variant = ep.rng.choice(("latest", "latest", "latest", "nothing", "two"))
    if variant == "nothing":
        _maybe(ep, 0.5, scenes.first_search)
        scenes.cancel_latest(ep)
        return
    scenes.first_search(ep, at_least=2 if variant == "two" else 1)
    rows = ep.rng.sample(range(len(ep.shown)), min(2, len(ep.shown)))
    booked = _book_confirmed(ep, rows[0])
    if variant == "two" and len(rows) == 2:
        wish = scenes.draw_wish(ep)
        _book_confirmed(ep, rows[1], scenes.Wish(booked["guest"], wish.date_text, wish.nights, wish.nights_text))
        scenes.cancel_by_number(ep)
        return
    scenes.cancel_latest(ep)
    cancelled = ep.turns[-2]
    if getattr(cancelled, "result", {}).get("status") == "cancelled" and ep.rng.random() < 0.4:
        scenes.rebook_other(ep, booked)
    _maybe(ep, 0.3, scenes.closing)


def _book_confirmed(ep: Episode, index: int, wish: scenes.Wish | None = None) -> dict:
    for _ in range(5):
        mark = len(ep.turns), len(ep.skills), dict(ep.ledger.bookings)
        result = scenes.book_at_once(ep, index, wish)
        if "error" not in result:
            return result
        del ep.turns[mark[0] :], ep.skills[mark[1] :]  # declined: say it again until a booking exists
        ep.ledger.bookings = mark[2]
    raise GenerationError("no booking was confirmed in five tries")


def near(ep: Episode) -> None:
    if ep.rng.random() < 0.3:
        scenes.first_search(ep)
        scenes.near_search(ep, followup=True)
    else:
        scenes.near_search(ep)
    if ep.shown:
        _maybe(ep, 0.3, ep.rng.choice((scenes.ask_about, scenes.ask_facility)))
        _maybe(ep, 0.15, scenes.book_at_once)
    _maybe(ep, 0.2, scenes.closing)


def clarifying(ep: Episode) -> None:
    if ep.rng.random() < 0.5:
        scenes.unclear(ep)
        scenes.first_search(ep)
    else:
        scenes.first_search(ep)
        scenes.unclear(ep)
        _maybe(ep, 0.5, scenes.later_search)
    _maybe(ep, 0.2, scenes.closing)


def chinese_only(ep: Episode) -> None:
    if ep.rng.random() < 0.5:
        scenes.not_chinese(ep)
        _maybe(ep, 0.7, scenes.first_search)
    else:
        scenes.first_search(ep)
        scenes.not_chinese(ep)
        _maybe(ep, 0.4, scenes.ask_about)
    _maybe(ep, 0.2, scenes.closing)


# main skill -> (recipe, share of the dialogues)
RECIPES: dict[str, tuple[Callable[[Episode], None], float]] = {
    "later-turn searches": (later_searches, 0.24),
    "questions about shown hotels": (questions, 0.13),
    "facility questions": (facilities, 0.08),
    "booking": (booking, 0.16),
    "booking errors": (booking_errors, 0.08),
    "booking by name": (booking_by_name, 0.03),
    "cancelling": (cancelling, 0.08),
    "near": (near, 0.12),
    "clarifying questions": (clarifying, 0.04),
    "Chinese-only notice": (chinese_only, 0.04),
}


def schedule(count: int, seed: int) -> list[str]:
    """The main skill of each dialogue: every skill's share of `count` (largest remainders), in a seeded order."""
    shares = {name: share for name, (_, share) in RECIPES.items()}
    total = sum(shares.values())
    exact = {name: count * share / total for name, share in shares.items()}
    counts = {name: int(value) for name, value in exact.items()}
    for name in sorted(exact, key=lambda n: exact[n] - counts[n], reverse=True)[: count - sum(counts.values())]:
        counts[name] += 1
    plan = [name for name in RECIPES for _ in range(counts[name])]
    random.Random(f"{seed}:schedule").shuffle(plan)
    return plan


@dataclass
class Generated:
    dialogues: list[Dialogue] = field(default_factory=list)
    todays: list[dt.date] = field(default_factory=list)  # the date each dialogue happens on
    main_skills: Counter = field(default_factory=Counter)
    scenes: Counter = field(default_factory=Counter)
    redrawn: Counter = field(default_factory=Counter)  # why a draft was drawn again (copied line, generator rule)

    def report(self) -> str:
        turns = Counter(t.role for d in self.dialogues for t in d)
        out = [f"{len(self.dialogues)} dialogues, {sum(turns.values())} turns ({_counts(turns)})", "", "main skill:"]
        out += [f"  {name:<34}{self.main_skills[name]:>6}" for name in RECIPES]
        out += ["scenes (what each part of a dialogue teaches):"]
        out += [f"  {name:<44}{count:>6}" for name, count in sorted(self.scenes.items(), key=lambda kv: -kv[1])]
        out += [f"drafts drawn again: {sum(self.redrawn.values())}"]
        out += [f"  {why}: {count}" for why, count in self.redrawn.most_common()]
        return "\n".join(out)


def _counts(counter: Counter) -> str:
    return ", ".join(f"{k} {v}" for k, v in counter.most_common())


def generate(
    world: World, forbidden: Forbidden, *, count: int = DEFAULT_DIALOGUES, seed: int = DEFAULT_SEED
) -> Generated:
    if count < 1:
        raise UserError(f"--dialogues must be at least 1, got {count}")
    generated = Generated()
    seen: set[str] = set()  # every dialogue once: a repeat would only weigh more in training
    for index, skill in enumerate(schedule(count, seed)):
        recipe = RECIPES[skill][0]
        for attempt in range(MAX_ATTEMPTS):
            rng = random.Random(f"{seed}:{index}:{attempt}")
            today = FIRST_TODAY + dt.timedelta(days=rng.randrange(TODAY_SPAN_DAYS))
            episode = Episode(world, rng, today)
            try:
                recipe(episode)
            except GenerationError as e:
                generated.redrawn[f"generator: {str(e).split(':')[0]}"] += 1
                continue
            copied = [
                source
                for turn in episode.turns
                if isinstance(turn, UserTurn) and (source := forbidden.source_of(turn.content))
            ]
            if copied:
                generated.redrawn[f"a user turn copies {copied[0]}"] += 1
                continue
            line = dialogue_to_json_line(episode.dialogue())
            if line in seen:
                generated.redrawn["the same as an earlier dialogue"] += 1
                continue
            seen.add(line)
            generated.dialogues.append(episode.dialogue())
            generated.todays.append(today)
            generated.main_skills[skill] += 1
            generated.scenes.update(episode.skills)
            break
        else:
            raise GenerationError(f"dialogue {index} ({skill}): no acceptable draft in {MAX_ATTEMPTS} attempts")
    return generated


def write_dialogues(dialogues: list[Dialogue], out: str | Path) -> str:
    """Write the GLM-4 file; returns its sha256."""
    text = "".join(dialogue_to_json_line(d) + "\n" for d in dialogues)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(text, encoding="utf-8")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def open_world(phrasings: Phrasings) -> World:
    return World(HotelStore.open(), phrasings)
