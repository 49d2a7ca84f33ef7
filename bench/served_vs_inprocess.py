"""In-process batched generation vs the same model behind a llama.cpp server, at several concurrencies.

    .venv/bin/python bench/served_vs_inprocess.py [--samples 100] [--max-new-tokens 48] [--concurrency 1,4,8]
                                                  [--batch-size 16] [--one-at-a-time] [--base-url URL]
                                                  [--threads N] [--torch-threads N]

Same model (SmolLM2-135M: the fetched GGUF, dequantized by transformers in-process, Q4_1 in llama.cpp), same
test.jsonl samples (the first N), same prompts (the family template without a system prompt, rendered by us:
template mode), greedy, same stop tokens. Without --base-url the script starts `python -m llama_cpp.server` on a
free loopback port and stops it at the end. Prints samples/s and generated tokens/s of each, the ratio to
in-process batched generation, and how many predictions (the parsed turns) are identical to in-process ones.
Needs `hotel-agent models fetch smollm2` and llama-cpp-python[server] (docs/served.md)."""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Measured:
    name: str
    seconds: float
    predictions: list[Any]  # backends.base.Prediction

    @property
    def samples_per_s(self) -> float:
        return len(self.predictions) / self.seconds

    @property
    def tokens_per_s(self) -> float | None:
        tokens = [p.tokens for p in self.predictions]
        return sum(tokens) / self.seconds if all(isinstance(t, int) for t in tokens) else None


def in_process_backend(batch_size: int, max_new_tokens: int) -> Any:
    from backends.llm import smollm2
    from backends.llm.backend import LLMBackend
    from backends.llm.generation import GenerationSettings
    from backends.llm.loading import load, resolve
    from prompts import default_settings

    directory, gguf_file = smollm2.require()
    spec = resolve("smollm2", "prompt", model=str(directory), gguf_file=gguf_file, settings=default_settings("smollm2"))
    return LLMBackend(spec, load(spec), GenerationSettings(max_new_tokens=max_new_tokens, batch_size=batch_size))


def served_backend(base_url: str, in_process: Any, max_new_tokens: int) -> Any:
    """Template mode with the in-process backend's own layout and tokenizer, so both see the same prompt."""
    from backends.served.backend import ServedBackend, only_model, served_models
    from backends.served.client import RetryPolicy, ServedClient
    from backends.served.template import TEXT, TOKEN_IDS, TemplatePrompts, TemplateSpec, accepts_token_ids

    client = ServedClient(base_url, timeout=600)
    model = only_model(client, served_models(client))
    transport = TOKEN_IDS if accepts_token_ids(client, model) else TEXT
    prompts = TemplatePrompts(TemplateSpec(in_process.spec), in_process.loaded.tokenizer, transport)
    return ServedBackend(
        client, model, mode="template", template=prompts, max_tokens=max_new_tokens, retry=RetryPolicy(retries=0)
    )


@contextlib.contextmanager
def llama_server(threads: int) -> Iterator[str]:
    from backends.llm import smollm2

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = Path(tempfile.mkstemp(prefix="llama-server-", suffix=".log")[1])
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(smollm2.SMOLLM2.path())]
    command += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", "8192"]
    command += ["--n_threads", str(threads), "--n_threads_batch", str(threads)]
    # llama-cpp-python's default cuts a running generation short when another request arrives
    command += ["--interrupt_requests", "false"]
    with log.open("w") as sink:
        process = subprocess.Popen([*command, "--verbose", "false"], stdout=sink, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                raise SystemExit(f"the llama.cpp server exited; see {log}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"the llama.cpp server did not start; see {log}")
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        process.wait(timeout=30)


def measure_in_process(backend: Any, samples: Sequence[Any], batch_size: int, name: str) -> Measured:
    started = time.monotonic()
    predictions: list[Any] = []
    for start in range(0, len(samples), batch_size):
        predictions += backend.predict(samples[start : start + batch_size])
    return Measured(name, time.monotonic() - started, predictions)


def measure_served(backend: Any, samples: Sequence[Any], concurrency: int) -> Measured:
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        predictions = list(pool.map(lambda dialogue: backend.predict([dialogue])[0], samples))
    return Measured(f"llama.cpp server, concurrency {concurrency}", time.monotonic() - started, predictions)


def main() -> None:
    from agent.core.datafiles import TEST, data_path
    from evalharness.runner import load_samples

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100, help="first N samples of test.jsonl")
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--batch-size", type=int, default=16, help="in-process batch size")
    parser.add_argument("--concurrency", default="1,4,8", help="requests in flight, comma-separated")
    parser.add_argument("--one-at-a-time", action="store_true", help="also time in-process with batches of one")
    parser.add_argument("--base-url", default=None, help="a running server of the same GGUF (default: start one)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="llama.cpp threads")
    parser.add_argument("--torch-threads", type=int, default=None, help="in-process torch threads (default: torch's)")
    args = parser.parse_args()
    if args.torch_threads:
        import torch

        torch.set_num_threads(args.torch_threads)
    concurrencies = [int(c) for c in args.concurrency.split(",")]

    samples = [s.context for s in load_samples(data_path(TEST), args.samples)[0]]
    print(
        f"{len(samples)} test samples, greedy, max {args.max_new_tokens} new tokens, SmolLM2-135M (in-process: "
        f"transformers fp32 from the GGUF, {args.torch_threads or 'default'} torch threads; server: llama.cpp Q4_1, "
        f"{args.threads} threads); {os.cpu_count()} CPU cores",
        flush=True,
    )
    print("| backend | samples/s | tokens/s | vs in-process batched | identical to in-process |")
    print("|---|---:|---:|---:|---:|", flush=True)
    in_process = in_process_backend(args.batch_size, args.max_new_tokens)
    in_process.predict(samples[:1])  # warm-up: first-call allocations are start-up, not throughput
    baseline = measure_in_process(in_process, samples, args.batch_size, f"in-process, batches of {args.batch_size}")
    report(baseline, baseline)
    if args.one_at_a_time:
        report(measure_in_process(in_process, samples, 1, "in-process, one at a time"), baseline)

    server = contextlib.nullcontext(args.base_url) if args.base_url else llama_server(args.threads)
    with server as url:
        served = served_backend(url, in_process, args.max_new_tokens)
        served.predict(samples[:1])  # warm-up (and the model's first prompt cache)
        for concurrency in concurrencies:
            report(measure_served(served, samples, concurrency), baseline)
    print(f"(the server took the prompt as {served.template.transport})")


def report(result: Measured, baseline: Measured) -> None:
    same = sum(a.turn == b.turn for a, b in zip(result.predictions, baseline.predictions))
    tokens = f"{result.tokens_per_s:.1f}" if result.tokens_per_s is not None else "-"
    print(
        f"| {result.name} | {result.samples_per_s:.2f} | {tokens} | "
        f"{result.samples_per_s / baseline.samples_per_s:.2f}x | {same}/{len(result.predictions)} |",
        flush=True,
    )


if __name__ == "__main__":
    main()
