"""Start a run from another adapter's weights (`--init-adapter DIR`) instead of from zero.

Useful when compute is short: an all-linear adapter can start from a q/v adapter of the same family and rank — the
projections the old one trained start where it left them, the others start fresh (LoRA's B = 0, so the model
begins exactly as the old adapter left it). The old adapter must be of the same family, rank and alpha (another
scale would silently change what its weights mean)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from safetensors.torch import load_file

from agent.core.datafiles import sha256_of
from agent.core.errors import UserError
from backends.llm.adapter_info import read_adapter_info

ADAPTER_WEIGHTS = "adapter_model.safetensors"
ADAPTER_CONFIG = "adapter_config.json"


def check_warm_start(directory: str | Path, *, family: str, rank: int, alpha: int) -> Path:
    """The adapter weights to start from, after checking `directory` fits the run: a one-line UserError if not.
    Cheap (two small files), so `finetune run` calls it before the minutes spent loading the base model."""
    directory = Path(directory)
    weights, config_path = directory / ADAPTER_WEIGHTS, directory / ADAPTER_CONFIG
    if not weights.is_file() or not config_path.is_file():
        raise UserError(f"--init-adapter {directory}: no {ADAPTER_WEIGHTS} and {ADAPTER_CONFIG} there")
    info = read_adapter_info(directory)
    if info is not None and info.family != family:
        raise UserError(f"--init-adapter {directory}: a {info.family} adapter cannot start a {family} run")
    try:
        old = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UserError(f"--init-adapter {config_path}: cannot read it ({e})") from None
    if (old.get("r"), old.get("lora_alpha")) != (rank, alpha):
        raise UserError(
            f"--init-adapter {directory}: rank {old.get('r')} / alpha {old.get('lora_alpha')} differ from this "
            f"run's {rank} / {alpha}; give the same lora_r and lora_alpha"
        )
    return weights


def warm_start(model: Any, directory: str | Path, *, family: str, rank: int, alpha: int) -> dict[str, Any]:
    """Load `directory`'s adapter weights into `model` (a PEFT model); what was loaded, for hotel_agent.json."""
    from peft import set_peft_model_state_dict

    weights = check_warm_start(directory, family=family, rank=rank, alpha=alpha)
    state = load_file(str(weights))
    result = set_peft_model_state_dict(model, state)
    unexpected = list(getattr(result, "unexpected_keys", []) or [])
    if unexpected:
        raise UserError(
            f"--init-adapter {directory}: {len(unexpected)} weights fit no module here, e.g. {unexpected[0]}"
        )
    modules = sorted({key.split(".")[-3] for key in state if key.endswith(".weight")})
    return {"path": str(directory), "sha256": sha256_of(weights), "tensors": len(state), "modules": modules}
