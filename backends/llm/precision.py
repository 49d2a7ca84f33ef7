"""Which floating-point format a model trains and serves in: one rule for `finetune` and the LLM backends.

bf16 where the GPU supports it (Ampere and newer), fp16 where it does not (V100, T4: the Trainer then scales the
loss so small fp16 gradients do not underflow), fp32 on the CPU. An adapter records the precision it was trained
in (`hotel_agent.json`), and the backend serves it in the same one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agent.core.errors import UserError

PRECISIONS = ("auto", "bf16", "fp16", "fp32")
TORCH_DTYPE_NAMES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}


@dataclass(frozen=True)
class Precision:
    name: str  # "bf16", "fp16" or "fp32"
    note: str | None = None  # set when the request could not be honoured here, saying what was chosen instead

    @property
    def torch_dtype(self) -> Any:
        import torch

        return getattr(torch, TORCH_DTYPE_NAMES[self.name])


def choose_precision(requested: str | None, *, cuda: bool, bf16_supported: bool) -> Precision:
    """`requested` ("auto", "bf16", "fp16", "fp32"; None = "auto") as this machine can run it."""
    requested = requested or "auto"
    if requested not in PRECISIONS:
        raise UserError(f"unknown precision {requested!r}; choose one of {', '.join(PRECISIONS)}")
    if not cuda:
        # half-precision matmuls on a CPU are slow or missing; train and serve in fp32 there
        note = (
            None if requested in ("auto", "fp32") else f"precision {requested} needs a CUDA GPU; using fp32 on the CPU"
        )
        return Precision("fp32", note)
    if requested == "auto":
        return Precision("bf16" if bf16_supported else "fp16")
    if requested == "bf16" and not bf16_supported:
        return Precision("fp16", "this GPU has no bf16; using fp16 (with loss scaling when training)")
    return Precision(requested)


def cuda_bf16_supported(device: str) -> bool:
    """Whether the CUDA device `device` ("cuda", "cuda:1") computes in bf16 natively; False off CUDA."""
    import torch

    if not device.startswith("cuda") or not torch.cuda.is_available():
        return False
    index = torch.device(device).index
    major, _ = torch.cuda.get_device_capability(index if index is not None else torch.cuda.current_device())
    return major >= 8  # Ampere (8.x) and newer; torch.cuda.is_bf16_supported() also says True on emulating GPUs
