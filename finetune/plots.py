"""loss.png: train and dev loss against optimizer steps (matplotlib is imported only here, only when drawing)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


def loss_curves(log_history: Sequence[dict[str, Any]]) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
    """(train, dev) as (step, loss) points from a Trainer's `state.log_history`."""
    train = [(int(e["step"]), float(e["loss"])) for e in log_history if "loss" in e and "step" in e]
    dev = [(int(e["step"]), float(e["eval_loss"])) for e in log_history if "eval_loss" in e and "step" in e]
    return train, dev


def plot_loss(log_history: Sequence[dict[str, Any]], path: str | Path, title: str = "") -> Path:
    import matplotlib

    matplotlib.use("Agg")  # no display on a training box
    import matplotlib.pyplot as plt

    train, dev = loss_curves(log_history)
    figure, axes = plt.subplots(figsize=(7, 4))
    if train:
        axes.plot(*zip(*train), label="train", marker="." if len(train) < 30 else None)
    if dev:
        axes.plot(*zip(*dev), label="dev", marker="o")
    return save_loss_figure(figure, axes, path, title)


def save_loss_figure(figure: Any, axes: Any, path: str | Path, title: str) -> Path:
    """Label a loss-by-step figure the same way everywhere, write it and free it."""
    import matplotlib.pyplot as plt

    axes.set_xlabel("optimizer step")
    axes.set_ylabel("cross-entropy per trained token")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return Path(path)
