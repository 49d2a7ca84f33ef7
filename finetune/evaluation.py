"""After training: replay dev samples through evalharness with the new adapter, summary next to the adapter.

The adapter is served by the same backend the chat and the harness use (`lora-<family>` / `qlora-<family>`),
so the figures are the ones `evalharness run --backend ... --adapter ...` would give on the same samples."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from finetune.config import TrainConfig

EVAL_DIR = "eval_dev"


def evaluate_adapter(config: TrainConfig, adapter: Path, data: Path, *, max_new_tokens: int | None = None) -> Any:
    """Run the first `config.eval_limit` samples of `data` (a dialogue or turn-level file); the run directory
    (predictions.jsonl, summary.json with the signature) is `<adapter>/eval_dev`."""
    from backends import registry
    from evalharness.runner import RunOptions, evaluate

    backend_name = f"{config.method}-{config.family}"
    backend = registry.create(backend_name, model=config.model, adapter=str(adapter), gguf_file=config.gguf_file,
                              device=config.device, max_new_tokens=max_new_tokens)
    result = evaluate(backend, backend_name, RunOptions(data=data, out=adapter / EVAL_DIR, limit=config.eval_limit,
                                                        batch_size=max(8, config.batch_size)))
    scores = ", ".join(f"{k} {v:.2f}" for k, v in result.metrics.as_percent().items())
    print(f"dev evaluation on {result.metrics.samples} samples: {scores}; summary in {result.out / 'summary.json'}",
          flush=True)
    return result
