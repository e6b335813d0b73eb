"""Statistics for timing samples: percentiles, a confidence interval of the median, and a
two-sided Mann–Whitney U test. Pure numpy and the standard library, no scipy.

Timing samples are skewed (a floor set by the work, a long tail set by interruptions), so the
tools here make no normality assumption: order statistics for the median's interval, ranks for
comparing two samples.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np


def as_samples(samples: Iterable[float], name: str = "samples") -> np.ndarray:
    """`samples` as a 1-D float64 array; ValueError naming `name` if empty or not finite."""
    if not isinstance(samples, np.ndarray):
        samples = list(samples)
    try:
        arr = np.asarray(samples, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: expected a sequence of numbers ({exc})") from None
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a flat sequence of numbers, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name}: expected at least one sample, got an empty sequence")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: expected finite numbers, got NaN or infinity")
    return arr


def percentile(samples: Iterable[float], q: float) -> float:
    """The q-th percentile (0 ≤ q ≤ 100) with numpy's linear interpolation between order statistics."""
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"q: expected a percentile between 0 and 100, got {q!r}")
    return float(np.percentile(as_samples(samples), q))


def _binomial_half_cdf(n: int) -> np.ndarray:
    """P(B ≤ i) for i = 0..n with B ~ Binomial(n, 1/2), computed in log space so large n works."""
    k = np.arange(1, n + 1, dtype=np.float64)
    # log C(n, k) = sum over i ≤ k of log((n - i + 1) / i)
    log_choose = np.r_[0.0, np.cumsum(np.log(n - k + 1) - np.log(k))]
    return np.cumsum(np.exp(log_choose - n * math.log(2.0)))


def median_confidence_interval(samples: Iterable[float], confidence: float = 0.95) -> tuple[float, float]:
    """A distribution-free confidence interval of the median, from order statistics.

    The number of samples below the true median is Binomial(n, 1/2). With the samples sorted
    x(1) ≤ … ≤ x(n), the interval [x(j), x(n+1-j)] covers the median with probability
    1 − 2·P(B ≤ j−1); j is the largest rank keeping that coverage ≥ `confidence`. When n is too
    small for any such j (n < 6 at 95%), the interval is the whole range [min, max].
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence: expected a level strictly between 0 and 1, got {confidence!r}")
    x = np.sort(as_samples(samples))
    n = x.size
    tail = (1.0 - confidence) / 2.0
    cdf = _binomial_half_cdf(n)
    # j - 1 = the largest count with P(B <= j - 1) <= tail; j is a 1-based rank.
    below = np.flatnonzero(cdf <= tail + 1e-12)
    j = int(below[-1]) + 1 if below.size else 0
    if j < 1:
        return float(x[0]), float(x[-1])
    return float(x[j - 1]), float(x[n - j])


def rank_with_ties(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """1-based ranks, tied values sharing their average rank; also the size of every tie group."""
    order = np.argsort(values, kind="mergesort")
    sorted_vals = values[order]
    # Start of each run of equal values in sorted order.
    starts = np.flatnonzero(np.r_[True, sorted_vals[1:] != sorted_vals[:-1]])
    sizes = np.diff(np.r_[starts, values.size])
    average_rank = starts + (sizes + 1) / 2.0
    ranks = np.empty(values.size, dtype=np.float64)
    ranks[order] = np.repeat(average_rank, sizes)
    return ranks, sizes


def mann_whitney_u(a: Sequence[float], b: Sequence[float]) -> tuple[float, float]:
    """Two-sided Mann–Whitney U test: (U of `a`, p-value).

    U counts the pairs (x from a, y from b) with x > y, ties counting one half. The p-value uses
    the normal approximation with the tie correction of the variance and a continuity
    correction of 1/2 (scipy's `mannwhitneyu(..., method="asymptotic")` gives the same). When
    every value is equal there is no evidence of a difference and p is 1.
    """
    x, y = as_samples(a, "a"), as_samples(b, "b")
    n1, n2 = x.size, y.size
    n = n1 + n2
    ranks, ties = rank_with_ties(np.concatenate([x, y]))
    u1 = float(ranks[:n1].sum() - n1 * (n1 + 1) / 2.0)
    mean_u = n1 * n2 / 2.0
    tie_term = float(np.sum(ties.astype(np.float64) ** 3 - ties)) / (n * (n - 1)) if n > 1 else 0.0
    var_u = n1 * n2 / 12.0 * ((n + 1) - tie_term)
    if var_u <= 0.0:
        return u1, 1.0
    z = (abs(u1 - mean_u) - 0.5) / math.sqrt(var_u)
    p = math.erfc(max(z, 0.0) / math.sqrt(2.0))
    return u1, float(min(p, 1.0))


def intervals_overlap(first: tuple[float, float], second: tuple[float, float]) -> bool:
    """Whether two closed intervals (lo, hi) share at least one point."""
    (lo1, hi1), (lo2, hi2) = _interval(first, "first"), _interval(second, "second")
    return lo1 <= hi2 and lo2 <= hi1


def _interval(interval: tuple[float, float], name: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in interval)
    except (TypeError, ValueError):
        lo = hi = math.nan
    if not lo <= hi:  # also catches NaN
        raise ValueError(f"{name}: expected an interval (lo, hi) with lo ≤ hi, got {interval!r}")
    return lo, hi
