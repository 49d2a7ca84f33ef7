"""User goals for the simulator, drawn from the hotel database with a seed (ConvLab-2's goal model, for one
domain): constraints that a real hotel satisfies, facts to ask about the hotel chosen, a booking with its details,
and sometimes a change of mind or a cancellation.

Goal `i` of seed `s` depends on (s, i) alone, so the first 100 goals of a 500-goal run are the 100 of a 100-goal
run. The drawn hotel satisfies the constraints by construction; any other hotel that satisfies them is as good.
Whether a hotel satisfies them is judged here from its database record, with the evaluator's own facility words
(facility_words) and CrossWOZ's nearby lists, never with the agent's code."""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from typing import Any

from agent.core.datafiles import HOTEL_DB, data_dir, data_path
from evalharness.conversations.facility_words import offers

HOTEL_TYPES = ("经济型", "舒适型", "高档型", "豪华型")
INFORM_FIELDS = ("phone", "address", "subway", "price", "rating")
# Facility words a simulated user says (each means the database facilities facility_words gives it).
SPOKEN_FACILITIES = (
    "wifi",
    "无线网络",
    "宽带",
    "健身房",
    "游泳池",
    "停车位",
    "早餐",
    "免费早餐",
    "接机服务",
    "接站服务",
    "叫醒服务",
    "行李寄存",
    "吹风机",
    "洗衣服务",
    "商务中心",
    "会议室",
    "桑拿",
    "SPA",
    "温泉",
    "棋牌室",
    "酒吧",
    "暖气",
    "中餐厅",
    "西餐厅",
    "国际长途电话",
    "无烟房",
    "残疾人设施",
    "接待外宾",
)
# Guests of simulated bookings: names that hold no word an agent could read as a date, type or facility.
GUESTS = (
    "王建国",
    "李秀英",
    "张志强",
    "刘桂芳",
    "陈晓东",
    "杨丽华",
    "黄振宇",
    "赵雪梅",
    "吴俊杰",
    "徐海燕",
    "孙立新",
    "胡晓光",
    "朱红霞",
    "高文博",
    "林嘉怡",
    "郭子豪",
    "何雨桐",
    "罗新宇",
    "梁思远",
    "宋佳琪",
)
NIGHTS = (1, 1, 2, 2, 2, 3, 3, 4, 5, 7)
MAX_DAYS_AHEAD = 60
CHANGE_SHARE = 0.15  # goals whose first request says something the user later changes
CANCEL_SHARE = 0.10  # goals that cancel the booking once it is made
AT_ONCE_SHARE = 0.5  # goals that give every booking detail in one message


@dataclass(frozen=True)
class Constraints:
    type: str | None = None
    price_upper: int | None = None
    price_lower: int | None = None
    rating_lower: float | None = None
    facilities: tuple[str, ...] = ()  # spoken facility words (SPOKEN_FACILITIES)
    near: str | None = None  # a place (an attraction) the hotel must be near

    def unmet(self, record: Mapping[str, Any]) -> list[str]:
        """The constraints `record` (a hotel record of the store) does not satisfy."""
        missed = []
        if self.type is not None and record.get("type") != self.type:
            missed.append("type")
        price = float(record["price"]) if _priced(record) else None  # no price fails any price bound
        if self.price_upper is not None and (price is None or price > self.price_upper):
            missed.append("price_upper")
        if self.price_lower is not None and (price is None or price < self.price_lower):
            missed.append("price_lower")
        if self.rating_lower is not None and not float(record.get("rating", 0)) >= self.rating_lower:
            missed.append("rating_lower")
        missed.extend(f"facility {f}" for f in self.facilities if not offers(record.get("facilities") or [], f))
        if self.near is not None and not is_near(record, self.near):
            missed.append("near")
        return missed

    def satisfied_by(self, record: Mapping[str, Any]) -> bool:
        return not self.unmet(record)

    def keys(self) -> list[str]:
        return [k for k, v in asdict(self).items() if v not in (None, ())]


@dataclass(frozen=True)
class Change:
    """A change of mind: the first request says `said` for `key`; after the first results the user changes it
    (to the goal's value, or drops the key when the goal has none)."""

    key: str  # "type", "price_upper" or "rating_lower"
    said: Any


@dataclass(frozen=True)
class BookingWish:
    guest: str
    check_in: dt.date
    nights: int


@dataclass(frozen=True)
class Goal:
    index: int
    seed: int
    hotel_id: int  # the hotel the goal was drawn from (it satisfies the constraints)
    constraints: Constraints
    requests: tuple[str, ...]  # facts to ask about the chosen hotel (INFORM_FIELDS)
    booking: BookingWish
    change: Change | None = None
    cancel: bool = False
    at_once: bool = True  # every booking detail in one message (else over several turns)
    held_back: tuple[str, ...] = field(default=())  # constraint keys given in a second message, not the first

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["booking"]["check_in"] = self.booking.check_in.isoformat()
        return data

    @property
    def kinds(self) -> list[str]:
        """Labels the report breaks results down by."""
        labels = ["at-once" if self.at_once else "slot-filling"]
        if self.change is not None:
            labels.append(f"change-{self.change.key}")
        if self.cancel:
            labels.append("cancel")
        if self.requests:
            labels.append("informs")
        if self.held_back:
            labels.append("added-constraint")
        if self.constraints.near is not None:
            labels.append("near")
        return labels


def draw_goals(
    records: Sequence[Mapping[str, Any]], count: int, seed: int, today: dt.date, near_share: float = 0.0
) -> list[Goal]:
    return [draw_goal(records, index, seed, today, near_share) for index in range(count)]


