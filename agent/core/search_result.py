"""What a hotel search returns to the dialogue loop and the front ends."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SearchResult:
    records: list[
        dict[str, Any]
    ]  # course record format: name, type, address, subway, phone, facilities, price, rating, hotel_id
    relaxed: tuple[str, ...] = ()  # argument keys that had to be dropped to find anything (empty: every constraint met)
    unmapped: tuple[str, ...] = field(default=())  # facility phrases that match no database facility
    total: int | None = None  # hotels that matched before the limit cut the list (None: not counted)

    @property
    def matched(self) -> int:
        """How many hotels matched (at least the records shown)."""
        return self.total if self.total is not None else len(self.records)

    @property
    def exact(self) -> bool:
        return not self.relaxed
