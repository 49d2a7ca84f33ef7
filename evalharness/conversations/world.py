"""A fresh world per conversation: a copy of the hotel store and empty bookings, in a temporary directory.

The store is built once per run (from $HOTEL_AGENT_DATA, into a temporary cache, never the user's); each
conversation then gets its own store: copies of the hotel records and its own database file for the bookings, so
what one conversation booked can neither help nor hurt the next, and nothing touches the user's own bookings.
The hotels table is not written into each file: a HotelStore searches the records it holds in memory, and writing
530 KB of hotels per conversation (then re-reading them on every bookings query) tripled a suite's run time. The
facility map is shared read-only."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from agent.core.atomic_storage import open_db
from agent.core.bookings import Bookings
from agent.core.store import STORE_FILE, HotelStore


@dataclass(frozen=True)
class World:
    store: HotelStore
    bookings: Bookings


class Worlds:
    """`with Worlds() as worlds:` builds the template store; `with worlds.fresh() as world:` gives one copy.
    `Worlds(template)` starts from a store built earlier (tests share one), which it leaves open."""

    def __init__(self, template: HotelStore | None = None) -> None:
        self._root: Path | None = None
        self._template = template
        self._owns_template = template is None
        self._count = 0

    def __enter__(self) -> Worlds:
        self._root = Path(tempfile.mkdtemp(prefix="hotel-agent-converse-"))
        if self._owns_template:
            self._template = HotelStore.open(self._root / "template" / STORE_FILE)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._owns_template and self._template is not None:
            self._template.db.close()
            self._template = None
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)

    @property
    def template(self) -> HotelStore:
        """The store every copy starts from (read it, never book in it)."""
        if self._template is None:
            raise RuntimeError("Worlds used outside its `with` block")
        return self._template

    @contextmanager
    def fresh(self) -> Iterator[World]:
        template = self.template
        assert self._root is not None
        self._count += 1
        directory = self._root / f"world-{self._count}"
        directory.mkdir()
        path = directory / STORE_FILE
        store = HotelStore(open_db(path), template.records(), template.facility_map, path)
        try:
            yield World(store, Bookings(store))
        finally:
            store.db.close()
            shutil.rmtree(directory, ignore_errors=True)
