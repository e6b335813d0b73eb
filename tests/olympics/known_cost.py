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

    def forward(self, x: Tensor) -> Tensor:
        ms = self.slow_ms if self.calls < self.slow_calls else self.cost_ms
        self.calls += 1
        end = time.perf_counter_ns() + int(ms * 1e6)
        while time.perf_counter_ns() < end:
            pass
        return Tensor(np.zeros((x.shape[0], self.weight.shape[1]), dtype=np.float32))

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
