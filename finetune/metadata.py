"""`hotel_agent.json`: what an adapter was trained on and how, written next to the adapter weights.

The LoRA/QLoRA backends read it on load and refuse an adapter whose family, method or template hash differs
from what they would serve; evalharness copies it into its run signature."""
from __future__ import annotations

import json
import platform
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from agent.datafiles import sha256_of

METADATA_FILE = "hotel_agent.json"
FORMAT_VERSION = 1
VERSIONED_PACKAGES = ("torch", "transformers", "peft", "accelerate", "bitsandbytes", "hotel-agent")


@dataclass(frozen=True)
class DataFingerprint:
    path: str
    sha256: str
    dialogues: int  # used for training after --limit-dialogues and length filtering

    @classmethod
    def of(cls, path: str | Path, dialogues: int) -> "DataFingerprint":
        return cls(str(path), sha256_of(path), dialogues)


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in VERSIONED_PACKAGES:
        try:
            versions[package] = importlib_metadata.version(package)
        except importlib_metadata.PackageNotFoundError:
            versions[package] = "absent"
    return versions


def build_metadata(*, config: dict[str, Any], template_hash: str, record_style: str, train: DataFingerprint,
                   dev: DataFingerprint | None, final_train_loss: float | None, final_dev_loss: float | None,
                   steps: int, train_tokens: int) -> dict[str, Any]:
    return {
        "format": FORMAT_VERSION,
        "family": config["family"],
        "base_model": config["model"],
        "gguf_file": config.get("gguf_file"),
        "method": config["method"],
        "template_hash": template_hash,
        "record_style": record_style,
        "train_data": vars(train),
        "dev_data": vars(dev) if dev else None,
        "hyperparameters": config,
        "final_train_loss": final_train_loss,
        "final_dev_loss": final_dev_loss,
        "steps": steps,
        "train_tokens_per_epoch": train_tokens,
        "versions": library_versions(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def write_metadata(directory: str | Path, metadata: dict[str, Any]) -> Path:
    path = Path(directory) / METADATA_FILE
    path.write_text(json.dumps(metadata, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def read_metadata(directory: str | Path) -> dict[str, Any]:
    return json.loads((Path(directory) / METADATA_FILE).read_text(encoding="utf-8"))
