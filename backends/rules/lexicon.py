"""What the rules backend knows, mined from the train split and the hotel database only (never dev or
test): facility phrases users write, hotel names and their short forms, and the train replies the NLG
borrows its phrasing from. Mined once and cached under the cache dir, keyed by the train file's sha256."""
from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from agent.codecs import read_dialogues
from agent.datafiles import HOTEL_DB, TRAIN, cache_dir, data_path, sha256_of
from agent.turns import AssistantTurn, ReturnTurn, SearchTurn, UserTurn

LEXICON_VERSION = 3  # bump when the mining changes, so stale caches are rebuilt


@dataclass
class Lexicon:
    facility_phrases: list[str]  # user phrasings of facilities, longest first
    db_facilities: list[str]  # the database's own facility names
    names: list[str]  # hotel names and short names users type, longest first
    db_names: list[str]  # full database names, index = hotel_id
    templates: dict[str, list[str]] = field(default_factory=dict)  # reply templates by situation, best first

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> "Lexicon":
        return cls(**obj)


def short_names(name: str) -> set[str]:
    """北京泰山饭店(王府井店) → {泰山饭店, 北京泰山饭店, 泰山饭店(王府井店), ...}: how users shorten names."""
    out = {name}
    base = re.sub(r"[(（].*?[)）]", "", name).strip()
    for candidate in (name, base):
        out.add(candidate)
        if candidate.startswith("北京") and len(candidate) > 4:
            out.add(candidate[2:])
    return {n for n in out if len(n) >= 3}


def mine(train_path: Path, db_path: Path) -> Lexicon:
    db = json.loads(db_path.read_text(encoding="utf-8"))
    db_names = [name for name, _ in db]
    db_facilities = sorted({f.strip() for _, r in db for f in r["酒店设施"] if f.strip()}, key=len, reverse=True)
    phrase_hits: Counter[str] = Counter()
    names: set[str] = set()
    for name in db_names:
        names |= short_names(name)
    from backends.rules.nlg import TemplateBank, reply_example  # the NLG decides what of a reply it keeps

    examples = []
    for dialogue in read_dialogues(train_path):
        user = ""
        for i, turn in enumerate(dialogue):
            if isinstance(turn, UserTurn):
                user = turn.content
            elif isinstance(turn, SearchTurn):
                for phrase in turn.arguments.get("facilities") or []:
                    if isinstance(phrase, str) and phrase in user:
                        phrase_hits[phrase] += 1
                name = turn.arguments.get("name")
                if isinstance(name, str) and name in user:
                    names.add(name)
            elif isinstance(turn, AssistantTurn):
                example = reply_example(dialogue[:i], turn.content)
                if example is not None:
                    examples.append(example)
    phrases = set(phrase_hits) | set(db_facilities)
    return Lexicon(
        facility_phrases=sorted(phrases, key=lambda p: (-len(p), p)),
        db_facilities=db_facilities,
        names=sorted(names, key=lambda n: (-len(n), n)),
        db_names=db_names,
        templates=TemplateBank.from_examples(examples).by_key,
    )


_CACHED: dict[str, Lexicon] = {}
# The modules whose code decides what mining keeps: a change to any of them invalidates the cache.
_MINING_MODULES = ("lexicon.py", "nlg.py", "nlu.py", "numbers.py")


def _code_digest() -> str:
    digest = hashlib.sha256()
    here = Path(__file__).parent
    for name in _MINING_MODULES:
        digest.update((here / name).read_bytes())
    return digest.hexdigest()[:12]


def lexicon_cache_key() -> str:
    """Mining version, train and database sha256 (prefixes) and the mining code's digest."""
    train, db = data_path(TRAIN), data_path(HOTEL_DB)
    return f"v{LEXICON_VERSION}-{sha256_of(train)[:16]}-{sha256_of(db)[:16]}-{_code_digest()}"


def load_lexicon() -> Lexicon:
    """The lexicon for the current train file: from memory, else the cache dir, else mined (and cached)."""
    train, db = data_path(TRAIN), data_path(HOTEL_DB)
    key = lexicon_cache_key()
    if key in _CACHED:
        return _CACHED[key]
    path = cache_dir() / "rules" / f"lexicon-{key}.json"
    lexicon = None
    if path.is_file():
        try:
            lexicon = Lexicon.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, TypeError):
            lexicon = None  # a stale or damaged cache is rebuilt below
    if lexicon is None:
        lexicon = mine(train, db)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(lexicon.to_json(), ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)
        for stale in path.parent.glob("lexicon-*.json"):  # mined by older code or data: never read again
            if stale != path:
                stale.unlink(missing_ok=True)
    _CACHED[key] = lexicon
    return lexicon
