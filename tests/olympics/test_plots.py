"""plots: real PNG and SVG files with the curves drawn, for a submission and for a leaderboard."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from matplotlib.image import imread

from tests.olympics.submissions import make_submission, noisy_samples, write
from tinytorch.olympics.leaderboard import build_leaderboard, combined_score, entry_from_submission
from tinytorch.olympics.plots import (
    _COLORS,
    plot_latency_distribution,
    plot_leaderboard,
    plot_submission,
    submission_entries,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
BASELINE_RGB, OPTIMIZED_RGB = to_rgb(_COLORS["baseline"]), to_rgb(_COLORS["optimized"])


def has_color(path, rgb, tolerance=0.08):
    """Whether some pixel of the PNG is close to `rgb` (0-1 floats)."""
    pixels = imread(path)[..., :3]
    return bool(np.any(np.all(np.abs(pixels - np.array(rgb)) < tolerance, axis=-1)))


def check_files(paths, stems):
    assert sorted(p.name for p in paths) == sorted(f"{s}.{ext}" for s in stems for ext in ("png", "svg"))
    for path in paths:
        data = path.read_bytes()
        assert len(data) > 5000, f"{path.name} is suspiciously small ({len(data)} bytes)"
        if path.suffix == ".png":
            assert data.startswith(PNG_SIGNATURE)
            height, width = imread(path).shape[:2]
            assert width > 400 and height > 300
        else:
            root = ET.fromstring(data)
            assert root.tag.endswith("svg") and len(list(root.iter())) > 50


def test_latency_distribution_draws_both_models(measured_submission, tmp_path):
    paths = plot_latency_distribution(measured_submission, tmp_path)
    check_files(paths, ["latency_distribution"])
    png = next(p for p in paths if p.suffix == ".png")
    assert has_color(png, BASELINE_RGB), "no baseline curve"
    assert has_color(png, OPTIMIZED_RGB), "no optimized curve"


def test_baseline_only_submission_draws_one_curve(tmp_path):
    paths = plot_latency_distribution(make_submission(noisy_samples(1.0)), tmp_path)
    png = next(p for p in paths if p.suffix == ".png")
    assert has_color(png, BASELINE_RGB) and not has_color(png, OPTIMIZED_RGB)


def test_submission_plots_and_svg_is_reproducible(measured_submission, tmp_path):
    first = plot_submission(measured_submission, tmp_path / "a")
    second = plot_submission(measured_submission, tmp_path / "b")
    check_files(first, ["latency_distribution", "accuracy_vs_latency"])
    for a, b in zip(first, second, strict=False):
        if a.suffix == ".svg":
            assert a.read_bytes() == b.read_bytes(), f"{a.name} differs between two identical runs"


def test_leaderboard_plot(tmp_path):
    for i in range(12):
        write(
            tmp_path / "subs" / f"s{i}.json",
            make_submission(
                noisy_samples(1.0, seed=i),
                noisy_samples(0.2 + 0.07 * i, seed=50 + i),
                accuracy=(0.96, 0.90 + 0.005 * i),
                size_mb=(0.01, 0.002 + 0.0005 * i),
            ),
        )
    (tmp_path / "subs" / "broken.json").write_text("{")
    paths = plot_leaderboard(build_leaderboard(tmp_path / "subs"), tmp_path / "out")
    check_files(paths, ["accuracy_vs_latency"])


def test_an_empty_leaderboard_cannot_be_plotted(tmp_path):
    with pytest.raises(ValueError, match="no valid submission"):
        plot_leaderboard(build_leaderboard(tmp_path), tmp_path / "out")


def test_a_submissions_points_are_the_leaderboards_entries(measured_submission):
    entries = {e.role: e for e in submission_entries(measured_submission)}
    imp = measured_submission["improvements"]
    assert entries["optimized"] == dataclasses.replace(
        entry_from_submission(measured_submission, "optimized"),
        pareto=entries["optimized"].pareto,
        rank=entries["optimized"].rank,
    )
    assert entries["optimized"].speedup == imp["speedup"]
    assert entries["optimized"].score == combined_score(imp["speedup"], imp["compression_ratio"], imp["accuracy_delta"])
    baseline = entries["baseline"]
    assert (baseline.speedup, baseline.compression_ratio, baseline.accuracy_delta) == (1.0, 1.0, 0.0)
    assert baseline.accuracy == measured_submission["baseline"]["metrics"]["accuracy"]
