"""Plain-text tables of metrics, one number format for every table."""

from __future__ import annotations

from typing import Any

from tinytorch.submission.vocabulary import METRIC_KEYS, MODEL_ROLES


def format_number(value: Any) -> str:
    """A metric for a table: ints with thousands separators, floats to 4 significant digits, None as '-'."""
    if value is None:
        return "-"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.4g}"


def format_table(rows: dict, keys: tuple = METRIC_KEYS) -> str:
    """A plain-text table: one column per model (name → metrics dict), one row per metric."""
    names = list(rows)
    width = max(12, *(len(n) for n in names))
    lines = [f"{'metric':<34}" + "".join(f"{n:>{width + 2}}" for n in names)]
    for key in keys:
        cells = "".join(f"{format_number(rows[n].get(key)):>{width + 2}}" for n in names)
        lines.append(f"{key:<34}{cells}")
    return "\n".join(lines)


def format_comparison(submission: dict) -> str:
    """A table of the submission's baseline and optimized metrics, with the improvements."""
    rows = {submission[role]["model_name"]: submission[role]["metrics"] for role in MODEL_ROLES if role in submission}
    table = format_table(rows)
    imp = submission.get("improvements")
    if imp:
        verdict = "significant" if imp["speedup_significant"] else "not significant"
        p = f", p = {imp['p_value']:.3g}" if imp.get("p_value") is not None else ""
        table += (
            f"\n\nspeedup {imp['speedup']:.3f}× in mean latency ({verdict}, {imp['significance_test']}{p}), "
            f"compression {imp['compression_ratio']:.2f}×, accuracy Δ {imp['accuracy_delta']:+.4f}"
        )
    return table
