"""Cut a LoRA adapter to a lower rank (`finetune shrink`): for each adapted projection, the best rank-k
approximation of the update it makes (truncated SVD of scale · B·A, Eckart–Young), split evenly between the new
A and B so further training starts from balanced factors.

Why: a file committed here may weigh 2 MB, and SmolLM2's all-linear adapter is 4.9 MB at rank 8 even in bf16; rank
3 is 1.8 MB. Shrinking a trained rank-8 adapter keeps most of what it learned (the share of each update's energy
kept is reported), and `finetune run --init-adapter` continues from it at the new rank instead of from zero.

It works on the saved tensors alone (no base model to load): PEFT's `add_weighted_adapter(combination_type="svd")`
does the same SVD but needs the model in memory and always writes alpha = rank with the whole scale in B."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from agent.core.errors import UserError
from backends.llm.adapter_info import read_adapter_info, write_adapter_info

ADAPTER_WEIGHTS = "adapter_model.safetensors"
ADAPTER_CONFIG = "adapter_config.json"
KEPT_FILES = ("loss.png", "log_history.json")  # how the weights were trained (the README would describe the old rank)


@dataclass(frozen=True)
class ShrinkReport:
    modules: int
    old_rank: int
    new_rank: int
    energy_kept: float  # mean over modules of Σ top-k σ² / Σ σ² of each update
    lowest_energy_kept: float
    bytes_before: int
    bytes_after: int


def shrink_adapter(source: str | Path, out: str | Path, *, rank: int, alpha: int | None = None) -> ShrinkReport:
    """Write `source`'s adapter at `rank` to `out` (alpha defaults to one keeping source's scale alpha/r)."""
    source, out = Path(source), Path(out)
    weights_path, config_path = source / ADAPTER_WEIGHTS, source / ADAPTER_CONFIG
    if not weights_path.is_file() or not config_path.is_file():
        raise UserError(f"{source}: no {ADAPTER_WEIGHTS} and {ADAPTER_CONFIG} there")
    if out.resolve() == source.resolve():
        raise UserError(f"--out {out}: give another directory than the adapter being shrunk")
    config = json.loads(config_path.read_text(encoding="utf-8"))
    if config.get("rank_pattern") or config.get("alpha_pattern") or config.get("use_rslora") or config.get("use_dora"):
        raise UserError(f"{config_path}: per-module ranks, rsLoRA and DoRA are not supported by shrink")
    old_rank, old_alpha = int(config["r"]), int(config["lora_alpha"])
    if not 1 <= rank < old_rank:
        raise UserError(f"--rank {rank}: give a rank from 1 to {old_rank - 1} (the adapter has rank {old_rank})")
    new_alpha = alpha if alpha is not None else round(old_alpha * rank / old_rank)
    if new_alpha < 1:
        raise UserError(f"--alpha {new_alpha}: must be at least 1")
    old_scale, new_scale = old_alpha / old_rank, new_alpha / rank

    tensors = load_file(str(weights_path))
    shrunk: dict[str, torch.Tensor] = {}
    kept: list[float] = []
    for name, a in tensors.items():
        if ".lora_A." not in name:
            if ".lora_B." not in name:
                shrunk[name] = a  # anything else (none for plain LoRA) travels unchanged
            continue
        b = tensors[name.replace(".lora_A.", ".lora_B.")]
        update = old_scale * (b.double() @ a.double())  # what the projection adds: (out, in)
        u, s, vh = torch.linalg.svd(update, full_matrices=False)
        kept.append(float((s[:rank] ** 2).sum() / (s**2).sum()) if s.any() else 1.0)
        root = torch.sqrt(s[:rank] / new_scale)  # new_scale · B'·A' = U_k S_k V_kᵀ, shared evenly
        shrunk[name] = (root[:, None] * vh[:rank]).to(a.dtype).contiguous()
        shrunk[name.replace(".lora_A.", ".lora_B.")] = (u[:, :rank] * root[None, :]).to(b.dtype).contiguous()
    if not kept:
        raise UserError(f"{weights_path}: no lora_A/lora_B weights found")

    out.mkdir(parents=True, exist_ok=True)
    save_file(shrunk, str(out / ADAPTER_WEIGHTS), metadata={"format": "pt"})
    config.update(r=rank, lora_alpha=new_alpha)
    (out / ADAPTER_CONFIG).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    for name in KEPT_FILES:
        if (source / name).is_file():
            shutil.copy2(source / name, out / name)
    report = ShrinkReport(
        modules=len(kept),
        old_rank=old_rank,
        new_rank=rank,
        energy_kept=sum(kept) / len(kept),
        lowest_energy_kept=min(kept),
        bytes_before=weights_path.stat().st_size,
        bytes_after=(out / ADAPTER_WEIGHTS).stat().st_size,
    )
    info = read_adapter_info(source)
    if info is not None:  # the backends check family and template; the record says where the weights came from
        extra = dict(info.extra)
        extra["shrunk"] = {
            "from": str(source),
            "from_rank": old_rank,
            "from_alpha": old_alpha,
            "rank": rank,
            "alpha": new_alpha,
            "energy_kept": round(report.energy_kept, 4),
            "lowest_energy_kept": round(report.lowest_energy_kept, 4),
        }
        write_adapter_info(out, replace(info, extra=extra))
    return report
