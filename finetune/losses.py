"""`finetune losses`: the train loss of several runs at the same optimizer steps, side by side (LoRA vs QLoRA
with one schedule, one seed and one data order differ only by the base model's precision)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from finetune.plots import loss_curves, save_loss_figure


def loss_table(histories: Mapping[str, Sequence[dict[str, Any]]]) -> list[str]:
    """Markdown: one row per logged step (train loss of each run, blank where a run did not log that step),
    then the dev losses each run computed, at the step it computed them."""
    names = list(histories)
    curves = {name: loss_curves(history) for name, history in histories.items()}
    train = {name: dict(c[0]) for name, c in curves.items()}
    steps = sorted({step for points in train.values() for step in points})
    lines = ["| step | " + " | ".join(names) + " |", "|---:|" + "---:|" * len(names)]
    for step in steps:
        lines.append(f"| {step} | " + " | ".join(_loss(train[n].get(step)) for n in names) + " |")
    dev = {name: dict(c[1]) for name, c in curves.items()}
    for step in sorted({step for points in dev.values() for step in points}):
        lines.append(f"| dev loss at {step} | " + " | ".join(_loss(dev[n].get(step)) for n in names) + " |")
    return lines


def plot_losses(histories: Mapping[str, Sequence[dict[str, Any]]], path: str | Path, title: str = "") -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4))
    for name, history in histories.items():
        train, dev = loss_curves(history)
        if train:
            (line,) = axes.plot(*zip(*train), label=f"{name} train")
            if dev:
                axes.plot(*zip(*dev), marker="o", linestyle="none", color=line.get_color(), label=f"{name} dev")
    return save_loss_figure(figure, axes, path, title)


def _loss(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"
