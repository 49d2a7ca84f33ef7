"""The near-X evaluation set: requests for hotels near a place, generated from CrossWOZ's own places.

`build_cases(seed)` draws places of every kind (attractions and restaurants with and without hotels near them,
hotels, subway stations), names each as a user would (its full name, or a short form no other place has), and
writes a request with one of the phrasings of `evalharness.nearx.phrasings`. The answer of each case is the
set of hotels the databases put near the place, computed here from the raw files, not by agent.core.places
(so the set also checks that module):

* attraction / restaurant: the hotels in its 周边酒店, and those listing it in their 周边景点 / 周边餐馆;
* subway station: the hotels whose 地铁 exit is at that station;
* hotel: the other hotels at its station (CrossWOZ lists no hotel near a hotel).

The same seed and data give the same cases, in the same (shuffled) order, so any prefix is a fair sample."""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from agent.core import datafiles
from evalharness.nearx import phrasings

DEFAULT_SEED = 19  # issue 19
# Places drawn per kind: (with hotels near, without). Hotels and stations are drawn at random (every station
# has a hotel; a hotel alone at its station has none near).
QUOTAS = {"attraction": (80, 20), "restaurant": (80, 20)}
HOTELS, STATIONS = 60, 80
PHRASING_KINDS = ("alone", "constrained", "sentence", "followup")
_STATION = re.compile(r"^(.+?)地铁站")
_BRACKETS = re.compile(r"[(（][^)）]*[)）]")
CITY = "北京"


@dataclass(frozen=True)
class NearCase:
    id: str
    kind: str  # attraction, restaurant, hotel or station
    phrasing: str  # alone, constrained, sentence or followup
    place: str  # the database name (a station: its name without 地铁站)
    mention: str  # how the messages name it
    messages: tuple[str, ...]  # the user's messages, in order (a follow-up has an unrelated first search)
    answer: tuple[int, ...]  # hotel_ids near the place (empty: none is)
    constraints: dict[str, float | str] = field(default_factory=dict)  # other arguments the last search must keep

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def station_of(subway: str | None) -> str | None:
    m = _STATION.match(subway or "")
    return m.group(1) if m else None


@dataclass(frozen=True)
class _Place:
    kind: str
    name: str
    answer: tuple[int, ...]


def _read(relative: str) -> list[tuple[str, dict[str, Any]]]:
    return [(name, record) for name, record in json.loads(datafiles.data_path(relative).read_text(encoding="utf-8"))]


def _places() -> list[_Place]:
    hotels = _read(datafiles.HOTEL_DB)
    hotel_ids = {name: i for i, (name, _) in enumerate(hotels)}
    at_station: dict[str, set[int]] = {}
    for i, (_, record) in enumerate(hotels):
        station = station_of(record["地铁"])
        if station:
            at_station.setdefault(station, set()).add(i)
    places = []
    for kind, relative, key in (
        ("attraction", datafiles.ATTRACTION_DB, "周边景点"),
        ("restaurant", datafiles.RESTAURANT_DB, "周边餐馆"),
    ):
        listing: dict[str, set[int]] = {}  # place name → the hotels listing it
        for i, (_, hotel) in enumerate(hotels):
            for name in hotel.get(key) or []:
                listing.setdefault(name, set()).add(i)
        for name, record in _read(relative):
            near = {hotel_ids[h] for h in record.get("周边酒店") or [] if h in hotel_ids} | listing.get(name, set())
            places.append(_Place(kind, name, tuple(sorted(near))))
    for i, (name, record) in enumerate(hotels):
        station = station_of(record["地铁"])
        near = (at_station.get(station, set()) if station else set()) - {i}
        places.append(_Place("hotel", name, tuple(sorted(near))))
    for station in sorted(at_station):
        places.append(_Place("station", station, tuple(sorted(at_station[station]))))
    return places


