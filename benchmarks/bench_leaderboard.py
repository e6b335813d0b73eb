"""How long `tinytorch olympics leaderboard` takes over 2,000 submissions, beside its floor.

    python benchmarks/bench_leaderboard.py [--files 2000] [--rounds 5]

Writes a folder of generated submissions, each the size of a real one (100 raw latency samples
per model), about one in five broken in a different way (truncated JSON, wrong schema version,
out-of-range accuracy, inconsistent speedup, not JSON at all). Then, in each round, runs the
real command in a fresh interpreter, the same command kept to one process (no worker processes),
and the floor, a fresh interpreter that only `json.load`s the same files, in an order that flips
every round so that all see the same machine load. Prints every round, the medians of the wall
times and of the CPU times (worker processes included), the medians of the per-round ratios of
wall and of CPU time to the floor's, and how far the rounds spread, with the cores other
processes kept busy meanwhile (a WARNING over 10%). Exits 1 when the command's median wall time
is over the target or when either run ranks or skips the wrong files.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

import numpy as np

from tinytorch.olympics import BenchmarkReport, SimpleMLP, generate_submission, submission_errors

from _common import cpu_seconds, others_cores, rounds_text, stability, timed_run, verdict

TARGET_S = 1.0  # median wall time of the command over 2,000 files

#: The floor: what reading the same files costs a fresh interpreter, and nothing else.
FLOOR = """
import json, sys
from pathlib import Path

for path in sorted(p for p in Path(sys.argv[1]).rglob("*.json") if p.is_file()):
    with open(path, encoding="utf-8") as file:
        try:
            json.load(file)
        except ValueError:
            pass
"""


#: The same command in one process: the leaderboard's threshold for starting workers set out of reach.
ONE_PROCESS = """
import sys

import tinytorch.olympics.leaderboard as leaderboard
from tinytorch.olympics.cli import main

leaderboard.PARALLEL_THRESHOLD = sys.maxsize
sys.exit(main(sys.argv[1:]))
"""

#: What each round runs, by label: the command, the command in one process, and the floor.
LEADERBOARD, ONE, FLOOR_LABEL = "leaderboard", "one process", "floor"


def template() -> dict:
    """A real submission: a SimpleMLP and a copy of it benchmarked with 100 runs each."""
    rng = np.random.default_rng(0)
    X, y = rng.random((64, 64), dtype=np.float32), rng.integers(0, 10, 64)
    reports = []
    for name in ("baseline_fp32", "optimized"):
        report = BenchmarkReport(name)
        report.benchmark_model(SimpleMLP(seed=0), X, y, num_runs=100, warmup_runs=5, progress=False)
        reports.append(report)
    return generate_submission(*reports, student_name="template", techniques_applied=["int8_quantization"])


def variant(base: dict, i: int, rng: random.Random) -> dict:
    """A valid variation of `base`: optimized latency scaled, accuracy and size changed, consistently."""
    sub = copy.deepcopy(base)
    sub["student_name"] = f"student_{i:04d}"
    opt, imp = sub["optimized"], sub["improvements"]
    factor = rng.uniform(0.3, 1.2)
    opt["latency_samples_ms"] = [s * factor for s in opt["latency_samples_ms"]]
    m = opt["metrics"]
    for key in ("latency_ms_mean", "latency_ms_std", "latency_ms_p50", "latency_ms_p90", "latency_ms_p99"):
        m[key] *= factor
    m["throughput_samples_per_sec"] /= factor
    m["accuracy"] = round(rng.uniform(0.85, 0.99), 4)
    m["model_size_mb"] *= rng.uniform(0.2, 1.0)
    b = sub["baseline"]["metrics"]
    imp["speedup"] = b["latency_ms_mean"] / m["latency_ms_mean"]
    imp["compression_ratio"] = b["model_size_mb"] / m["model_size_mb"]
    imp["accuracy_delta"] = m["accuracy"] - b["accuracy"]
    return sub


def broken(text: str, sub: dict, kind: int) -> str:
    """One of five kinds of bad file."""
    if kind == 0:
        return text[: len(text) // 2]
    if kind == 1:
        return json.dumps(dict(sub, schema_version=3))
    if kind == 2:
        metrics = {**sub["optimized"]["metrics"], "accuracy": 1.5}
        return json.dumps({**sub, "optimized": {**sub["optimized"], "metrics": metrics}})
    if kind == 3:
        return json.dumps({**sub, "improvements": {**sub["improvements"], "speedup": 99.0}})
    return "this is not a submission\n"


def write_folder(folder: Path, count: int, seed: int = 0) -> tuple[int, int]:
    """`count` files under `folder` (in 20 subfolders); returns (valid, invalid) counts."""
    rng, base = random.Random(seed), template()
    valid = invalid = 0
    for i in range(count):
        sub = variant(base, i, rng)
        text = json.dumps(sub)
        path = folder / f"group_{i % 20:02d}" / f"submission_{i:04d}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        if i % 5 == 4:
            text = broken(text, sub, (i // 5) % 5)
            invalid += 1
        else:
            valid += 1
        path.write_text(text)
    assert not submission_errors(variant(base, 0, random.Random(1))), "the generator makes invalid submissions"
    return valid, invalid


def run_timed(command: list[str], label: str) -> tuple[float, float, object]:
    """Wall and CPU seconds (user + system, its child processes included) of one command run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall, result = timed_run(command, label)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), result


