"""What the rules backend knows, mined from the train split and the hotel database only (never dev or
test): facility phrases users write, hotel names and their short forms, and the train replies the NLG
borrows its phrasing from. Mined once and cached under the cache dir, keyed by the train file's sha256."""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from agent.core import hotel_names
from agent.core.atomic_storage import ensure_dir, write_atomically
from agent.core.codecs import read_dialogues
from agent.core.datafiles import HOTEL_DB, TRAIN, cache_dir, data_path, sha256_of
from agent.core.errors import StorageError
from agent.core.hotel_names import main_name, short_forms
from agent.core.turns import AssistantTurn, SearchTurn, UserTurn

LEXICON_VERSION = 4  # bump when the mining changes, so stale caches are rebuilt
ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")  # keeps every offset


@dataclass
class Lexicon:
    facility_phrases: list[str]  # user phrasings of facilities, longest first
    facility_heads: list[str]  # the nouns inside those phrases and the database's names (无线网络, 早餐), longest first
    db_facilities: list[str]  # the database's own facility names
    names: list[str]  # hotel names and short names users type, longest first
    db_names: list[str]  # full database names, index = hotel_id
    templates: dict[str, list[str]] = field(default_factory=dict)  # reply templates by situation, best first

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @cached_property
    def facility_terms(self) -> tuple[str, ...]:
        """Phrases and heads, ASCII-lowercased, longest first (a phrase before a head of its length): what a
        message (lowercased the same way) is matched by."""
        phrases = set(self.facility_phrases)
        terms = self.facility_phrases + [h for h in self.facility_heads if h not in phrases]
        return tuple(t.translate(ASCII_LOWER) for t in sorted(terms, key=len, reverse=True))  # stable: phrases first

    @cached_property
    def facility_infixes(self) -> frozenset[str]:
        """Every piece (2+ characters) of a known facility phrase or name: how far a user's noun phrase goes."""
        words = self.facility_phrases + self.db_facilities + self.facility_heads
        return frozenset(w[i:j] for w in words for i in range(len(w)) for j in range(i + 2, len(w) + 1))

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Lexicon:
        return cls(**obj)


# How the facility phrases are built around their nouns (部分房间有无线网络, 免费市内电话, 早餐服务): request and
# scope words split a phrase into parts, and modifiers before / generic words after a part are peeled off it.
FACILITY_SPLIT = re.compile(
    r"[的和及与或、：:|\s]|提供|供应|包括|覆盖|享受|享用|使用|可以|设有|都有|都能|都|有(?!线)|可|能|在|为|了|打|用"
    r"|所有|全部|一部分|部分|一些|某些|特定|各个|各处|每个|酒店内|酒店|区域|公共|住客|房间|客房|场所"
    r"|地方|角落|全区|处处|无死角|无处不|很多|全面"
)
FACILITY_MODIFIER = re.compile(r"^(?:免费|收费|付费|室内|室外|露天|户外|24小时|全天候|全天|中式|西式|便利)+")
FACILITY_GENERIC = re.compile(r"(?:服务|设施|设备|供应|免费|使用|要求|提供)+$")
# The noun a facility is housed in or carried by (停车场, 会议室, 宽带上网, 国际长途电话): users often name the
# activity alone (可以停车, 能健身, 有宽带, 能打国际长途).
FACILITY_CARRIER = re.compile(r"(?:[场位室房厅馆池处区机]|上网|网络|(?<=长途)电话)$")


def _phrase_cores(phrase: str) -> set[str]:
    """The parts of a facility phrase with and without their modifiers: 免费市内电话 → {免费市内电话, 市内电话}."""
    out = set()
    for part in FACILITY_SPLIT.split(phrase):
        part = part.strip()
        bare = FACILITY_MODIFIER.sub("", part)
        for core in (part, bare):
            core = FACILITY_GENERIC.sub("", core)
            out |= {part, bare, core, FACILITY_CARRIER.sub("", core)}
    # A core is a noun with some Chinese in it (not "for" of 便利设施 for 残障人士), not a bare modifier.
    return {
        c
        for c in out
        if len(c) >= 2
        and re.search(r"[\u4e00-\u9fff]", c)
        and not FACILITY_MODIFIER.fullmatch(c)
        and not FACILITY_GENERIC.fullmatch(c)
    }


def facility_heads(phrases: list[str], db_facilities: list[str], searches: list[tuple[str, list[str]]]) -> list[str]:
    """Head nouns users name facilities by: cores of a database name (早餐 of 早餐服务, 游泳池 of 室内游泳池) or
    shared by two mined phrases (无线网络 of 部分房间有无线网络 and 公共区域和部分房间提供无线网络), kept only
    when train's users mean a facility by them: in the messages of train searches, a head inside none of the
    labelled phrases (电话 in 把地址、电话一起告诉我, 开会 in 去开会) must be under a third of its uses."""
    support: Counter[str] = Counter()
    for phrase in phrases:
        support.update(_phrase_cores(phrase))
    for name in db_facilities:
        support.update({core: 2 for core in _phrase_cores(name)})
    for phrase in phrases:  # the data's labels drop 服务 (机场接送服务 → 机场接送): that is the user's noun too
        bare = FACILITY_GENERIC.sub("", phrase)
        if bare != phrase and bare in _phrase_cores(phrase):
            support[bare] += 2
    candidates = [c for c, n in support.items() if n >= 2] + [w for w in phrases if w.isascii()]  # wifi, SPA
    good: Counter[str] = Counter()
    bad: Counter[str] = Counter()
    for user, labelled in searches:
        for head in candidates:
            if head in user:
                (good if any(head in phrase for phrase in labelled) else bad)[head] += 1
    return sorted({h for h in candidates if good[h] >= 2 * bad[h]}, key=lambda h: (-len(h), h))


