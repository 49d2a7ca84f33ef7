"""Training data: one sequence per dialogue, labels on model output only, batches padded without loss.

The course reference (method 1) cut each dialogue into one sample per search/assistant turn, repeating the
whole history in every sample. Here (method 2) each dialogue is encoded once by the same template the backends
serve with (`backends.llm.encoding.encode_dialogue`): every search and assistant turn — the role the model
writes, its content and the stop token that ends it — carries its tokens as labels; everything else (system
prompt, user turns, returned records, the markup that opens a turn) is -100. Same supervision, a fraction of the tokens (bench/train_tokens.py)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.core.codecs import read_dialogues
from agent.core.turns import Dialogue
from backends.llm.encoding import IGNORE_INDEX, encode_dialogue
from prompts import RenderSettings


@dataclass(frozen=True)
class EncodedSet:
    """Encoded dialogues plus what was done to fit them into `max_seq_len`."""

    examples: list[dict[str, list[int]]]  # {"input_ids", "labels"} per dialogue
    shortened: int  # dialogues cut at a turn boundary to fit
    dropped: int  # dialogues whose first exchange alone is too long (or has no model output)

    @property
    def tokens(self) -> int:
        return sum(len(e["input_ids"]) for e in self.examples)

    @property
    def trained_tokens(self) -> int:
        return sum(sum(1 for label in e["labels"] if label != IGNORE_INDEX) for e in self.examples)


def encode_for_training(
    tokenizer: Any, family: str, dialogue: Dialogue, settings: RenderSettings | None, max_seq_len: int
) -> tuple[list[int], list[int], bool] | None:
    """`(input_ids, labels, shortened)` of the dialogue, or of its longest prefix ending after a model turn
    that fits `max_seq_len`; None when not even the first model turn fits or there is no model output."""
    turns = list(dialogue)
    shortened = False
    while turns:
        input_ids, labels = encode_dialogue(
            tokenizer, family, Dialogue(turns), add_generation_prompt=False, settings=settings
        )
        if len(input_ids) <= max_seq_len:
            if not any(label != IGNORE_INDEX for label in labels):
                return None
            return input_ids, labels, shortened
        shortened = True
        turns.pop()
        while turns and turns[-1].role not in ("search", "assistant"):
            turns.pop()  # a prefix should end with something to learn
    return None


def load_examples(
    tokenizer: Any,
    family: str,
    path: str | Path,
    *,
    settings: RenderSettings | None = None,
    max_seq_len: int = 4096,
    limit: int | None = None,
) -> EncodedSet:
    dialogues = (d for i, d in enumerate(read_dialogues(path)) if limit is None or i < limit)
    return encode_examples(tokenizer, family, dialogues, settings=settings, max_seq_len=max_seq_len)


def encode_examples(
    tokenizer: Any,
    family: str,
    dialogues: Iterable[Dialogue],
    *,
    settings: RenderSettings | None = None,
    max_seq_len: int = 4096,
) -> EncodedSet:
    """Encode dialogues in order (a training set built by finetune.mixing, or a file's)."""
    examples, shortened, dropped = [], 0, 0
    cache: dict[int, tuple[list[int], list[int], bool] | None] = {}
    for dialogue in dialogues:
        # a repeated dialogue (a ratio above 1, oversampling) is the same object: encode it once
        key = id(dialogue)
        if key not in cache:
            cache[key] = encode_for_training(tokenizer, family, dialogue, settings, max_seq_len)
        encoded = cache[key]
        if encoded is None:
            dropped += 1
            continue
        input_ids, labels, was_shortened = encoded
        shortened += was_shortened
        examples.append({"input_ids": input_ids, "labels": labels})
    return EncodedSet(examples, shortened, dropped)


class DialogueDataset:
    """A map-style dataset of encoded dialogues (what Trainer and its length-grouped sampler expect)."""

    def __init__(self, examples: Sequence[dict[str, list[int]]]):
        self.examples = list(examples)

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index: int) -> dict[str, list[int]]:
        return self.examples[index]

    def lengths(self) -> list[int]:
        return [len(e["input_ids"]) for e in self.examples]


@dataclass(frozen=True)
class PaddingCollator:
    """Right-pads a batch to its longest sequence: padding gets attention 0 and label -100, so it costs no
    loss (length-grouped batches keep it small).

    Not transformers' DataCollatorForSeq2Seq(label_pad_token_id=-100): that pads with the tokenizer's own side and
    pad token, and the families' tokenizers pad on the left (for generation) with a pad token that is not always
    the family's (Llama 3.0 lacks 3.1's). Using it would mean mutating the shared tokenizer for training; the
    collator takes the family's pad id (backends.llm.encoding.pad_token_id) instead."""

    pad_token_id: int

    def __call__(self, features: Sequence[dict[str, list[int]]]) -> dict[str, Any]:
        import torch

        longest = max(len(f["input_ids"]) for f in features)
        input_ids, labels, attention = [], [], []
        for f in features:
            pad = longest - len(f["input_ids"])
            input_ids.append(list(f["input_ids"]) + [self.pad_token_id] * pad)
            labels.append(list(f["labels"]) + [IGNORE_INDEX] * pad)
            attention.append([1] * len(f["input_ids"]) + [0] * pad)
        return {
            "input_ids": torch.tensor(input_ids, dtype=torch.long),
            "labels": torch.tensor(labels, dtype=torch.long),
            "attention_mask": torch.tensor(attention, dtype=torch.long),
        }
