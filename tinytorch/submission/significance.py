"""Whether a latency change is more than noise: the one decision rule every tool uses."""

from __future__ import annotations

from tinytorch.perf.statistics import intervals_overlap, mann_whitney_u


def speedup_significance(baseline: dict, optimized: dict, alpha: float = 0.05) -> dict:
    """Whether two models' latencies differ by more than noise.

    `baseline` and `optimized` are model entries (`metrics` and `latency_samples_ms`). With at
    least five raw samples on each side: a two-sided Mann–Whitney U test at level `alpha`.
    Otherwise (files upgraded from schema version 1): the ranges mean ± 2 std must not overlap.
    """
    a, b = baseline.get("latency_samples_ms") or [], optimized.get("latency_samples_ms") or []
    if len(a) >= 5 and len(b) >= 5:
        _, p = mann_whitney_u(a, b)
        return {"speedup_significant": bool(p < alpha), "significance_test": "mann-whitney-u", "p_value": float(p)}
    ranges = [
        (m["latency_ms_mean"] - 2 * m["latency_ms_std"], m["latency_ms_mean"] + 2 * m["latency_ms_std"])
        for m in (baseline["metrics"], optimized["metrics"])
    ]
    return {
        "speedup_significant": not intervals_overlap(*ranges),
        "significance_test": "range-overlap",
        "p_value": None,
    }
