"""Plots of submissions, drawn headless (matplotlib's Agg renderer) and written as PNG and SVG.

- `plot_latency_distribution`: the empirical CDF of baseline and optimized latency samples,
  with p50, p90 and p99 marked.
- `plot_tradeoff`: accuracy vs latency of several models, marker area by model size, with the
  Pareto front drawn and the Pareto-optimal points marked.

Figures are built with `matplotlib.figure.Figure` directly, never pyplot, so no GUI backend or
global state is touched. Every function returns the paths it wrote.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib import rc_context
from matplotlib.figure import Figure

from tinytorch.olympics.leaderboard import Entry, Leaderboard, entry_from_submission, pareto_mask, rank
from tinytorch.submission.vocabulary import BASELINE, MODEL_ROLES, OPTIMIZED

FORMATS = ("png", "svg")
LATENCY_STEM = "latency_distribution"
TRADEOFF_STEM = "accuracy_vs_latency"
_COLORS = {BASELINE: "#1f77b4", OPTIMIZED: "#d62728"}
_PERCENTILE_STYLES = (("p50", "-"), ("p90", "--"), ("p99", ":"))


def save_figure(fig: Figure, out_dir: str | os.PathLike, stem: str) -> list[Path]:
    """Write `fig` as `<stem>.png` and `<stem>.svg` in `out_dir` (created if needed)."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    # A fixed hash salt and no date keep the SVG identical for identical data.
    with rc_context({"svg.hashsalt": "tinytorch"}):
        for fmt in FORMATS:
            path = folder / f"{stem}.{fmt}"
            metadata = {"Date": None} if fmt == "svg" else {}
            fig.savefig(path, format=fmt, dpi=120, bbox_inches="tight", metadata=metadata)
            paths.append(path)
    return paths


def _ecdf(samples: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    x = np.sort(np.asarray(samples, dtype=float))
    return x, np.arange(1, len(x) + 1) / len(x)


def plot_latency_distribution(submission: dict, out_dir: str | os.PathLike, stem: str = LATENCY_STEM) -> list[Path]:
    """ECDF of single-sample latency for the baseline and (if any) optimized model, p50/p90/p99 marked."""
    fig = Figure(figsize=(7, 4.2))
    ax = fig.add_subplot()
    for role in MODEL_ROLES:
        if role not in submission:
            continue
        entry, color = submission[role], _COLORS[role]
        samples = entry.get("latency_samples_ms") or []
        label = f"{role}: {entry['model_name']}"
        if samples:
            x, y = _ecdf(samples)
            ax.step(x, y, where="post", color=color, label=f"{label} ({len(samples)} runs)")
        else:  # files upgraded from schema version 1 carry only the summary numbers
            ax.plot([], [], color=color, label=f"{label} (no raw samples)")
        for name, style in _PERCENTILE_STYLES:
            value = entry["metrics"][f"latency_ms_{name}"]
            ax.axvline(value, color=color, linestyle=style, linewidth=1, alpha=0.8)
            ax.annotate(
                f"{name} {value:.3g}",
                (value, {"p50": 0.5, "p90": 0.9, "p99": 0.99}[name]),
                xytext=(3, -10),
                textcoords="offset points",
                fontsize=7,
                color=color,
            )
    ax.set_xlabel("latency per single-sample forward (ms)")
    ax.set_ylabel("fraction of runs ≤ latency")
    ax.set_ylim(0, 1.05)
    ax.set_title("Latency distribution (ECDF); lines: p50 solid, p90 dashed, p99 dotted")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    return save_figure(fig, out_dir, stem)


def plot_tradeoff(
    entries: Sequence[Entry],
    out_dir: str | os.PathLike,
    stem: str = TRADEOFF_STEM,
    title: str = "Accuracy vs latency",
    label_points: bool | None = None,
) -> list[Path]:
    """Accuracy vs p50 latency, marker area ∝ model size, Pareto front (accuracy vs latency) drawn.

    Points that are Pareto-optimal on all three criteria (`Entry.pareto`) get a star.
    """
    if not entries:
        raise ValueError("plot_tradeoff: no entries to plot")
    acc = np.array([e.accuracy for e in entries])
    lat = np.array([e.latency_ms_p50 for e in entries])
    size = np.array([e.model_size_mb for e in entries])
    fig = Figure(figsize=(7, 4.5))
    ax = fig.add_subplot()
    area = 20 + 180 * size / size.max()
    optimal = np.array([e.pareto for e in entries])
    if not optimal.all():
        ax.scatter(lat[~optimal], acc[~optimal], s=area[~optimal], alpha=0.5, color="#7f7f7f", label="dominated")
    ax.scatter(
        lat[optimal],
        acc[optimal],
        s=area[optimal],
        alpha=0.9,
        color="#d62728",
        marker="*",
        label="Pareto-optimal (accuracy, latency, size)",
    )
    front = pareto_mask(acc, lat, np.zeros_like(lat))
    order = np.argsort(lat[front])
    ax.step(
        lat[front][order],
        acc[front][order],
        where="post",
        color="#d62728",
        linewidth=1.2,
        label="Pareto front (accuracy vs latency)",
    )
    if label_points if label_points is not None else len(entries) <= 12:
        for e in entries:
            ax.annotate(e.model, (e.latency_ms_p50, e.accuracy), xytext=(4, 4), textcoords="offset points", fontsize=7)
    ax.margins(x=0.15, y=0.08)  # room for the labels of the outermost points
    ax.set_xlabel("latency p50 (ms, lower is better)")
    ax.set_ylabel("accuracy (higher is better)")
    ax.set_title(f"{title} (marker area ∝ model size)")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    return save_figure(fig, out_dir, stem)


def submission_entries(submission: dict) -> list[Entry]:
    """The models of one submission as leaderboard entries (built as the leaderboard builds
    them, the file column naming the role), ranked by latency."""
    return rank(
        [entry_from_submission(submission, role, role=role) for role in MODEL_ROLES if role in submission], "latency"
    )


def plot_submission(submission: dict, out_dir: str | os.PathLike) -> list[Path]:
    """Both plots for one submission: its latency distribution and its models' trade-off."""
    return plot_latency_distribution(submission, out_dir) + plot_tradeoff(
        submission_entries(submission), out_dir, title="Baseline vs optimized"
    )


def plot_leaderboard(board: Leaderboard, out_dir: str | os.PathLike) -> list[Path]:
    """The accuracy-vs-latency trade-off of every ranked submission of a leaderboard."""
    if not board.ranked:
        raise ValueError("no valid submission to plot")
    return plot_tradeoff(board.ranked, out_dir, title=f"Leaderboard: {len(board.ranked)} submissions")
