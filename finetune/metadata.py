"""What an adapter was trained on and how, for `hotel_agent.json` next to the adapter weights.

The file's format is `backends.llm.adapter_info` (the LoRA/QLoRA backends read it on load and refuse an
adapter whose family or template hash differs from what they would serve); finetune fills its `extra` with
the data fingerprints, every hyperparameter, the final losses and the library versions."""

from __future__ import annotations

import platform
import sys
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from agent.core.datafiles import sha256_of
from backends.llm.adapter_info import AdapterInfo, read_adapter_info, write_adapter_info

FORMAT_VERSION = 1
VERSIONED_PACKAGES = ("torch", "transformers", "peft", "accelerate", "bitsandbytes", "hotel-agent")


@dataclass(frozen=True)
class DataFingerprint:
    path: str
    sha256: str
    dialogues: int  # used for training after --limit-dialogues and length filtering

    @classmethod
    def of(cls, path: str | Path, dialogues: int) -> DataFingerprint:
        return cls(str(path), sha256_of(path), dialogues)


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in VERSIONED_PACKAGES:
        try:
            versions[package] = importlib_metadata.version(package)
        except importlib_metadata.PackageNotFoundError:
            versions[package] = "absent"
    return versions


def build_adapter_info(
    *,
    config: dict[str, Any],
    template_hash: str,
    record_style: str,
    train: DataFingerprint,
    dev: DataFingerprint | None,
    final_train_loss: float | None,
    final_dev_loss: float | None,
    steps: int,
    train_tokens: int,
) -> AdapterInfo:
    """The fields the backends check, plus everything else about the run under `extra`."""
    return AdapterInfo(
        family=config["family"],
        base_model=config["model"],
        method=config["method"],
        template_hash=template_hash,
        record_style=record_style,
        precision=config.get("precision"),  # resolved: bf16, fp16 or fp32; the backend serves in the same
        extra={
            "format": FORMAT_VERSION,
            "gguf_file": config.get("gguf_file"),
            "train_data": asdict(train),
            "dev_data": asdict(dev) if dev else None,
            "hyperparameters": config,
            "final_train_loss": final_train_loss,
            "final_dev_loss": final_dev_loss,
            "steps": steps,
            "train_tokens_per_epoch": train_tokens,
            "versions": library_versions(),
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        },
    )


def peak_rss_gib() -> float | None:
    """This process's peak resident memory (the CPU-side figure; GPU runs also record peak GPU memory)."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return peak * (1 if sys.platform == "darwin" else 1024) / 2**30


__all__ = [
    "AdapterInfo",
    "peak_rss_gib",
    "DataFingerprint",
    "build_adapter_info",
    "library_versions",
    "read_adapter_info",
    "write_adapter_info",
]
