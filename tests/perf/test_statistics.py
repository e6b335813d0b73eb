"""Statistics on timing samples, checked against numpy and against values worked by hand."""

import math

import numpy as np
import pytest

from tinytorch.perf.statistics import (
    intervals_overlap,
    mann_whitney_u,
    median_confidence_interval,
    percentile,
    rank_with_ties,
)

SKEWED = np.random.default_rng(7).lognormal(mean=0.0, sigma=0.5, size=257)


@pytest.mark.parametrize("q", [0, 1, 25, 50, 90, 99, 100])
def test_percentile_matches_numpy_linear(q):
    assert percentile(SKEWED, q) == pytest.approx(np.percentile(SKEWED, q), rel=0, abs=1e-12)


def test_percentile_by_hand():
    # 1..10: position (n-1)·q/100 = 8.1 → 9 + 0.1·(10 - 9)
    assert percentile(range(1, 11), 90) == pytest.approx(9.1)
    assert percentile([3.0], 99) == 3.0


@pytest.mark.parametrize("n, ranks", [(10, (2, 9)), (100, (40, 61)), (6, (1, 6))])
def test_median_ci_uses_the_tabulated_order_statistics(n, ranks):
    # Binomial(n, 1/2) tables: n=10 → x(2), x(9) (P(B ≤ 1) = 11/1024 ≤ 0.025 < 56/1024);
    # n=100 → x(40), x(61) (P(B ≤ 39) = 0.0176 ≤ 0.025 < P(B ≤ 40) = 0.0284);
    # n=6 → x(1), x(6) (P(B ≤ 0) = 1/64 = 0.0156).
    x = np.arange(1.0, n + 1)[::-1]  # unsorted on purpose
    assert median_confidence_interval(x) == (float(ranks[0]), float(ranks[1]))


def test_median_ci_small_n_is_the_whole_range_and_n1_is_a_point():
    assert median_confidence_interval([5.0, 1.0, 3.0]) == (1.0, 5.0)
    assert median_confidence_interval([2.5]) == (2.5, 2.5)


def test_median_ci_covers_the_median_and_narrows_with_lower_confidence():
    lo95, hi95 = median_confidence_interval(SKEWED, 0.95)
    lo50, hi50 = median_confidence_interval(SKEWED, 0.50)
    assert lo95 <= lo50 <= np.median(SKEWED) <= hi50 <= hi95
    assert hi50 - lo50 < hi95 - lo95


def test_rank_with_ties_averages():
    ranks, sizes = rank_with_ties(np.array([10.0, 20.0, 20.0, 5.0, 20.0]))
    assert ranks.tolist() == [2.0, 4.0, 4.0, 1.0, 4.0]
    assert sorted(sizes.tolist()) == [1, 1, 3]


def test_mann_whitney_separated_samples_by_hand():
    # U = 0; mean 4.5; var = 3·3/12·7 = 5.25; z = (4.5 - 0.5)/√5.25; p = erfc(z/√2)
    u, p = mann_whitney_u([1, 2, 3], [4, 5, 6])
    assert u == 0.0
    assert p == pytest.approx(math.erfc(4.0 / math.sqrt(5.25) / math.sqrt(2.0)), rel=1e-12)
    assert p == pytest.approx(0.0808556, abs=1e-6)
    assert mann_whitney_u([4, 5, 6], [1, 2, 3]) == (9.0, p)


def test_mann_whitney_with_ties_by_hand():
    # Combined ranks: 1→1, 2,2,2→3, 3,3→5.5, 4,4→7.5, 5→9, 6→10, 7→11. R_a = 21.5, U = 21.5 - 15 = 6.5.
    # Tie groups 3, 2, 2: Σ(t³ - t) = 36; var = 5·6/12 · (12 - 36/110); z = (|6.5 - 15| - 0.5)/√var.
    u, p = mann_whitney_u([1, 2, 2, 3, 5], [2, 3, 4, 4, 6, 7])
    var = 30 / 12 * (12 - 36 / 110)
    assert u == 6.5
    assert p == pytest.approx(math.erfc((8.5 - 0.5) / math.sqrt(var) / math.sqrt(2)), rel=1e-12)
    assert p == pytest.approx(0.1386259, abs=1e-6)  # scipy.stats.mannwhitneyu(method="asymptotic")


def test_mann_whitney_identical_samples_and_symmetry():
    assert mann_whitney_u([1.0, 1.0, 1.0], [1.0, 1.0]) == (3.0, 1.0)
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 50), rng.normal(0, 1, 60)
    u_ab, p_ab = mann_whitney_u(a, b)
    u_ba, p_ba = mann_whitney_u(b, a)
    assert u_ab + u_ba == 50 * 60 and p_ab == pytest.approx(p_ba)


def test_mann_whitney_detects_a_real_shift():
    rng = np.random.default_rng(1)
    _, p = mann_whitney_u(rng.normal(1.0, 0.05, 100), rng.normal(1.1, 0.05, 100))
    assert p < 1e-6


def test_intervals_overlap():
    assert intervals_overlap((1, 2), (2, 3))
    assert intervals_overlap((1, 5), (2, 3))
    assert not intervals_overlap((1, 2), (2.5, 3))
    assert not intervals_overlap((2.5, 3), (1, 2))


@pytest.mark.parametrize(
    "call",
    [
        lambda: percentile([], 50),
        lambda: median_confidence_interval([]),
        lambda: mann_whitney_u([], [1.0]),
        lambda: mann_whitney_u([1.0], []),
    ],
)
def test_empty_input_is_a_clear_error(call):
    with pytest.raises(ValueError, match="empty"):
        call()


def test_other_bad_input():
    with pytest.raises(ValueError, match="q"):
        percentile([1.0], 101)
    with pytest.raises(ValueError, match="confidence"):
        median_confidence_interval([1.0], 1.0)
    with pytest.raises(ValueError, match="finite"):
        percentile([1.0, float("nan")], 50)
    with pytest.raises(ValueError, match="second"):
        intervals_overlap((1, 2), (3, 1))
    with pytest.raises(ValueError, match="first"):
        intervals_overlap((1, 2, 3), (3, 4))