def counts_wrong(result, valid: int, invalid: int) -> str | None:
    """What is wrong with the command's board, or None when it ranked and skipped the right files."""
    board = json.loads(result.stdout)
    if (len(board["ranked"]), len(board["invalid"])) != (valid, invalid):
        return f"ranked {len(board['ranked'])} and skipped {len(board['invalid'])}, expected {valid} and {invalid}"
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000, help="submissions to generate (default: 2000)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of command and floor (default: 5)")
    args = parser.parse_args()
    times: dict[str, list[tuple[float, float]]] = {LEADERBOARD: [], ONE: [], FLOOR_LABEL: []}
    others = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "submissions"
        valid, invalid = write_folder(folder, args.files)
        size_mb = sum(p.stat().st_size for p in folder.rglob("*.json")) / 2**20
        arguments = ["olympics", "leaderboard", str(folder), "--format", "json"]
        commands = {
            LEADERBOARD: [sys.executable, "-m", "tinytorch.olympics.cli", *arguments],
            ONE: [sys.executable, "-c", ONE_PROCESS, *arguments],
            FLOOR_LABEL: [sys.executable, "-c", FLOOR, str(folder)],
        }
        for k in range(args.rounds):
            before, start = cpu_seconds(), time.perf_counter()
            for label in sorted(commands, reverse=k % 2 == 1):
                wall, cpu, result = run_timed(commands[label], label)
                if result.returncode != 0:
                    return 1
                if label != FLOOR_LABEL and (wrong := counts_wrong(result, valid, invalid)):
                    print(f"FAIL: {label}: {wrong}")
                    return 1
                times[label].append((wall, cpu))
            others.append(others_cores(before, cpu_seconds(), time.perf_counter() - start))
    walls = {label: [w for w, _ in pairs] for label, pairs in times.items()}
    cpus = {label: [c for _, c in pairs] for label, pairs in times.items()}
    wall = median(walls[LEADERBOARD])
    print(
        f"leaderboard over {args.files} files ({valid} valid, {invalid} invalid, {size_mb:.1f} MiB), "
        f"{args.rounds} rounds"
    )
    for label in commands:
        print(
            f"  {label:<11} wall {rounds_text(walls[label])} s: median {median(walls[label]):.2f} s; "
            f"CPU median {median(cpus[label]):.2f} s"
        )
    for label in (LEADERBOARD, ONE):
        ratios = [b / f for b, f in zip(walls[label], walls[FLOOR_LABEL], strict=True)]
        cpu_ratios = [b / f for b, f in zip(cpus[label], cpus[FLOOR_LABEL], strict=True)]
        print(
            f"  {label} / floor (json.load of the same files): wall median {median(ratios):.1f}× of "
            f"{rounds_text(ratios, 1)}; CPU median {median(cpu_ratios):.1f}×"
        )
    print(stability("leaderboard wall time", walls[LEADERBOARD], others))
    ok = wall <= TARGET_S
    print(f"leaderboard median wall {wall:.2f} s (target ≤ {TARGET_S:g} s)  {verdict(ok)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