def _forms(place: _Place) -> list[str]:
    """How a user may name the place: the full name first, then short forms."""
    if place.kind == "station":
        bare = place.name
        return [bare + "地铁站", *([bare + "站"] if not bare.endswith("站") else []), bare]
    main = _BRACKETS.sub("", place.name).strip()
    forms = [place.name, main]
    for form in (place.name, main):
        if form.startswith(CITY) and len(form) > len(CITY) + 2:
            forms.append(form[len(CITY) :])
    return list(dict.fromkeys(f for f in forms if len(f) >= 2))


def _unique_forms(places: Sequence[_Place]) -> dict[_Place, list[str]]:
    """Per place, the forms no other place shares (a short form two places have names neither for sure)."""
    owners: dict[str, set[_Place]] = {}
    for place in places:
        for form in _forms(place):
            owners.setdefault(form, set()).add(place)
    return {p: [f for f in _forms(p) if owners[f] == {p}] for p in places}


def build_cases(seed: int = DEFAULT_SEED) -> list[NearCase]:
    """The set (module docstring): deterministic for a seed and the data files."""
    rng = random.Random(seed)
    places = _places()
    unique = _unique_forms(places)
    chosen: list[_Place] = []
    for kind, (with_hotels, without) in QUOTAS.items():
        of_kind = [p for p in places if p.kind == kind and unique[p]]
        chosen += rng.sample([p for p in of_kind if p.answer], with_hotels)
        chosen += rng.sample([p for p in of_kind if not p.answer], without)
    chosen += rng.sample([p for p in places if p.kind == "hotel" and unique[p]], HOTELS)
    chosen += rng.sample([p for p in places if p.kind == "station" and unique[p]], STATIONS)
    rng.shuffle(chosen)
    cases = []
    for number, place in enumerate(chosen):
        phrasing = PHRASING_KINDS[number % len(PHRASING_KINDS)]
        mention = rng.choice(unique[place])
        messages, constraints = _messages(rng, phrasing, place.kind, mention)
        cases.append(
            NearCase(
                f"{place.kind}-{number:03d}",
                place.kind,
                phrasing,
                place.name,
                mention,
                messages,
                place.answer,
                constraints,
            )
        )
    return cases


def _values(rng: random.Random) -> dict[str, Any]:
    return {
        "type": rng.choice(phrasings.TYPES),
        "price": rng.choice(phrasings.PRICES),
        "rating": rng.choice(phrasings.RATINGS),
    }


# The search argument each placeholder is.
ARGUMENT_OF = {"type": "type", "price": "price_range_upper", "rating": "rating_range_lower"}


def _messages(
    rng: random.Random, phrasing: str, kind: str, mention: str
) -> tuple[tuple[str, ...], dict[str, float | str]]:
    values = _values(rng)
    if phrasing == "alone":
        return (rng.choice(phrasings.ALONE).format(place=mention),), {}
    if phrasing == "sentence":
        return (rng.choice(phrasings.SENTENCE[kind]).format(place=mention),), {}
    if phrasing == "constrained":
        template, keys = rng.choice(phrasings.CONSTRAINED)
        return (template.format(place=mention, **values),), _constraints(keys, values)
    template, keys = rng.choice(phrasings.FIRST_SEARCH)
    first = template.format(**values)
    return (first, rng.choice(phrasings.FOLLOW_UP).format(place=mention)), _constraints(keys, values)


def _constraints(keys: Sequence[str], values: Mapping[str, Any]) -> dict[str, float | str]:
    return {ARGUMENT_OF[k]: (values[k] if k == "type" else float(values[k])) for k in keys}


def set_sha256(cases: Sequence[NearCase]) -> str:
    """One hash of the whole set (phrasings, places, answers): equal hashes mean the same test."""
    text = "\n".join(json.dumps(c.to_json(), ensure_ascii=False, sort_keys=True) for c in cases)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def phrasings_sha256() -> str:
    return hashlib.sha256(Path(phrasings.__file__).read_bytes()).hexdigest()
