"""Silence one harmless log line of bitsandbytes, and nothing else.

On a CPU with AVX-512 BF16, importing bitsandbytes (which `import peft` does whenever it is installed, so every
LoRA load too) logs "Failed to load CPU gemm_4bit_forward from kernels-community: No module named 'kernels'".
It then uses its own CPU kernel: only a faster optional 4-bit matmul is missing, and only QLoRA on CPU would
use it. A filter on that one logger drops that one message; every other bitsandbytes message still shows."""

from __future__ import annotations

import logging

BITSANDBYTES_CPU_LOGGER = "bitsandbytes.backends.cpu.ops"
KERNELS_HINT = "Failed to load CPU gemm_4bit_forward from kernels-community"


class DropKernelsHint(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(KERNELS_HINT)


def quiet_bitsandbytes() -> None:
    """Install the filter (idempotent). Call it before anything imports peft or bitsandbytes: the message is
    logged once, at import time."""
    logger = logging.getLogger(BITSANDBYTES_CPU_LOGGER)
    if not any(isinstance(f, DropKernelsHint) for f in logger.filters):
        logger.addFilter(DropKernelsHint())