_CHAIN_SUFFIX = re.compile(r"(?:连锁|快捷|酒店|饭店|宾馆|公寓|旅馆|旅店)+$")


def chain_brands(db_names: list[str]) -> set[str]:
    """全季酒店(北京朝阳门店), 全季酒店(北京天坛店), … → 全季: the brand users name a chain by, taken only where
    two or more hotels share the name before the branch (北京饭店 alone never gives 北京; 99 of 99旅馆连锁 is a
    number before it is a brand)."""
    bases = Counter(main_name(name) for name in db_names)
    brands = {_CHAIN_SUFFIX.sub("", base) for base, n in bases.items() if n >= 2}
    return {b for b in brands if len(b) >= 2 and not b.isdigit() and not b.startswith("北京") and "服务" not in b}


def mine(train_path: Path, db_path: Path) -> Lexicon:
    db = json.loads(db_path.read_text(encoding="utf-8"))
    db_names = [name for name, _ in db]
    db_facilities = sorted({f.strip() for _, r in db for f in r["酒店设施"] if f.strip()}, key=len, reverse=True)
    phrase_hits: Counter[str] = Counter()
    names: set[str] = set()
    for name in db_names:
        # 北京泰山饭店(王府井店) → 泰山饭店, 北京泰山饭店, 泰山饭店(王府井店), ...: no branch or brand alone, which
        # names many hotels of the database (short_forms says why); chain brands are added just below.
        names.update(short_forms(name, shortest=3))
    names |= chain_brands(db_names)
    from backends.rules.nlg import TemplateBank, reply_example  # the NLG decides what of a reply it keeps

    examples = []
    searches: list[tuple[str, list[str]]] = []  # (user message, its facility phrases) of each train search
    for dialogue in read_dialogues(train_path):
        user = ""
        for i, turn in enumerate(dialogue):
            if isinstance(turn, UserTurn):
                user = turn.content
            elif isinstance(turn, SearchTurn):
                labelled = [p for p in turn.arguments.get("facilities") or [] if isinstance(p, str)]
                searches.append((user, labelled))
                for phrase in labelled:
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
        facility_heads=facility_heads(sorted(phrases), db_facilities, searches),
        db_facilities=db_facilities,
        names=sorted(names, key=lambda n: (-len(n), n)),
        db_names=db_names,
        templates=TemplateBank.from_examples(examples).by_key,
    )


# The modules whose code decides what mining keeps: a change to any of them invalidates the cache.
_HERE = Path(__file__).parent
_MINING_MODULES = (
    *(_HERE / name for name in ("lexicon.py", "nlg.py", "nlu.py", "numbers.py")),
    Path(hotel_names.__file__),  # short_forms: which shortened names are mined
)


def _code_digest() -> str:
    digest = hashlib.sha256()
    for path in _MINING_MODULES:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def lexicon_cache_key() -> str:
    """Mining version, train and database sha256 (prefixes) and the mining code's digest."""
    train, db = data_path(TRAIN), data_path(HOTEL_DB)
    return f"v{LEXICON_VERSION}-{sha256_of(train)[:16]}-{sha256_of(db)[:16]}-{_code_digest()}"


def load_lexicon() -> Lexicon:
    """The lexicon for the current train file: from memory, else the cache dir, else mined (and cached)."""
    return _lexicon_for(lexicon_cache_key(), data_path(TRAIN), data_path(HOTEL_DB), cache_dir())


# Keyed by everything the lexicon depends on (the key holds the data's and the mining code's digests) and the
# cache dir it is written to: a process that switches data or cache dir gets the matching lexicon.
@functools.lru_cache(maxsize=4)
def _lexicon_for(key: str, train: Path, db: Path, cache: Path) -> Lexicon:
    path = cache / "rules" / f"lexicon-{key}.json"
    if path.is_file():
        try:
            return Lexicon.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError, RecursionError):
            pass  # a stale, damaged or unreadable cache is rebuilt below
    lexicon = mine(train, db)
    try:  # 0600 like every file of the cache; a read-only or full cache dir only costs mining next time
        ensure_dir(path.parent)
        write_atomically(path, json.dumps(lexicon.to_json(), ensure_ascii=False))
        for stale in path.parent.glob("lexicon-*.json"):  # mined by older code or data: never read again
            if stale != path:
                stale.unlink(missing_ok=True)
    except (StorageError, OSError):
        pass
    return lexicon
