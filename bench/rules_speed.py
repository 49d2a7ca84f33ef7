"""How many turn-level samples per second the rules backend predicts on one core (target: >= 200/s).

    .venv/bin/python bench/rules_speed.py [--data FILE] [--repeat N]

The lexicon is loaded (or mined and cached) before the clock starts: that is start-up, not throughput."""

from __future__ import annotations

import argparse
import time

from agent.core.codecs import read_samples
from agent.core.datafiles import DEV, data_path
from backends.registry import create


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="turn-level samples (default: hotel/dev.jsonl)")
    parser.add_argument("--repeat", type=int, default=3, help="passes over the file; the best is reported")
    args = parser.parse_args()
    samples = list(read_samples(args.data or data_path(DEV)))
    started = time.perf_counter()
    backend = create("rules")
    backend.predict([samples[0].context])  # the lexicon loads on first use: count it as start-up
    startup = time.perf_counter() - started
    best = 0.0
    for _ in range(args.repeat):
        started = time.perf_counter()
        for sample in samples:  # one dialogue per call, as the chat does
            backend.predict([sample.context])
        best = max(best, len(samples) / (time.perf_counter() - started))
    print(
        f"rules backend: {best:,.0f} samples/s on {len(samples)} samples (best of {args.repeat}); "
        f"start-up {startup * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
