"""`--device cuda:N` for training: make GPU N the process's only visible GPU before CUDA starts.

transformers' Trainer trains a single process on `cuda:0` whatever device is asked for, and with several GPUs
visible it wraps the model in DataParallel. Restricting CUDA_VISIBLE_DEVICES to the chosen GPU is the one way to
honour the index that every library in the process respects; inside the process that GPU is then `cuda:0`."""

from __future__ import annotations

import os
from collections.abc import MutableMapping

from agent.core.errors import UserError

VISIBLE = "CUDA_VISIBLE_DEVICES"


def cuda_index(device: str | None) -> int | None:
    """N of "cuda:N"; None for "cuda", "cpu" or None."""
    if device is None or not device.startswith("cuda:"):
        return None
    suffix = device.split(":", 1)[1]
    if not suffix.isdigit():
        raise UserError(f"--device {device!r} is not a torch device (e.g. cpu, cuda, cuda:1)")
    return int(suffix)


def pin_cuda_device(device: str | None, environ: MutableMapping[str, str] = os.environ) -> dict[str, str | None]:
    """Restrict CUDA_VISIBLE_DEVICES to the GPU of `device` ("cuda:N") and return the variables as they were
    (for child processes that should see every GPU again); nothing to do for "cuda", "cpu" or None.

    Must run before this process first touches CUDA: afterwards the variable is no longer read."""
    index = cuda_index(device)
    if index is None:
        return {}
    if int(environ.get("WORLD_SIZE", "1")) > 1:
        raise UserError(
            f"--device {device} picks one GPU, but this is a {environ['WORLD_SIZE']}-process launch: "
            f"choose the launch's GPUs with {VISIBLE} instead"
        )
    before = environ.get(VISIBLE)
    visible = [v.strip() for v in before.split(",")] if before else None
    if visible is not None and index >= len(visible):
        raise UserError(f"--device {device}: {VISIBLE}={before} makes only {len(visible)} GPU(s) visible")
    environ[VISIBLE] = visible[index] if visible is not None else str(index)
    return {VISIBLE: before}


def environment_without_pin(restore: dict[str, str | None]) -> dict[str, str]:
    """This process's environment with the variables `pin_cuda_device` changed put back (None: unset)."""
    env = dict(os.environ)
    for key, value in restore.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env
