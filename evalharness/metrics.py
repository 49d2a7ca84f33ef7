"""The reference's metrics, computed exactly as the course computed them, plus sacreBLEU for comparison.

The course (agiclass/Student_Experiments, `llama3/cli_evaluate.py` on `test.jsonl`) scores each turn-level
sample by the kind of its *expected* turn:

* expected `search`: slot counts. The prediction's arguments are compared with the gold arguments: a list
  value is one slot per item (an item is right when it is in the gold list), any other value is one slot,
  right when equal (Python `==`, so 500 == 500.0). A predicted reply, or a failed prediction, has no
  arguments: it predicts 0 slots and misses every gold slot. Slot P/R/F1 are micro-averaged over all
  search samples.
* expected `assistant`: character-level sentence BLEU-4 of the predicted text against the gold reply
  (NLTK `sentence_bleu` with `SmoothingFunction().method3`, both texts stripped, 0 when either is empty),
  averaged over reply samples. A predicted search is scored as the text the course's model emitted for
  a call: ``search:\\n`` + the arguments as indented JSON (`search_as_text`), which almost never
  resembles a reply.

All functions here are pure; BLEU is reimplemented (tests check equality with NLTK) so the product does
not depend on nltk. Scores are fractions in 0..1 inside; `Metrics.as_percent` gives the course's 0..100.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from agent.core.schema import ARGUMENT_KEYS
from agent.core.turns import AgentTurn, AssistantTurn, SearchTurn

BLEU_SETTINGS = "bleu4:char-level nltk.sentence_bleu|smooth:method3|strip|empty:0|avg:reply-samples"
SLOT_SETTINGS = "slots:micro|list:per-item membership|scalar:==|reply-for-search:0 predicted"
SACREBLEU_SETTINGS = "sacrebleu.corpus_bleu tokenize=zh over reply samples"


# ---- BLEU -------------------------------------------------------------------------------------------


def _ngram_counts(chars: Sequence[str], n: int) -> Counter:
    return Counter(tuple(chars[i : i + n]) for i in range(len(chars) - n + 1))


def sentence_bleu4_chars(reference: str, hypothesis: str) -> float:
    """Character-level sentence BLEU-4 in 0..1, equal to the course's `_bleu4(pred, label)`:
    ``sentence_bleu([list(ref)], list(hyp), smoothing_function=SmoothingFunction().method3)`` after
    stripping both texts, and 0 when either is empty."""
    ref, hyp = list(reference.strip()), list(hypothesis.strip())
    if not ref or not hyp:
        return 0.0
    numerators, denominators = [], []
    for n in range(1, 5):
        hyp_counts = _ngram_counts(hyp, n)
        ref_counts = _ngram_counts(ref, n)
        numerators.append(sum(min(count, ref_counts[gram]) for gram, count in hyp_counts.items()))
        # NLTK keeps the denominator at least 1 (hypotheses shorter than n) and does not reduce the
        # fraction, so smoothing below divides by the raw n-gram count.
        denominators.append(max(1, sum(hyp_counts.values())))
    if numerators[0] == 0:
        return 0.0
    precisions: list[float] = []
    k = 1  # method3 (NIST geometric smoothing): the k-th zero precision becomes 1 / (2**k * denominator)
    for numerator, denominator in zip(numerators, denominators):
        if numerator == 0:
            precisions.append(1 / (2**k * denominator))
            k += 1
        else:
            precisions.append(numerator / denominator)
    brevity = 1.0 if len(hyp) > len(ref) else math.exp(1 - len(ref) / len(hyp))
    return brevity * math.exp(math.fsum(0.25 * math.log(p) for p in precisions))


# ---- slots ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlotCounts:
    correct: int = 0
    predicted: int = 0
    gold: int = 0

    def __add__(self, other: SlotCounts) -> SlotCounts:
        return SlotCounts(self.correct + other.correct, self.predicted + other.predicted, self.gold + other.gold)

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.correct / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def slot_items(value: Any) -> list[Any]:
    """The slots a value counts as: one per list item, else one."""
    return value if isinstance(value, list) else [value]


def item_hits(predicted: Any, gold: Any) -> list[bool]:
    """For each item of `predicted` (see slot_items), whether it is right against `gold`: a list item when it is
    in the gold list or equals the gold scalar, a scalar when it equals the gold value."""
    if isinstance(predicted, list):
        return [item in gold if isinstance(gold, list) else item == gold for item in predicted]
    return [predicted == gold]


def _slot_count(value: Any) -> int:
    return len(slot_items(value))


def _value_correct(predicted: Any, gold: Any) -> int:
    return sum(item_hits(predicted, gold))


def slot_scores(predicted: Mapping[str, Any] | None, gold: Mapping[str, Any]) -> dict[str, SlotCounts]:
    """Slot counts per argument key for one search sample (`predicted` None: a reply or a failure).

    As in the course, a predicted None value still counts as one (wrong) predicted slot, while its
    list/scalar rules are the ones in the module docstring."""
    predicted = predicted or {}
    per_key: dict[str, SlotCounts] = {}
    for key in dict.fromkeys([*gold, *predicted]):
        p_value, in_pred = predicted.get(key), key in predicted
        correct = 0
        if in_pred and p_value is not None and key in gold:
            correct = _value_correct(p_value, gold[key])
        per_key[key] = SlotCounts(
            correct, _slot_count(p_value) if in_pred else 0, _slot_count(gold[key]) if key in gold else 0
        )
    return per_key


# ---- one sample -------------------------------------------------------------------------------------


def search_as_text(arguments: Mapping[str, Any]) -> str:
    """The text the course's model wrote for a search call (its `build_response`), which the course
    compared with the gold reply when a search came where a reply was due."""
    shown = {k: v for k, v in arguments.items() if v is not None}
    return "search:\n" + json.dumps(shown, indent=4, ensure_ascii=False)


def turn_text(turn: AgentTurn | None) -> str:
    """What a prediction reads as when a reply was due ('' for a failed prediction)."""
    if turn is None:
        return ""
    if isinstance(turn, SearchTurn):
        return search_as_text(turn.arguments)
    if isinstance(turn, AssistantTurn):
        return turn.content
    return f"{turn.role}:\n" + json.dumps(turn.arguments, indent=4, ensure_ascii=False)


@dataclass(frozen=True)
class SampleScores:
    """The scores of one sample. `bleu4` is set for expected replies, `slots` for expected searches."""

    expected_kind: str  # "search" | "assistant"
    predicted_kind: str | None  # None when the backend failed on this sample
    bleu4: float | None = None
    slots: dict[str, SlotCounts] = field(default_factory=dict)

    @property
    def wrong_kind(self) -> bool:
        return self.predicted_kind is not None and self.predicted_kind != self.expected_kind

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"expected_kind": self.expected_kind, "predicted_kind": self.predicted_kind}
        if self.bleu4 is not None:
            out["bleu4"] = self.bleu4
        if self.expected_kind == "search":
            total = sum(self.slots.values(), SlotCounts())
            out["slots"] = asdict(total)
        return out


def score_sample(expected: AgentTurn, predicted: AgentTurn | None) -> SampleScores:
    """Score one prediction (None: the backend failed) against the expected turn."""
    predicted_kind = None if predicted is None else predicted.role
    if isinstance(expected, SearchTurn):
        arguments = predicted.arguments if isinstance(predicted, SearchTurn) else None
        return SampleScores("search", predicted_kind, slots=slot_scores(arguments, expected.arguments))
    if not isinstance(expected, AssistantTurn):  # book / cancel: right call or not (the course has none)
        return SampleScores(expected.role, predicted_kind)
    return SampleScores("assistant", predicted_kind, bleu4=sentence_bleu4_chars(expected.content, turn_text(predicted)))


# ---- a whole run ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Metrics:
    """Aggregated scores of a run. Fractions in 0..1 except sacreBLEU, which is 0..100 as sacrebleu says."""

    bleu4: float  # mean sentence BLEU-4 over reply samples (the reference's BLEU-4 / 100)
    slot_precision: float
    slot_recall: float
    slot_f1: float
    sacrebleu: float  # corpus BLEU, tokenize="zh", 0..100
    sacrebleu_signature: str
    samples: int
    search_samples: int
    reply_samples: int
    reply_for_search: int  # a reply predicted where a search was due
    search_for_reply: int  # a search predicted where a reply was due
    failed: int  # samples the backend raised on (scored as empty predictions)
    slots: SlotCounts
    per_key: dict[str, SlotCounts]

    def as_percent(self) -> dict[str, float]:
        """The reference's four figures, 0..100 rounded as the course printed them (4 decimals)."""
        return {
            "bleu-4": round(self.bleu4 * 100, 4),
            "slot_P": round(self.slot_precision * 100, 4),
            "slot_R": round(self.slot_recall * 100, 4),
            "slot_F1": round(self.slot_f1 * 100, 4),
        }

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["per_key"] = {
            k: {**asdict(c), "precision": c.precision, "recall": c.recall, "f1": c.f1} for k, c in self.per_key.items()
        }
        out["percent"] = self.as_percent()
        return out


