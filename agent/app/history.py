"""Saved conversations: a TinyDB file in the cache dir (atomic writes, schema versioned).

Each conversation is saved after every exchange, rating and backend switch, so quitting (or a crash) loses
at most the exchange in flight. `--continue` reopens the most recently updated one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from tinydb import Query

from agent.app.feedback import Feedback, Rating, rate
from agent.core.atomic_storage import Schema, ensure_schema, locked, open_db
from agent.core.datafiles import ensure_cache_dir
from agent.core.errors import DataFormatError, UserError
from agent.core.text import clean_line
from agent.core.turns import AssistantTurn, Dialogue, UserTurn, turn_from_json, turn_to_json

HISTORY_FILE = "history.json"
TABLE = "conversations"
TABLES = (TABLE,)  # the only table of the history file (besides meta); any other name in it is damage
SCHEMA = Schema("conversations", 1)


_last_stamp = datetime.min.replace(tzinfo=timezone.utc)


def now() -> str:
    """The time, in milliseconds, and later than any stamp this process gave before: two saves within one
    millisecond (a rating right after an exchange) must still order as made, or --continue reopens the wrong one."""
    global _last_stamp
    _last_stamp = max(datetime.now(timezone.utc), _last_stamp + timedelta(milliseconds=1))
    return _last_stamp.isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Conversation:
    id: str
    started: str
    updated: str
    backend: str  # the backend of the latest exchange
    model: str | None = None
    dialogue: Dialogue = field(default_factory=Dialogue)
    feedback: tuple[Feedback, ...] = ()

    @property
    def title(self) -> str:
        """The first user message, shortened: what `hotel-agent history` shows."""
        first = next((t.content for t in self.dialogue if isinstance(t, UserTurn)), "")
        first = " ".join(first.split())
        return first if len(first) <= 40 else first[:39] + "…"

    def with_rating(self, turn: int, rating: Rating) -> Conversation:
        if turn >= len(self.dialogue) or not isinstance(self.dialogue[turn], AssistantTurn):
            raise ValueError(f"turn {turn} is not an agent reply")
        return replace(self, feedback=rate(self.feedback, Feedback(turn, rating, now())))

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "started": self.started,
            "updated": self.updated,
            "backend": self.backend,
            "model": self.model,
            "turns": [turn_to_json(t) for t in self.dialogue],
            "feedback": [f.to_json() for f in self.feedback],
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Conversation:
        """The conversation stored as `doc`; DataFormatError naming what is wrong (a file edited by hand, or
        written by a program that is not this one)."""
        name = clean_line(repr(doc.get("id", "?")))[:40]
        unknown = sorted(set(doc) - set(_FIELDS))
        if unknown:  # a field renamed by damage: reading on without it would drop what it held
            raise DataFormatError(f"conversation {name} is damaged (unknown field {clean_line(repr(unknown[0]))[:40]})")
        for key, kinds in _FIELDS.items():
            if not isinstance(doc.get(key), kinds):
                raise DataFormatError(f"conversation {name} is damaged ({key} is {_kind(doc.get(key))})")
        try:
            return cls(
                doc["id"],
                doc["started"],
                doc["updated"],
                doc["backend"],
                doc.get("model"),
                Dialogue(turn_from_json(t) for t in doc["turns"]),
                tuple(Feedback.from_json(f) for f in doc.get("feedback") or []),
            )
        except (KeyError, TypeError, ValueError, AttributeError, DataFormatError) as e:
            raise DataFormatError(f"conversation {name} is damaged ({clean_line(str(e))[:80]})") from None


# What each field of a stored conversation holds.
_FIELDS: dict[str, type | tuple[type, ...]] = {
    "id": str,
    "started": str,
    "updated": str,
    "backend": str,
    "model": (str, type(None)),
    "turns": list,
    "feedback": (list, type(None)),
}


def _kind(value: Any) -> str:
    return "missing" if value is None else f"a {type(value).__name__}"


@dataclass(frozen=True)
class Listing:
    """The conversations that read well, the most recently updated first, and a line for each that does not."""

    conversations: list[Conversation]
    damaged: list[str]

    @property
    def newest(self) -> Conversation | None:
        """What --continue reopens: the most recently updated conversation that reads well."""
        return self.conversations[0] if self.conversations else None


class ConversationHistory:
    def __init__(self, path: Path):
        self.path = Path(path)
        with locked(self.path):
            ensure_schema(open_db(self.path, TABLES), SCHEMA)

    def _table(self):
        # A fresh TinyDB per operation: a Table caches its next document id, which another process (a second
        # chat window) may have used in the meantime.
        return open_db(self.path, TABLES).table(TABLE)

    @classmethod
    def open(cls) -> ConversationHistory:
        return cls(ensure_cache_dir() / HISTORY_FILE)

    @staticmethod
    def new(backend: str, model: str | None = None) -> Conversation:
        """A conversation not yet saved (an empty one never is)."""
        stamp = now()
        return Conversation(uuid.uuid4().hex[:12], stamp, stamp, backend, model)

    def save(self, conversation: Conversation) -> Conversation:
        """Write `conversation` (replacing its earlier version); returns it with `updated` set."""
        saved = replace(conversation, updated=now())
        with locked(self.path):
            self._table().upsert(saved.to_json(), Query().id == saved.id)
        return saved

    def listing(self) -> Listing:
        """Every saved conversation that reads well, the most recently updated first, and a line for each
        damaged one: it is skipped (the others still load) and left in the file, never deleted unasked."""
        conversations, damaged = [], []
        for doc in sorted(self._table().all(), key=lambda d: (str(d.get("updated", "")), d.doc_id), reverse=True):
            try:
                conversations.append(Conversation.from_json(dict(doc)))
            except DataFormatError as e:
                damaged.append(str(e).replace(" is damaged", f" in {self.path} is damaged", 1))
        return Listing(conversations, damaged)

    def all(self) -> list[Conversation]:
        """Every saved conversation that reads well, the most recently updated first."""
        return self.listing().conversations

    def last(self) -> Conversation | None:
        return self.listing().newest

    def get(self, id_prefix: str) -> Conversation:
        """The conversation whose id starts with `id_prefix` (as `hotel-agent history` prints it)."""
        matches = [c for c in self.all() if c.id.startswith(id_prefix)]
        if not matches:  # perhaps a damaged one: say so rather than that there is none
            stored = self.stored_id(id_prefix)
            doc = self._table().get(Query().id == stored)
            try:
                Conversation.from_json(dict(doc or {}))
            except DataFormatError as e:
                where = str(e).replace(" is damaged", f" in {self.path} is damaged", 1)
                raise DataFormatError(
                    f"{where}; `hotel-agent history --delete {clean_line(stored)}` removes it"
                ) from None
        if len(matches) != 1:
            what = "no" if not matches else "more than one"
            raise UserError(f"{what} conversation has an id starting with {id_prefix!r} in {self.path}")
        return matches[0]

    def delete(self, conversation_id: str) -> bool:
        with locked(self.path):
            return bool(self._table().remove(Query().id == conversation_id))

    def stored_id(self, id_prefix: str) -> str:
        """The id, starting with `id_prefix`, of a stored conversation, damaged or not: what `--delete` takes,
        so that a damaged conversation can be removed by the user who was told about it."""
        ids = {d.get("id") for d in self._table().all() if isinstance(d.get("id"), str)}  # damage may make it a list
        matches = sorted(i for i in ids if i.startswith(id_prefix))
        if len(matches) != 1:
            what = "no" if not matches else "more than one"
            raise UserError(f"{what} conversation has an id starting with {id_prefix!r} in {self.path}")
        return matches[0]
