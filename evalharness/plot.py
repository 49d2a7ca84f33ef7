"""A grouped bar chart of the reference's four figures for each compared row (matplotlib, imported only
when a plot is asked for: it is an optional dependency)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from agent.core.errors import UserError
from evalharness.compare import Row

FIGURES = (("BLEU-4", "bleu4"), ("slot P", "slot_p"), ("slot R", "slot_r"), ("slot F1", "slot_f1"))


def plot_rows(rows: Sequence[Row], path: Path) -> None:
    try:
        import matplotlib
    except ImportError:
        raise UserError("--plot needs matplotlib: pip install 'hotel-agent[llm]' or pip install matplotlib") from None
    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    width = 0.8 / max(1, len(rows))
    figure, axes = plt.subplots(figsize=(min(14.0, 5.0 + 0.5 * len(rows)), 4.5))
    for i, row in enumerate(rows):
        values = [getattr(row, attr) or 0.0 for _, attr in FIGURES]
        positions = [g + (i - (len(rows) - 1) / 2) * width for g in range(len(FIGURES))]
        axes.bar(positions, values, width, label=row.name, hatch="//" if row.reference else None)
    axes.set_xticks(range(len(FIGURES)), [label for label, _ in FIGURES])
    axes.set_ylim(0, 100)
    axes.set_ylabel("score (0–100)")
    axes.set_title("hotel-agent evaluation (test split)")
    axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))  # outside: bars stay visible
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        figure.savefig(path, dpi=120, bbox_inches="tight")
    except OSError as e:
        raise UserError(f"--plot {path}: cannot write ({e.strerror})") from None
    finally:
        plt.close(figure)
