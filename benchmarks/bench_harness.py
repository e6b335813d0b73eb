"""Do `time_callable` and the capstone's BenchmarkReport measure what an independent tool measures?
And what does the harness cost per timed call?

    python benchmarks/bench_harness.py            # time_callable against timeit (in-process)
    python benchmarks/bench_harness.py --pyperf   # also against pyperf (worker processes, ~15 s)

1. Agreement. One callable, a 96×96 float64 matmul on one BLAS thread (~50–200 µs), is
   timed by `tinytorch.perf.benchmarking.time_callable` (median of single timed calls), by
   `BenchmarkReport.benchmark_model` (its latency samples of a model whose forward is the call), and
   by `timeit.Timer` (number of loops from `autorange`, median of the per-loop times of its
   blocks), in alternating rounds of equal length so both see the same machine load. Note
   that a timeit block is a mean over many calls, so on a busy machine the time other
   processes take is spread into it, while a median of single calls leaves it out: the two
   agree on a quiet machine and drift apart under load (the load average is printed). PASS when the two
   medians are within 10%. With `--pyperf`, `python -m pyperf timeit` measures the same
   callable in its own worker processes and its median is printed beside them.
2. Overhead. The wall time per call of `time_callable` on a no-op, against the wall time per
   iteration of a loop doing nothing but a bare pair of `perf_counter_ns` calls, in many short
   alternating rounds; the verdict uses the median of the per-round ratios. PASS when ≤ 2×. The
   median sample a no-op gets (the floor of any measurement) is printed too.

Exits 1 on any FAIL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path

import numpy as np

from tinytorch.perf.benchmarking import time_callable

from _common import verdict

AGREEMENT_TOLERANCE = 0.10
OVERHEAD_TARGET = 2.0
ROUNDS = 11
OVERHEAD_CALLS = 20_000
OVERHEAD_ROUNDS = 41
MATRIX = 96


def make_workload():
    """The measured callable: a seeded MATRIX×MATRIX matmul, BLAS held to one thread.

    One thread because two processes' BLAS pools fighting over two cores would measure the
    scheduler, not the harness. Imported by the pyperf workers too, so they time the same thing.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    rng = np.random.default_rng(0)
    a, b = rng.random((MATRIX, MATRIX)), rng.random((MATRIX, MATRIX))
    return lambda: a @ b


def agreement_with_timeit(fn) -> dict:
    """Per-call samples in µs from time_callable, BenchmarkReport and timeit, in alternating rounds.

    Each round gives timeit one block of `number` loops (from autorange, ≥ 0.2 s) and each of
    ours the same number of calls, in a rotating order, so all spend equal time under the same load.
    """
    timer = timeit.Timer(fn)
    number, _ = timer.autorange()
    samples: dict = {"time_callable": [], "BenchmarkReport": [], "timeit": []}
    steps = [
        lambda: samples["time_callable"].extend(
            time_callable(fn, num_runs=number, warmup_runs=5, progress=False).samples_ms * 1e3
        ),
        lambda: samples["BenchmarkReport"].extend(report_samples_us(fn, number)),
        lambda: samples["timeit"].extend(np.array(timer.repeat(repeat=1, number=number)) / number * 1e6),
    ]
    for i in range(ROUNDS):
        for step in steps[i % 3 :] + steps[: i % 3]:
            step()
    return {name: np.array(values) for name, values in samples.items()}


class MatmulModel:
    """The workload as a model, so the capstone's BenchmarkReport can measure it."""

    def __init__(self, fn) -> None:
        self.fn = fn

    def forward(self, x):
        self.fn()
        return x

    def parameters(self) -> list:
        return []


def report_samples_us(fn, num_runs: int) -> list:
    """Single-call latencies in µs that BenchmarkReport.benchmark_model measures for `fn`."""
    from tinytorch.olympics import BenchmarkReport

    X, y = np.zeros((32, 10), dtype=np.float32), np.zeros(32, dtype=np.int64)
    report = BenchmarkReport("matmul")
    report.benchmark_model(MatmulModel(fn), X, y, num_runs=num_runs, warmup_runs=5, progress=False)
    return [s * 1e3 for s in report.latency_samples_ms]


def pyperf_median_us() -> float:
    """Median per-call time in µs of the same workload measured by `python -m pyperf timeit`."""
    setup = (
        f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parent)!r}); "
        "from bench_harness import make_workload; fn = make_workload()"
    )
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "pyperf.json"
        subprocess.run(
            [sys.executable, "-m", "pyperf", "timeit", "--quiet", "-p", "10", "-s", setup, "fn()", "-o", str(out)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        data = json.loads(out.read_text())
    values = [v for run in data["benchmarks"][0]["runs"] for v in run.get("values", [])]
    return float(np.median(values)) * 1e6


def overhead_ratio() -> tuple[float, float, float, float]:
    """(harness ns per call, bare-pair ns per iteration, their median ratio, no-op median sample ns)."""

    def noop():
        return None

    def bare_pairs(n: int) -> None:
        timer = time.perf_counter_ns
        for _ in range(n):
            _start = timer()  # stored, as the harness stores its two timestamps
            _stop = timer()

    harness, bare, floors = [], [], []
    clock = time.perf_counter_ns
    for i in range(OVERHEAD_ROUNDS):
        for kind in ("harness", "bare") if i % 2 == 0 else ("bare", "harness"):
            start = clock()
            if kind == "harness":
                result = time_callable(noop, num_runs=OVERHEAD_CALLS, warmup_runs=0, progress=False)
                harness.append((clock() - start) / OVERHEAD_CALLS)
                floors.append(result.median * 1e6)
            else:
                bare_pairs(OVERHEAD_CALLS)
                bare.append((clock() - start) / OVERHEAD_CALLS)
    ratio = float(np.median(np.array(harness) / np.array(bare)))
    return float(np.median(harness)), float(np.median(bare)), ratio, float(np.median(floors))


def main(argv: list[str]) -> int:
    failed = False
    fn = make_workload()
    samples = agreement_with_timeit(fn)
    reference = float(np.median(samples["timeit"]))
    ours = float(np.median(samples["time_callable"]))
    print(f"load average (1 min) {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    for name in ("time_callable", "BenchmarkReport"):
        median = float(np.median(samples[name]))
        ratio = median / reference
        ok = abs(ratio - 1.0) <= AGREEMENT_TOLERANCE
        failed |= not ok
        print(
            f"{MATRIX}×{MATRIX} matmul: {name} median {median:.2f} µs, timeit median {reference:.2f} µs, "
            f"ratio {ratio:.3f} (target within {AGREEMENT_TOLERANCE:.0%})  {verdict(ok)}"
        )
        print(
            f"{'':>17}means {np.mean(samples[name]):.2f} µs and {np.mean(samples['timeit']):.2f} µs "
            "(information: a mean keeps the time lost to other processes)"
        )
    if "--pyperf" in argv:
        ref = pyperf_median_us()
        print(
            f"{MATRIX}×{MATRIX} matmul: pyperf median {ref:.2f} µs (worker processes), "
            f"time_callable / pyperf {ours / ref:.3f}"
        )
    per_call, per_pair, ratio, floor = overhead_ratio()
    ok = ratio <= OVERHEAD_TARGET
    failed |= not ok
    print(
        f"harness overhead: {per_call:.0f} ns per timed call vs {per_pair:.0f} ns per bare perf_counter_ns "
        f"pair, ratio {ratio:.2f}× (target ≤ {OVERHEAD_TARGET}×)  {verdict(ok)}"
    )
    print(f"an empty call measures {floor:.0f} ns (the resolution floor of every sample)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
