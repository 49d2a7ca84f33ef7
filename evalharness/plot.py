"""A grouped bar chart of the reference's four figures for each compared row, every bar labelled with its
value (matplotlib, imported only when a plot is asked for: it is an optional dependency, the `plot` extra)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agent.core.errors import UserError
from evalharness.compare import Row

FIGURES = (("BLEU-4", "bleu4"), ("slot P", "slot_p"), ("slot R", "slot_r"), ("slot F1", "slot_f1"))


def plot_rows(rows: Sequence[Row], path: Path) -> None:
    """Draw the chart of `rows` to the PNG `path`."""
    figure = draw(rows)
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        figure.savefig(path, dpi=120, bbox_inches="tight")
    except OSError as e:
        raise UserError(f"--plot {path}: cannot write ({e.strerror})") from None
    finally:
        plt.close(figure)


def draw(rows: Sequence[Row]) -> Any:
    """The chart as a matplotlib Figure: one group of bars per figure, one bar per row (the legend names it by
    the row's short name), each bar labelled with its value ("—" where the run has none)."""
    plt = _pyplot()
    width = 0.8 / max(1, len(rows))
    figure, axes = plt.subplots(figsize=(min(14.0, 5.0 + 0.5 * len(rows)), 4.5))
    rotation = 0 if len(rows) <= 3 else 90  # beside a narrow bar a number only fits turned on its side
    for i, row in enumerate(rows):
        values = [getattr(row, attr) for _, attr in FIGURES]
        positions = [g + (i - (len(rows) - 1) / 2) * width for g in range(len(FIGURES))]
        bars = axes.bar(
            positions, [v or 0.0 for v in values], width, label=row.name, hatch="//" if row.reference else None
        )
        labels = ["—" if v is None else f"{v:.1f}" for v in values]
        axes.bar_label(bars, labels, padding=2, fontsize="x-small", rotation=rotation)
    axes.set_xticks(range(len(FIGURES)), [label for label, _ in FIGURES])
    axes.set_ylim(0, 112)  # room above a bar at 100 for its label
    axes.set_yticks(range(0, 101, 20))
    axes.set_ylabel("score (0–100)")
    axes.set_title("hotel-agent evaluation (test split)")
    axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))  # outside: bars stay visible
    figure.tight_layout()
    return figure


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise UserError("--plot needs matplotlib: pip install 'hotel-agent[plot]'") from None
    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    return plt
