"""What a hotel search returns to the dialogue loop and the front ends."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class NearPlace:
    """How a search's `near` argument was understood."""

    query: str  # the argument as given (故宫, 三里屯附近)
    name: str | None  # the place it resolved to (None: no such place in the databases)
    kind: str | None = None  # agent.core.places kind: attraction, restaurant, hotel, station
    label: str | None = None  # how to name it to a user (故宫, 西直门地铁站)
    nearby: int = 0  # hotels near it before any other constraint (0: the data lists none)
    alternatives: tuple[str, ...] = ()  # other places the query could mean (the best-supported was taken)

    @property
    def known(self) -> bool:
        return self.name is not None


@dataclass(frozen=True)
class SearchResult:
    records: list[
        dict[str, Any]
    ]  # course record format: name, type, address, subway, phone, facilities, price, rating, hotel_id
    relaxed: tuple[str, ...] = ()  # argument keys that had to be dropped to find anything (empty: every constraint met)
    unmapped: tuple[str, ...] = field(default=())  # facility phrases that match no database facility
    total: int | None = None  # hotels that matched before the limit cut the list (None: not counted)
    near: NearPlace | None = None  # the `near` place, when the search had one
    near_reasons: tuple[str, ...] = ()  # per record, why it is near the place (agent.core.places.LISTED / ...)

    @property
    def matched(self) -> int:
        """How many hotels matched (at least the records shown)."""
        return self.total if self.total is not None else len(self.records)

    @property
    def exact(self) -> bool:
        return not self.relaxed

    def head(self, limit: int) -> SearchResult:
        """The first `limit` records (and their reasons); `total` still counts every match."""
        return replace(self, records=self.records[:limit], near_reasons=self.near_reasons[:limit], total=self.matched)
