"""What produced a score: the data, the backend, the metric settings and the software, written into every
run so two numbers are only compared when they were computed the same way (as sacreBLEU signs its scores)."""

from __future__ import annotations

import platform
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from agent.core.codecs import detect_format
from agent.core.datafiles import data_dir, sha256_of
from evalharness.metrics import BLEU_SETTINGS, SACREBLEU_SETTINGS, SLOT_SETTINGS

# Versions that can move a score; read from package metadata so nothing heavy (torch) is imported.
PACKAGES = ("hotel-agent", "sacrebleu", "torch", "transformers", "peft", "bitsandbytes", "accelerate", "gguf")


@dataclass(frozen=True)
class DataSignature:
    path: str  # relative to the data directory when it lies there, else as given
    sha256: str
    format: str  # "samples" or "messages"
    samples_in_file: int
    samples_evaluated: int
    limit: int | None


def data_signature(path: Path, samples_in_file: int, samples_evaluated: int, limit: int | None) -> DataSignature:
    return DataSignature(
        display_path(path), sha256_of(path), detect_format(path), samples_in_file, samples_evaluated, limit
    )


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(data_dir().resolve()))
    except ValueError:
        return str(path)


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def metric_settings(sacrebleu_signature: str) -> dict[str, str]:
    return {
        "bleu4": BLEU_SETTINGS,
        "slots": SLOT_SETTINGS,
        "sacrebleu": SACREBLEU_SETTINGS,
        "sacrebleu_signature": sacrebleu_signature,
    }


def run_signature(
    data: DataSignature, backend_name: str, backend_signature: dict[str, Any], sacrebleu_signature: str
) -> dict[str, Any]:
    return {
        "data": asdict(data),
        "backend": {"name": backend_name, **backend_signature},
        "metrics": metric_settings(sacrebleu_signature),
        "packages": package_versions(),
    }
