"""Tiny random models and small tokenizers per family, built in the test session (no hub downloads).

* `tiny_tokenizer(family)`: a byte-level BPE trained on a few hundred lines of the course's training
  dialogues (rendered with the family's template), carrying every real special token of the family, so the
  ids of `<|im_start|>`, `<|eot_id|>`, `[gMASK]`... are single control tokens as in the real tokenizer.
* `tiny_model(family)`: a 2-layer random model of the family's architecture (Llama / Qwen2 / GLM), hidden 64.
* `save_tiny(family, directory)`: both saved with `save_pretrained`, loadable with `--model DIR`.

Shared by the LLM backend tests and the finetune tests; torch/transformers are imported inside functions."""

from __future__ import annotations

import itertools
from functools import cache
from pathlib import Path
from typing import Any

from agent.core.codecs import read_dialogues
from agent.core.datafiles import TRAIN, data_path
from prompts.families import get_family

TINY_VOCAB = 800
TINY_HIDDEN = 64  # bitsandbytes' 4-bit CPU kernels need in_features >= its 64-wide blocks
TRAIN_DIALOGUES = 120  # a few hundred lines of text: enough merges for Chinese and JSON, trains in < 1 s


@cache
def _corpus(family: str) -> tuple[str, ...]:
    from prompts import render_text

    dialogues = itertools.islice(read_dialogues(data_path(TRAIN)), TRAIN_DIALOGUES)
    return tuple(render_text(family, d, add_generation_prompt=False) for d in dialogues)


# What Meta-Llama-3-8B-Instruct (3.0) lacks of the 3.1 special tokens: `tiny_tokenizer("llama3", without=LLAMA30_MISSING)`
LLAMA30_MISSING = ("<|finetune_right_pad_id|>", "<|eom_id|>", "<|python_tag|>", "<|step_id|>")


@cache
def tiny_tokenizer(family: str, without: tuple[str, ...] = ()) -> Any:
    """A PreTrainedTokenizerFast with the family's special tokens, less `without` (cached; do not mutate). Its
    pad token is the family's first pad candidate that it has (a 3.0-like Llama tokenizer pads with a reserved
    token, as the real one would)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    spec = get_family(family)
    special = [t for t in spec.special_tokens if t not in without]
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=TINY_VOCAB + len(special),
        show_progress=False,
        special_tokens=special,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(_corpus(family), trainer=trainer)
    pad = next(t for t in spec.pad_candidates if t in special)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, pad_token=pad, eos_token=spec.stop_tokens[0], padding_side="left"
    )


def tiny_config(family: str, tokenizer: Any) -> Any:
    from transformers import GlmConfig, LlamaConfig, Qwen2Config

    spec = get_family(family)
    common = dict(
        vocab_size=len(tokenizer),
        hidden_size=TINY_HIDDEN,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        tie_word_embeddings=False,
        bos_token_id=None,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=[i for i in (tokenizer.convert_tokens_to_ids(t) for t in spec.stop_tokens) if i is not None],
    )
    if family == "glm4":
        return GlmConfig(head_dim=TINY_HIDDEN // 4, **common)
    if family == "qwen2":
        return Qwen2Config(**common)
    if family in ("llama3", "smollm2"):  # SmolLM2 is a Llama architecture
        return LlamaConfig(**common)
    raise ValueError(f"no tiny config for {family!r}")


def tiny_model(family: str, seed: int = 0) -> Any:
    """A fresh random 2-layer model of the family's architecture, in eval mode, fp32 on CPU."""
    import torch
    from transformers import AutoModelForCausalLM

    tokenizer = tiny_tokenizer(family)
    torch.manual_seed(seed)
    config = tiny_config(family, tokenizer)
    model = AutoModelForCausalLM.from_config(config)
    return model.eval()


def save_tiny(family: str, directory: str | Path, seed: int = 0) -> Path:
    """Save a tiny model and its tokenizer to `directory` (a `--model` for the LLM backends)."""
    directory = Path(directory)
    tiny_model(family, seed).save_pretrained(directory)
    tiny_tokenizer(family).save_pretrained(directory)
    return directory
