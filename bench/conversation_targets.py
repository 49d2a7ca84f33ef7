"""Issue 15's conversation-level targets for a backend: the bundled suites pass at >= 95% with 0 false booking
claims, and the simulated users succeed on >= 90% of >= 500 seeded goals.

    .venv/bin/python bench/conversation_targets.py [--backend rules] [--goals 500] [--seed 0] [--out DIR]

Prints the figures and each target met or missed; exits 1 when one is missed. Too slow for every test run on an
LLM backend (and, until the rules backend books by chat, failing by design), so it lives here; the default tests
check that the harness itself works (tests/test_converse.py, tests/test_simulator.py)."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from backends.registry import create
from evalharness.conversations.converse import run_suites
from evalharness.conversations.simulate import simulate
from evalharness.conversations.suite import bundled_suites_dir, load_suites

SUITE_PASS = 95.0
SIMULATOR_SUCCESS = 90.0
MIN_GOALS = 500


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="rules")
    parser.add_argument("--goals", type=int, default=MIN_GOALS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="where the two runs go (default: a temporary dir)")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="conversation-targets-"))
    backend = create(args.backend)

    suites = run_suites(load_suites(bundled_suites_dir()), backend, args.backend, out / "converse")["metrics"]
    goals = simulate(backend, args.backend, out / "simulate", args.goals, seed=args.seed)["metrics"]
    checks = [
        (f"suite pass rate {suites['pass_rate']}% >= {SUITE_PASS}%", (suites["pass_rate"] or 0) >= SUITE_PASS),
        (f"suite false booking claims {suites['false_claims']} == 0", suites["false_claims"] == 0),
        (
            f"simulator task success {goals['task_success']}% >= {SIMULATOR_SUCCESS}% over {goals['goals']} goals",
            (goals["task_success"] or 0) >= SIMULATOR_SUCCESS and goals["goals"] >= MIN_GOALS,
        ),
        (f"simulator false booking claims {goals['false_claims']} == 0", goals["false_claims"] == 0),
    ]
    for text, met in checks:
        print(("met     " if met else "MISSED  ") + text)
    print(f"runs in {out}")
    return 0 if all(met for _, met in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
