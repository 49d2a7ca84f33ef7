"""Tokens one training epoch processes: one sequence per dialogue (method 2, finetune) vs the course reference's
one sample per search/assistant turn with the whole history repeated (method 1); and the wall time of one
epoch of each on a tiny model.

    HOTEL_AGENT_DATA=../shared/data python bench/train_tokens.py [--subset 48]

Both methods put the loss on the same tokens (every search and assistant turn once, with its stop token); they
differ only in how often the context is re-read. Token counts use a real ChatML tokenizer (SmolLM2's, from
`hotel-agent models fetch smollm2`). The timing
trains a small random Qwen2-architecture model (hidden 256, 4 layers) with LoRA on CPU, same batch size,
length-sorted batches for both."""

from __future__ import annotations

import argparse
import sys
import time

from agent.core.codecs import dialogue_to_samples, read_dialogues
from agent.core.datafiles import data_path
from backends.llm.encoding import IGNORE_INDEX, encode_dialogue


def load_tokenizer():
    """(tokenizer, family, description): SmolLM2's real ChatML tokenizer."""
    from backends.llm import smollm2

    if not smollm2.is_fetched():
        sys.exit("SmolLM2 is not fetched: run `hotel-agent models fetch smollm2` first")
    from transformers import AutoTokenizer

    directory, gguf = smollm2.require()
    return (
        AutoTokenizer.from_pretrained(directory, gguf_file=gguf),
        "smollm2",
        "SmolLM2-135M-Instruct (ChatML, 49k vocabulary)",
    )


def only_last_turn_trained(labels: list[int]) -> list[int]:
    """Method 1's labels: the response turn (the last trained run) only; the history's turns are context."""
    end = len(labels)
    while end and labels[end - 1] == IGNORE_INDEX:
        end -= 1
    start = end
    while start and labels[start - 1] != IGNORE_INDEX:
        start -= 1
    return [IGNORE_INDEX] * start + labels[start:end] + [IGNORE_INDEX] * (len(labels) - end)


def method_2(tokenizer, family, dialogues):
    return [
        dict(zip(("input_ids", "labels"), encode_dialogue(tokenizer, family, d, add_generation_prompt=False)))
        for d in dialogues
    ]


def method_1(tokenizer, family, dialogues):
    examples = []
    for dialogue in dialogues:
        for sample in dialogue_to_samples(dialogue):
            ids, labels = encode_dialogue(
                tokenizer, family, sample.context.with_turn(sample.response), add_generation_prompt=False
            )
            examples.append({"input_ids": ids, "labels": only_last_turn_trained(labels)})
    return examples


def count(examples) -> tuple[int, int, int]:
    return (
        len(examples),
        sum(len(e["input_ids"]) for e in examples),
        sum(sum(1 for t in e["labels"] if t != IGNORE_INDEX) for e in examples),
    )


def padding_share(lengths: list[int], batch_size: int, grouped: bool, seed: int = 0) -> float:
    """Fraction of the padded batch positions that are padding, for one epoch in the Trainer's order: random
    batches, or length-grouped ones (transformers' LengthGroupedSampler, what finetune uses)."""
    import torch
    from transformers.trainer_pt_utils import get_length_grouped_indices

    generator = torch.Generator().manual_seed(seed)
    order = (
        get_length_grouped_indices(lengths, batch_size, generator=generator)
        if grouped
        else torch.randperm(len(lengths), generator=generator).tolist()
    )
    padded = sum(
        max(lengths[i] for i in order[k : k + batch_size]) * len(order[k : k + batch_size])
        for k in range(0, len(order), batch_size)
    )
    return 1 - sum(lengths) / padded


def epoch_seconds(examples, pad_id: int, vocab: int, batch_size: int) -> float:
    """One epoch of LoRA training on a small random model: forward, backward, optimizer step per batch."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from finetune.data import PaddingCollator

    torch.manual_seed(0)
    config = Qwen2Config(
        vocab_size=vocab,
        hidden_size=256,
        intermediate_size=768,
        num_hidden_layers=4,
        num_attention_heads=8,
        num_key_value_heads=2,
        max_position_embeddings=8192,
    )
    model = get_peft_model(
        Qwen2ForCausalLM(config), LoraConfig(r=8, lora_alpha=32, lora_dropout=0.1, target_modules=["q_proj", "v_proj"])
    )
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-4)
    collate = PaddingCollator(pad_id)
    ordered = sorted(examples, key=lambda e: len(e["input_ids"]))  # length-grouped, as finetune batches
    batches = [collate(ordered[i : i + batch_size]) for i in range(0, len(ordered), batch_size)]
    model.train()
    start = time.perf_counter()
    for batch in batches:
        model(**batch).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subset", type=int, default=48, help="dialogues for the timing (0: skip timing)")
    parser.add_argument("--batch-size", type=int, default=4)
    args = parser.parse_args()

    tokenizer, family, described = load_tokenizer()
    dialogues = list(read_dialogues(data_path("hotel/train.glm4.jsonl")))
    print(f"train.glm4.jsonl: {len(dialogues)} dialogues; tokenizer: {described}; template: {family}")
    one, two = method_1(tokenizer, family, dialogues), method_2(tokenizer, family, dialogues)
    (n1, t1, l1), (n2, t2, l2) = count(one), count(two)
    print(f"{'':<44}{'sequences':>10}{'tokens':>12}{'with loss':>12}")
    print(f"{'method 1: one sample per turn (reference)':<44}{n1:>10,}{t1:>12,}{l1:>12,}")
    print(f"{'method 2: one sequence per dialogue':<44}{n2:>10,}{t2:>12,}{l2:>12,}")
    print(f"method 1 processes {t1 / t2:.2f}x the tokens of method 2 per epoch")
    lengths = [len(e["input_ids"]) for e in two]
    print(
        f"padding in batches of {args.batch_size} (method 2): random order "
        f"{100 * padding_share(lengths, args.batch_size, False):.1f}% of positions, length-grouped "
        f"{100 * padding_share(lengths, args.batch_size, True):.1f}% (padding carries no loss either way)"
    )

    if args.subset:
        import torch

        torch.set_num_threads(max(1, torch.get_num_threads()))
        # evenly spaced, so the subset has the file's mix of short and long dialogues (the file is not shuffled)
        subset = dialogues[:: max(1, len(dialogues) // args.subset)][: args.subset]
        pad_id = tokenizer.convert_tokens_to_ids("<|endoftext|>")
        sub1, sub2 = method_1(tokenizer, family, subset), method_2(tokenizer, family, subset)
        s1 = epoch_seconds(sub1, pad_id, len(tokenizer), args.batch_size)
        s2 = epoch_seconds(sub2, pad_id, len(tokenizer), args.batch_size)
        print(
            f"one epoch on {len(subset)} evenly spaced dialogues ({count(sub1)[1] / count(sub2)[1]:.2f}x the tokens), "
            f"tiny Qwen2 + LoRA on CPU, batch {args.batch_size}: method 1 {s1:.1f} s, method 2 {s2:.1f} s: "
            f"{s1 / s2:.2f}x the wall time"
        )


if __name__ == "__main__":
    main()