def draw_goal(
    records: Sequence[Mapping[str, Any]], index: int, seed: int, today: dt.date, near_share: float = 0.0
) -> Goal:
    rng = random.Random(f"{seed}:{index}")
    near_place = None
    if near_share > 0 and rng.random() < near_share:
        hotel, near_place = _hotel_with_a_place(records, rng)
    else:
        hotel = rng.choice([r for r in records if _priced(r)])
    constraints = _constraints(hotel, rng, near_place)
    change = _change(hotel, constraints, rng) if rng.random() < CHANGE_SHARE else None
    if change is not None and change.key == "type" and constraints.type is None:
        constraints = replace(constraints, type=hotel["type"])  # the type the user changes to
    requests = tuple(rng.sample(INFORM_FIELDS, rng.choice((0, 1, 1, 2))))
    booking = BookingWish(
        guest=rng.choice(GUESTS),
        check_in=today + dt.timedelta(days=rng.randint(0, MAX_DAYS_AHEAD)),
        nights=rng.choice(NIGHTS),
    )
    keys = [k for k in constraints.keys() if k != "near"]
    held_back: tuple[str, ...] = ()
    if len(keys) >= 2 and rng.random() < 0.25:
        held_back = (rng.choice([k for k in keys if change is None or k != change.key]),)
    return Goal(
        index=index,
        seed=seed,
        hotel_id=int(hotel["hotel_id"]),
        constraints=constraints,
        requests=requests,
        booking=booking,
        change=change,
        cancel=rng.random() < CANCEL_SHARE,
        at_once=rng.random() < AT_ONCE_SHARE,
        held_back=held_back,
    )


def _priced(record: Mapping[str, Any]) -> bool:
    price = record.get("price")
    return isinstance(price, (int, float)) and price >= 0


def _constraints(hotel: Mapping[str, Any], rng: random.Random, near: str | None) -> Constraints:
    kinds = ["type", "price", "rating", "facility"]
    chosen = set(rng.sample(kinds, rng.choice((1, 2, 2, 3))))
    price = float(hotel["price"])
    facilities: tuple[str, ...] = ()
    if "facility" in chosen:
        offered = [f for f in SPOKEN_FACILITIES if offers(hotel["facilities"], f)]
        # one wifi word is enough: wifi and 无线网络 mean the same facilities
        offered = [f for f in offered if f != "无线网络"] if "wifi" in offered else offered
        facilities = tuple(rng.sample(offered, min(len(offered), rng.choice((1, 1, 2))))) if offered else ()
    price_upper = price_lower = None
    if "price" in chosen:
        if rng.random() < 0.8:
            price_upper = int(math.ceil((price + 1) / 100.0) * 100) + rng.choice((0, 0, 100))
        elif price >= 200:
            price_lower = int(price // 100) * 100
    rating_lower = None
    if "rating" in chosen and float(hotel["rating"]) >= 3.5:
        rating_lower = max(3.0, math.floor(float(hotel["rating"]) * 2) / 2 - rng.choice((0.0, 0.0, 0.5)))
    constraints = Constraints(
        type=hotel["type"] if "type" in chosen else None,
        price_upper=price_upper,
        price_lower=price_lower,
        rating_lower=rating_lower,
        facilities=facilities,
        near=near,
    )
    if not constraints.keys():  # every drawn kind came out empty (no facility, low rating): fall back to the type
        constraints = Constraints(type=hotel["type"], near=near)
    assert constraints.satisfied_by(hotel), (hotel["name"], constraints)
    return constraints


def _change(hotel: Mapping[str, Any], constraints: Constraints, rng: random.Random) -> Change | None:
    """A first request the user takes back: another type (then the goal's), a price too low or a rating too high
    (then no price / rating limit at all)."""
    options: list[Change] = [Change("type", rng.choice([t for t in HOTEL_TYPES if t != hotel["type"]]))]
    price = float(hotel["price"])
    if constraints.price_upper is None and constraints.price_lower is None and price >= 200:
        options.append(Change("price_upper", int(price // 200) * 100))  # about half the hotel's price
    if constraints.rating_lower is None and float(hotel["rating"]) < 4.5:
        options.append(Change("rating_lower", 4.8))
    return rng.choice(options)


def _hotel_with_a_place(records: Sequence[Mapping[str, Any]], rng: random.Random) -> tuple[Mapping[str, Any], str]:
    nearby = _nearby_attractions()
    candidates = [r for r in records if _priced(r) and nearby.get(r["hotel_id"])]
    hotel = rng.choice(candidates)
    return hotel, rng.choice(sorted(nearby[hotel["hotel_id"]]))


def is_near(record: Mapping[str, Any], place: str) -> bool:
    """CrossWOZ's own nearby relation: the hotel lists the attraction, or the attraction lists the hotel."""
    listed = _nearby_attractions().get(int(record.get("hotel_id", -1)), frozenset())
    return place in listed or record.get("name") in _hotels_near_attraction().get(place, frozenset())


@lru_cache(maxsize=1)
def _nearby_attractions() -> dict[int, frozenset[str]]:
    """hotel_id -> the attractions hotel_db lists as nearby (hotel ids are positions in the file)."""
    entries = json.loads(data_path(HOTEL_DB).read_text(encoding="utf-8"))
    return {i: frozenset(raw.get("周边景点") or ()) for i, (_, raw) in enumerate(entries)}


@lru_cache(maxsize=1)
def _hotels_near_attraction() -> dict[str, frozenset[str]]:
    path = data_dir() / "crosswoz" / "attraction_db.json"
    if not path.is_file():
        return {}
    entries = json.loads(path.read_text(encoding="utf-8"))
    return {name: frozenset(raw.get("周边酒店") or ()) for name, raw in entries}