def sacrebleu_zh(references: Sequence[str], hypotheses: Sequence[str]) -> tuple[float, str]:
    """Corpus BLEU with sacrebleu's Chinese tokenizer, and its signature string."""
    from sacrebleu.metrics import BLEU  # a product dependency; imported here to keep `import metrics` light

    bleu = BLEU(tokenize="zh")
    if not references:  # sacrebleu only signs a metric it has run; sign the same settings on a dummy pair
        bleu.corpus_score(["-"], [["-"]])
        return 0.0, str(bleu.get_signature())
    score = bleu.corpus_score(list(hypotheses), [list(references)])
    return score.score, str(bleu.get_signature())


def aggregate(
    expected: Sequence[AgentTurn], predicted: Sequence[AgentTurn | None], scores: Sequence[SampleScores] | None = None
) -> Metrics:
    """Metrics of a run from its expected and predicted turns (None: failed), in the same order.
    `scores` may pass already computed per-sample scores (e.g. read back from predictions.jsonl)."""
    if len(expected) != len(predicted):
        raise ValueError(f"{len(expected)} expected turns but {len(predicted)} predictions")
    if scores is None:
        scores = [score_sample(e, p) for e, p in zip(expected, predicted)]
    bleus = [s.bleu4 for s in scores if s.expected_kind == "assistant" and s.bleu4 is not None]
    per_key: dict[str, SlotCounts] = {key: SlotCounts() for key in ARGUMENT_KEYS}
    for s in scores:
        for key, counts in s.slots.items():
            per_key[key] = per_key.get(key, SlotCounts()) + counts
    total = sum(per_key.values(), SlotCounts())
    replies = [(e.content, turn_text(p)) for e, p in zip(expected, predicted) if isinstance(e, AssistantTurn)]
    sacre, signature = sacrebleu_zh([r for r, _ in replies], [h for _, h in replies])
    return Metrics(
        bleu4=sum(bleus) / len(bleus) if bleus else 0.0,  # plain sum, as the course averaged
        slot_precision=total.precision,
        slot_recall=total.recall,
        slot_f1=total.f1,
        sacrebleu=sacre,
        sacrebleu_signature=signature,
        samples=len(scores),
        search_samples=sum(1 for s in scores if s.expected_kind == "search"),
        reply_samples=len(bleus),
        reply_for_search=sum(1 for s in scores if s.expected_kind == "search" and s.predicted_kind == "assistant"),
        search_for_reply=sum(1 for s in scores if s.expected_kind == "assistant" and s.predicted_kind == "search"),
        failed=sum(1 for s in scores if s.predicted_kind is None),
        slots=total,
        per_key={k: v for k, v in per_key.items() if v.predicted or v.gold},
    )


def score_samples(expected_turns: Iterable[AgentTurn], predicted_turns: Iterable[AgentTurn | None]) -> Metrics:
    """Convenience: the metrics of parallel sequences of expected and predicted turns."""
    return aggregate(list(expected_turns), list(predicted_turns))
