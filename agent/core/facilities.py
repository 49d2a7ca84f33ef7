"""From the user's facility words (无线网络, 全天供应热水, 能打国际长途…) to the database's 39 facility names.

The course's `facilities` arguments are colloquial rewrites of CrossWOZ's facility names, while the records
each search returned still come from the original query. So every phrase's database facility can be read
off the training searches: it is the facility present in every record the search returned, search after
search. `learn_phrase_map` scores each candidate facility of a phrase with a likelihood ratio (a facility few
hotels offer that keeps showing up is strong evidence; a search where it is missing counts against it, at the
rate of the data's noise) plus a character-similarity prior, and keeps the best one.

Learned from train.glm4.jsonl ONLY, so dev and test measure how well the mapping generalizes. A phrase never
seen in training falls back to known phrases (learned ones and the database names themselves): the phrases
that contain it (无线网络 ⊂ 公共区域和一些房间提供无线网络, 所有客房都有无线网络… → every wifi facility),
else the most similar one by characters. A phrase close to nothing maps to () and the caller reports it.
Characters are compared as sets, with filler characters (的, 提供, 服务…) weighing little and every way of
saying wifi (无线网络, 无线上网, 无线网) spelled `wifi`: the one synonym characters cannot see."""

from __future__ import annotations

import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.core.atomic_storage import ensure_dir, write_atomically
from agent.core.codecs import read_dialogues
from agent.core.datafiles import sha256_of
from agent.core.errors import StorageError
from agent.core.turns import ReturnTurn, SearchTurn

# Assumed share of training searches whose records lack the phrase's facility anyway (relaxed searches, label
# noise). Chosen by reading the learned map: at 0.1, facilities most hotels have (吹风机) beat the one named
# (无烟房); at 0.02 they do not.
NOISE_RATE = 0.02
# Weight of the character-similarity prior against the evidence of the returned records (log-odds units);
# 15 fixed 全天热水 → 24小时热水 and 温泉 → 温泉 that lower weights got wrong, and broke nothing we saw.
SIMILARITY_WEIGHT = 15.0
# Evidence one search can give (−log of the share of hotels with the facility): a facility of almost no
# hotel is not infinitely convincing.
MAX_EVIDENCE_PER_SEARCH = 3.0
# An unseen phrase needs at least this similarity to a known phrase to borrow its mapping.
FALLBACK_MIN_SIMILARITY = 0.5
CACHE_VERSION = 1

_TOKEN = re.compile(r"[a-z0-9]+|[^\sa-z0-9]", re.IGNORECASE)


def normalize_phrase(phrase: str) -> str:
    return re.sub(r"\s+", "", phrase).lower()


# The one synonym the characters cannot see: the database says wifi, users say 无线网络 / 无线上网 / 无线网.
_WIFI = re.compile(r"wi-?fi|无线网络|无线上网|无线网")


def canonical(text: str) -> str:
    """The phrase as compared with others: normalized, every way of saying wifi spelled `wifi`."""
    return _WIFI.sub("wifi", normalize_phrase(text))


def _tokens(text: str) -> set[str]:
    # Characters, but runs of Latin letters/digits as one token: "wifi" is one word, not four letters.
    return set(_TOKEN.findall(canonical(text)))


# Characters that say little about which facility is meant (服务 ends half the names); they count a quarter.
WEAK_TOKENS = frozenset("的有提供都可以和在是了及个各处服务设施酒店客")
WEAK_WEIGHT = 0.25


def _weight(tokens: set[str]) -> float:
    return sum(WEAK_WEIGHT if t in WEAK_TOKENS else 1.0 for t in tokens)


def similarity(a: str, b: str) -> float:
    """Weighted Dice coefficient of the two phrases' character sets (order-free: 游泳池在室内 ~ 室内游泳池)."""
    ta, tb = _tokens(a), _tokens(b)
    if not ta or not tb:
        return 0.0
    return 2 * _weight(ta & tb) / (_weight(ta) + _weight(tb))


@dataclass(frozen=True)
class Observation:
    """One training search: its facility phrases and the facilities of each record it returned."""

    phrases: tuple[str, ...]
    returned: tuple[frozenset[str], ...]


def observations_from_file(path: str | Path, hotel_facilities: Sequence[frozenset[str]]) -> list[Observation]:
    """Every search with facilities and a non-empty return in a GLM-4 dialogue file. Facilities of the returned
    hotels are taken from the database by hotel_id (a few course records carry them as one string)."""
    found = []
    for dialogue in read_dialogues(path):
        turns = dialogue.turns
        for turn, following in zip(turns, turns[1:]):
            if not (isinstance(turn, SearchTurn) and isinstance(following, ReturnTurn) and following.records):
                continue
            phrases = turn.arguments.get("facilities")
            if not isinstance(phrases, list):
                continue
            ids = [r.get("hotel_id") for r in following.records]
            valid = [i for i in ids if isinstance(i, int) and 0 <= i < len(hotel_facilities)]
            if len(valid) != len(ids):
                continue
            found.append(
                Observation(
                    tuple(normalize_phrase(p) for p in phrases if isinstance(p, str) and p.strip()),
                    tuple(hotel_facilities[i] for i in valid),
                )
            )
    return found


