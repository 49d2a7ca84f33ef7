"""Evaluation throughput: the reference's loop (one sample, one `generate`) vs our batched generation.

    .venv/bin/python bench/eval_throughput.py [--model smollm2|DIR] [--family F] [--samples N]
                                              [--batch-size B] [--max-new-tokens T] [--repeat R] [--threads K]

Same model, same test.jsonl samples (the first N), same prompts (the family's template without a system
prompt, as the LoRA backends see them), same greedy decoding and stop tokens; only batching differs.
`smollm2` needs `hotel-agent models fetch smollm2`; a model directory needs --family. Prints samples/s of each, the ratio, and how many outputs agree."""

from __future__ import annotations

import argparse
import time


def build_backend(model: str, family: str | None, batch_size: int, max_new_tokens: int):
    from backends.llm import smollm2
    from backends.llm.backend import LLMBackend
    from backends.llm.generation import GenerationSettings
    from backends.llm.loading import load, resolve
    from prompts import default_settings

    gguf_file = None
    if model == "smollm2":
        family = "smollm2"
        directory, gguf_file = smollm2.require()
        model = str(directory)
    if family is None:
        raise SystemExit("--family is needed with a model directory")
    spec = resolve(family, "prompt", model=model, gguf_file=gguf_file, settings=default_settings(family))
    return LLMBackend(spec, load(spec), GenerationSettings(max_new_tokens=max_new_tokens, batch_size=batch_size))


def main() -> None:
    import torch

    from agent.core.codecs import read_samples
    from agent.core.datafiles import TEST, data_path

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2", help="smollm2, or a model directory (with --family)")
    parser.add_argument("--family", default=None, help="template family of a model directory")
    parser.add_argument("--samples", type=int, default=32, help="first N samples of test.jsonl")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="timed passes of each; the best is reported (the machine is shared: the best pass is the least disturbed)",
    )
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    samples = [s.context for _, s in zip(range(args.samples), read_samples(data_path(TEST)))]
    backend = build_backend(args.model, args.family, args.batch_size, args.max_new_tokens)
    backend.predict(samples[:1])  # warm-up: first-call allocations are start-up, not throughput
    prompt_tokens = sum(len(backend.encode_prompt(s)) for s in samples)

    def timed(batch_size: int) -> tuple[float, list]:
        backend.generation = type(backend.generation)(args.max_new_tokens, batch_size)
        started = time.perf_counter()
        if batch_size == 1:
            predictions = [backend.predict([s])[0] for s in samples]  # the reference: generate per sample
        else:
            predictions = backend.predict(samples)
        return len(samples) / (time.perf_counter() - started), predictions

    reference = ours = 0.0
    for _ in range(args.repeat):  # interleaved, so a burst of load elsewhere hits both alike
        rate, one_by_one = timed(1)
        reference = max(reference, rate)
        rate, batched = timed(args.batch_size)
        ours = max(ours, rate)
    same = sum(a.raw == b.raw for a, b in zip(one_by_one, batched))
    print(
        f"model {backend.spec.model} ({backend.family.name}), {len(samples)} samples, "
        f"{prompt_tokens / len(samples):.0f} prompt tokens/sample, max-new-tokens {args.max_new_tokens}, "
        f"device {backend.loaded.device}, torch threads {torch.get_num_threads()}"
    )
    print(f"reference loop (batch 1): {reference:.2f} samples/s")
    print(f"batched (batch {args.batch_size}):       {ours:.2f} samples/s")
    print(f"speed-up: {ours / reference:.1f}x; identical outputs: {same}/{len(samples)}; best of {args.repeat}")


if __name__ == "__main__":
    main()
