"""A model whose forward takes a known time, to test the instruments that time it."""

from __future__ import annotations

import time

import numpy as np

from tinytorch.core.tensor import Tensor
from tinytorch.olympics import BenchmarkReport


class BusyModel:
    """forward spins for `cost_ms` per call (its first `slow_calls` calls for `slow_ms`)."""

    def __init__(self, cost_ms: float = 1.0, slow_calls: int = 0, slow_ms: float = 30.0, n_classes: int = 10) -> None:
        self.cost_ms, self.slow_calls, self.slow_ms = cost_ms, slow_calls, slow_ms
        self.weight = Tensor(np.zeros((64, n_classes), dtype=np.float32))
        self.calls = 0
        self.spans: list[tuple[int, int]] = []  # (start, end) of each call by time.perf_counter_ns

    def forward(self, x: Tensor) -> Tensor:
        start = time.perf_counter_ns()
        ms = self.slow_ms if self.calls < self.slow_calls else self.cost_ms
        self.calls += 1
        end = start + int(ms * 1e6)
        while time.perf_counter_ns() < end:
            pass
        self.spans.append((start, time.perf_counter_ns()))
        return Tensor(np.zeros((x.shape[0], self.weight.shape[1]), dtype=np.float32))

    def took_ms(self, i: int) -> float:
        """What call `i` took by the model's own stopwatch: the least a stopwatch around it reads."""
        start, end = self.spans[i]
        return (end - start) / 1e6

    def envelope_ms(self, i: int) -> float:
        """From the end of the call before call `i` to the start of the call after it: the most a
        stopwatch around call `i` alone can read, however busy the machine."""
        return (self.spans[i + 1][0] - self.spans[i - 1][1]) / 1e6

    def parameters(self) -> list:
        return [self.weight]


def measured_report(name: str, cost_ms: float, runs: int = 30) -> BenchmarkReport:
    rng = np.random.default_rng(0)
    report = BenchmarkReport(name)
    report.benchmark_model(
        BusyModel(cost_ms),
        rng.random((32, 64), dtype=np.float32),
        rng.integers(0, 10, 32),
        num_runs=runs,
        warmup_runs=2,
        progress=False,
    )
    return report
