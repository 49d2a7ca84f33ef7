"""After training: replay dev samples through `evalharness run` with the new adapter, summary next to the adapter.

The harness runs in a child process on purpose: the training model, its optimizer state and the CUDA cache
die with nothing shared, so the served model gets the whole device (a 9B model does not fit twice); and
`finetune` stays off `evalharness` (they are sibling layers). The adapter is served by the same backend the chat
and the harness use (`lora-<family>` / `qlora-<family>`), so the figures are those `evalharness run` gives."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from agent.core.errors import UserError
from finetune.config import TrainConfig

EVAL_DIR = "eval_dev"


def eval_command(config: TrainConfig, adapter: Path, data: Path, *, max_new_tokens: int | None = None) -> list[str]:
    """The `evalharness run` command line for the first `config.eval_limit` samples of `data`."""
    command = [
        sys.executable,
        "-m",
        "evalharness",
        "run",
        "--backend",
        f"{config.method}-{config.family}",
        "--model",
        config.model,
        "--adapter",
        str(adapter),
        "--data",
        str(data),
        "--out",
        str(adapter / EVAL_DIR),
        "--limit",
        str(config.eval_limit),
        "--batch-size",
        str(max(8, config.batch_size)),
    ]
    for flag, value in (
        ("--gguf-file", config.gguf_file),
        ("--device", config.device),
        ("--max-new-tokens", max_new_tokens),
    ):
        if value is not None:
            command += [flag, str(value)]
    if config.trust_remote_code:
        command.append("--trust-remote-code")
    return command


def evaluate_adapter(
    config: TrainConfig,
    adapter: Path,
    data: Path,
    *,
    max_new_tokens: int | None = None,
    env: Mapping[str, str] | None = None,
) -> Path:
    """Run the evaluation; its output streams through. Returns the run directory (`<adapter>/eval_dev`).

    `env`: the child's environment (default: this process's); the recipe passes its own with the GPU pinning of
    `--device cuda:N` undone, so that the child reads `--device cuda:N` as the user meant it."""
    done = subprocess.run(eval_command(config, adapter, data, max_new_tokens=max_new_tokens), env=env)
    if done.returncode != 0:
        raise UserError(
            f"the dev evaluation failed (exit {done.returncode}); the adapter in {adapter} is saved — "
            f"rerun it with: {' '.join(eval_command(config, adapter, data))}"
        )
    return adapter / EVAL_DIR