def learn_phrase_map(
    observations: Iterable[Observation], hotel_facilities: Sequence[frozenset[str]]
) -> dict[str, tuple[str, ...]]:
    """phrase -> (its database facility,) from the evidence of the observations; see the module docstring."""
    counts = Counter(f for facilities in hotel_facilities for f in facilities)
    base_rate = {f: n / len(hotel_facilities) for f, n in counts.items()}
    evidence: dict[str, defaultdict[str, float]] = defaultdict(lambda: defaultdict(float))
    seen: Counter[str] = Counter()
    present: dict[str, Counter[str]] = defaultdict(Counter)
    for obs in observations:
        in_all = frozenset.intersection(*obs.returned)
        per_search = {f: min(-math.log(base_rate[f]), MAX_EVIDENCE_PER_SEARCH) for f in in_all}
        for phrase in obs.phrases:
            seen[phrase] += 1
            for f in in_all:
                present[phrase][f] += 1
                evidence[phrase][f] += per_search[f]
    learned: dict[str, tuple[str, ...]] = {}
    for phrase, n in seen.items():

        def score(f: str, n: int = n, phrase: str = phrase) -> float:
            missing = n - present[phrase][f]
            return evidence[phrase][f] + missing * math.log(NOISE_RATE) + SIMILARITY_WEIGHT * similarity(phrase, f)

        if present[phrase]:
            # ties (rare) go to the rarer facility, then the name, so the map never depends on dict order
            learned[phrase] = (max(present[phrase], key=lambda f: (score(f), -counts[f], f)),)
    return learned


@dataclass(frozen=True)
class FacilityMap:
    """Maps user phrases to database facility names. `map(phrase)` is () when nothing is close."""

    facilities: tuple[str, ...]  # the database's facility names
    learned: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def map(self, phrase: str) -> tuple[str, ...]:
        key = normalize_phrase(phrase)
        if not key:
            return ()
        for name in self.facilities:
            if normalize_phrase(name) == key:
                return (name,)
        if key in self.learned:
            return self.learned[key]
        return self._fallback(key)

    def _known(self) -> dict[str, tuple[str, ...]]:
        known = dict(self.learned)
        known.update({normalize_phrase(f): (f,) for f in self.facilities})
        return known

    def _fallback(self, key: str) -> tuple[str, ...]:
        known = self._known()
        key = canonical(key)
        containing = [mapped for phrase, mapped in known.items() if len(key) >= 2 and key in canonical(phrase)]
        if containing:
            return _union(containing, self.facilities)
        scored = [(similarity(key, phrase), mapped) for phrase, mapped in known.items()]
        best = max((s for s, _ in scored), default=0.0)
        if best < FALLBACK_MIN_SIMILARITY:
            return ()
        return _union([mapped for s, mapped in scored if s == best], self.facilities)


def _union(mappings: Iterable[tuple[str, ...]], order: Sequence[str]) -> tuple[str, ...]:
    wanted = {f for mapped in mappings for f in mapped}
    return tuple(f for f in order if f in wanted)  # a fixed order (most common facility first): stable output


def _parameters() -> dict[str, object]:
    # Part of the cache key: changing a knob relearns the map instead of serving a stale one.
    return {
        "noise_rate": NOISE_RATE,
        "similarity_weight": SIMILARITY_WEIGHT,
        "max_evidence": MAX_EVIDENCE_PER_SEARCH,
        "weak_tokens": "".join(sorted(WEAK_TOKENS)),
        "weak_weight": WEAK_WEIGHT,
    }


def database_facilities(hotel_facilities: Sequence[frozenset[str]]) -> tuple[str, ...]:
    """The distinct facility names, most common first (ties by name)."""
    counts = Counter(f for facilities in hotel_facilities for f in facilities)
    return tuple(sorted(counts, key=lambda f: (-counts[f], f)))


def load_facility_map(
    hotel_facilities: Sequence[frozenset[str]], train_path: Path | None, cache_dir: Path | None
) -> FacilityMap:
    """The facility map, learned from `train_path` (None: database names and similarity only).

    Learning reads the whole training file, so the result is cached in `cache_dir` under the training file's
    sha256 and the database's facility names; opening the store then costs one hash and one small read."""
    names = database_facilities(hotel_facilities)
    if train_path is None:
        return FacilityMap(names)
    sha = sha256_of(train_path)
    cache = cache_dir / "facility_map.json" if cache_dir is not None else None
    if cache is not None and cache.is_file():
        cached = _read_cache(cache)
        if (
            cached.get("version") == CACHE_VERSION
            and cached.get("train_sha256") == sha
            and cached.get("facilities") == list(names)
            and cached.get("parameters") == _parameters()
        ):
            return FacilityMap(names, cached["learned"])
    learned = learn_phrase_map(observations_from_file(train_path, hotel_facilities), hotel_facilities)
    if cache is not None:
        _save_cache(
            cache,
            json.dumps(
                {
                    "version": CACHE_VERSION,
                    "train_sha256": sha,
                    "facilities": list(names),
                    "parameters": _parameters(),
                    "learned": {p: list(fs) for p, fs in sorted(learned.items())},
                },
                ensure_ascii=False,
                indent=1,
            ),
        )
    return FacilityMap(names, learned)


def _read_cache(path: Path) -> dict[str, Any]:
    """The cached map ({} when the file is unreadable or not of our making: it is learned again then)."""
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        learned = cached["learned"]
        if not all(isinstance(fs, list) and all(isinstance(f, str) for f in fs) for fs in learned.values()):
            return {}
        cached["learned"] = {p: tuple(fs) for p, fs in learned.items()}
    except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return {}
    return cached


def _save_cache(path: Path, text: str) -> None:
    """Write the cache when the cache dir allows; a read-only or full one only costs learning again next time."""
    try:
        ensure_dir(path.parent)
        write_atomically(path, text)
    except StorageError:
        pass
