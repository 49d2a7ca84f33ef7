"""`finetune run --dry-run`: check a run's settings against the real architecture in seconds, on a CPU.

The model is built from its config.json (a bundled copy of the published one, or a local directory's) on
PyTorch's meta device — shapes without weights, so no download and no memory — the run's LoRA settings are
applied, every target module is checked to exist, PEFT counts the trainable parameters, and the memory estimate
is computed for the run's sequence length, batch, checkpointing, optimizer and precision. A checkpoint that runs
its own modeling code (glm-4-9b-chat) cannot be built without that code: its count is computed from config.json
(layers × r × (in + out) per target) and the output says so."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.core.errors import UserError
from backends.llm.remote_code import FLAG, needs_remote_code
from finetune.config import TrainConfig, resolve
from finetune.estimate import Architecture, MemoryEstimate, architecture_from_config, estimate_memory, find_config_json
from prompts.families import get_family

BUILT = "PEFT on the meta device"
COMPUTED = "computed from config.json (layers × r × (in + out)); the checkpoint's own modeling code is not here"


@dataclass(frozen=True)
class DryRun:
    config: TrainConfig  # resolved as for a CUDA GPU with bf16
    architecture: Architecture
    model_type: str
    remote_code: bool  # the checkpoint runs its own modeling code
    target_counts: dict[str, int]  # modules matched per target (layers × 1 for a per-layer projection)
    trainable: int
    total: int  # PEFT's "all params": base plus adapter
    formula: int  # layers × r × (in + out), from the architecture's shapes
    counted_by: str  # BUILT or COMPUTED
    estimate: MemoryEstimate

    def lines(self) -> list[str]:
        c, a = self.config, self.architecture
        how = f"own modeling code, needs {FLAG}" if self.remote_code else "transformers' own code"
        targets = ", ".join(f"{name} × {count}" for name, count in self.target_counts.items())
        if self.counted_by == COMPUTED:
            check = ""
        elif self.formula == self.trainable:
            check = "; layers × r × (in + out) gives the same"
        else:
            check = f"; layers × r × (in + out) gives {self.formula:,} (the estimate's shapes are off)"
        return [
            f"dry run: {c.method} {c.family} on {a.name} (model_type {self.model_type}: {how})",
            f"LoRA r={c.lora_r}, alpha {c.lora_alpha}, dropout {c.lora_dropout}; every target exists: {targets}",
            f"trainable parameters: {self.trainable:,} of {self.total:,} ({100 * self.trainable / self.total:.4f}%) "
            f"— {self.counted_by}{check}",
            f"settings: batch {c.batch_size} × accumulation {c.gradient_accumulation_steps}, max_seq_len "
            f"{c.max_seq_len}, gradient checkpointing {'on' if c.gradient_checkpointing else 'off'}, "
            f"{c.optimizer}, {c.precision}, learning rate {c.learning_rate:g}, {c.num_epochs:g} epochs",
            "",
            "memory on one GPU, estimated by a formula (`finetune estimate`: the meta device holds no weights):",
            self.estimate.table(),
        ]


def dry_run(config: TrainConfig) -> DryRun:
    """Build, adapt and count the model of `config.model` (see the module docstring); UserError when a target
    module does not exist in it."""
    name, raw = find_config_json(config.model)
    architecture = architecture_from_config(name, raw)
    model_type = str(raw.get("model_type"))
    family = get_family(config.family)
    if all(model_type not in layout.model_types for layout in family.layouts):
        known = ", ".join(t for layout in family.layouts for t in layout.model_types)
        raise UserError(f"{name} is model_type {model_type!r}, not a {family.name} layout ({known}); check --family")
    # The run being checked is a GPU run: resolve as on a CUDA GPU with bf16.
    config = resolve(config, cuda=True, bf16_supported=True, model_type=model_type)
    targets = tuple(config.target_modules or ())
    remote = needs_remote_code(raw)
    formula = architecture.lora_parameters(config.lora_r, targets)  # also: do the targets exist in this layout?
    code_dir = Path(config.model).expanduser()
    if remote and not (config.trust_remote_code and (code_dir / "config.json").is_file()):
        counts = {target: architecture.layers for target in targets}
        trainable, total, counted_by = formula, architecture.parameters() + formula, COMPUTED
    else:
        trainable, total, counts = _count_on_meta_device(config, raw, code_dir if remote else None)
        counted_by = BUILT
    estimate = estimate_memory(
        architecture,
        config.method,
        seq_len=config.max_seq_len,
        batch=config.batch_size,
        lora_r=config.lora_r,
        gradient_checkpointing=config.gradient_checkpointing,
        optimizer=config.optimizer,
        target_modules=targets,
        precision=config.precision,
    )
    return DryRun(config, architecture, model_type, remote, counts, trainable, total, formula, counted_by, estimate)


def _count_on_meta_device(
    config: TrainConfig, raw: dict[str, Any], code_dir: Path | None
) -> tuple[int, int, dict[str, int]]:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    if code_dir is not None:  # remote code the user trusts, in a local checkpoint directory
        model_config = AutoConfig.from_pretrained(code_dir, trust_remote_code=True)
    else:
        settings = {k: v for k, v in raw.items() if k not in ("model_type", "auto_map")}
        model_config = AutoConfig.for_model(raw["model_type"], **settings)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(model_config, trust_remote_code=code_dir is not None)
    with warnings.catch_warnings():  # PEFT calls transformers names deprecated for v6; nothing to act on here
        warnings.simplefilter("ignore", FutureWarning)
        return _count_lora(model, config)


def _count_lora(model: Any, config: TrainConfig) -> tuple[int, int, dict[str, int]]:
    from peft import LoraConfig, get_peft_model

    from finetune.recipe import check_target_modules

    targets = tuple(config.target_modules or ())
    check_target_modules(model, targets, config.model)
    counts = {t: sum(1 for n, _ in model.named_modules() if n.rsplit(".", 1)[-1] == t) for t in targets}
    lora = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=list(targets),
        task_type="CAUSAL_LM",
    )
    trainable, total = get_peft_model(model, lora).get_nb_trainable_parameters()
    return int(trainable), int(total), counts


__all__ = ["DryRun", "dry_run"]
