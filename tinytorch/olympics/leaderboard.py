"""Rank every submission under a folder, mark the Pareto-optimal ones, list what could not be read.

Each `*.json` file is loaded with `olympics.load_submission` (so the one validator decides);
invalid or unreadable files are listed with their reason and skipped. Each submission is
represented by one model (`representative_role`: optimized where present, else baseline); which
way each column improves and what counts as the same machine are the submission vocabulary's
(`tinytorch.submission.vocabulary`).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from tinytorch.olympics.capstone import load_submission
from tinytorch.submission.errors import SubmissionFileError, SubmissionValidationError
from tinytorch.submission.schema import schema_checker
from tinytorch.submission.schema_check import leave_out_format_packages
from tinytorch.submission.vocabulary import OPTIMIZED, higher_is_better, machine_label, representative_role

FORMATS = ("md", "csv", "json")
#: How much each percentage point of accuracy lost costs in the combined score.
ACCURACY_PENALTY_PER_POINT = 0.10
SCORE_FORMULA = (
    "score = speedup (baseline mean latency / optimized mean latency) × √compression_ratio × "
    "max(0, 1 + 10 × accuracy_delta): speed counts "
    "fully, size at half weight on a log scale, and each percentage point of accuracy lost "
    "costs 10% of the score (a baseline-only submission scores 1)"
)
#: Below this many files, loading in one process beats starting workers.
PARALLEL_THRESHOLD = 200


@dataclass
class Entry:
    """One ranked submission (its optimized model where present, else its baseline)."""

    file: str
    student: str | None
    model: str
    role: str
    techniques: list
    accuracy: float
    latency_ms_p50: float
    model_size_mb: float
    speedup: float
    compression_ratio: float
    accuracy_delta: float
    speedup_significant: bool | None
    score: float
    machine: str = ""
    pareto: bool = False
    rank: int = 0

    def to_dict(self) -> dict:
        """The fields by name, in order, as `dataclasses.asdict` gives them, without its deep copy
        of every value (only the one list needs a copy): a board has thousands of entries."""
        return {**vars(self), "techniques": list(self.techniques)}


class Skipped(NamedTuple):
    """A file the leaderboard could not rank, and why."""

    file: str
    reason: str


@dataclass
class Leaderboard:
    """Ranked entries and the files that were skipped, with their reasons."""

    ranked: list[Entry]
    invalid: list[Skipped]
    sort: str

    def to_dict(self) -> dict:
        """The `--format json` object."""
        return {"ranked": [e.to_dict() for e in self.ranked], "invalid": [bad._asdict() for bad in self.invalid]}


def combined_score(speedup: float, compression_ratio: float, accuracy_delta: float) -> float:
    """See `SCORE_FORMULA`."""
    penalty = max(0.0, 1.0 + ACCURACY_PENALTY_PER_POINT * 100 * accuracy_delta)
    return float(speedup * math.sqrt(compression_ratio) * penalty)


def entry_from_submission(submission: dict, file: str, role: str | None = None) -> Entry:
    """The leaderboard entry of one valid submission, for its representative model or `role`.

    Improvements belong to the optimized model; any other model is its own reference (speedup
    and compression 1, accuracy delta 0), as a baseline-only submission is.
    """
    role = representative_role(submission) if role is None else role
    model = submission[role]
    metrics = model["metrics"]
    imp = (submission.get("improvements") or {}) if role == OPTIMIZED else {}
    speedup, ratio, delta = imp.get("speedup", 1.0), imp.get("compression_ratio", 1.0), imp.get("accuracy_delta", 0.0)
    return Entry(
        file=file,
        student=submission.get("student_name"),
        model=model["model_name"],
        role=role,
        techniques=list(model.get("techniques_applied", [])),
        accuracy=metrics["accuracy"],
        latency_ms_p50=metrics["latency_ms_p50"],
        model_size_mb=metrics["model_size_mb"],
        speedup=speedup,
        compression_ratio=ratio,
        accuracy_delta=delta,
        speedup_significant=imp.get("speedup_significant"),
        score=combined_score(speedup, ratio, delta),
        machine=machine_label(submission["system_info"]),
    )


def _load_one(path: str, relative: str) -> tuple[Entry | None, Skipped | None]:
    """(entry, None) for a valid file, (None, Skipped) otherwise. Never raises on bad input."""
    try:
        return entry_from_submission(load_submission(path), relative), None
    # An unreadable or invalid file skips this file, never the whole run.
    except (SubmissionFileError, SubmissionValidationError) as error:
        return None, Skipped(relative, error.reason)


def _load_many(jobs: list) -> list:
    return [_load_one(path, rel) for path, rel in jobs]


def _json_files(directory: Path) -> list[tuple[str, str]]:
    """(path, path relative to `directory` with / between its parts) of every `*.json` file under
    `directory`, in the order of the relative paths' parts: what `directory.rglob("*.json")`
    finds (symlinked folders are not entered, symlinked files are kept), without its cost of
    ~15 µs per file."""
    found = []
    for folder, _, names in os.walk(directory):
        inside = Path(os.path.relpath(folder, directory)).as_posix()
        for name in names:
            if name.endswith(".json") and os.path.isfile(path := os.path.join(folder, name)):
                found.append((path, name if inside == "." else f"{inside}/{name}"))
    return sorted(found, key=lambda job: job[1].split("/"))


def submission_files(directory: Path) -> list[Path]:
    """Every `*.json` file under `directory`, recursively, in a stable order (that of their parts)."""
    return [Path(path) for path, _ in _json_files(directory)]


def usable_cores() -> int:
    """The cores this process may run on (fewer than the machine's when it is pinned to some)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def load_entries(directory: Path, workers: int | None = None) -> tuple[list, list]:
    """Load every submission under `directory`: (entries, invalid). Parallel for large folders,
    one worker per usable core (at most 8) unless `workers` says otherwise."""
    jobs = _json_files(directory)
    workers = workers or min(usable_cores(), 8)
    if workers > 1 and len(jobs) >= PARALLEL_THRESHOLD:
        from concurrent.futures import ProcessPoolExecutor  # with multiprocessing: imports a small folder skips

        schema_checker()  # its compiled check is built here once, and forked workers inherit it
        chunks = [jobs[i::workers] for i in range(workers)]
        with ProcessPoolExecutor(max_workers=workers, initializer=leave_out_format_packages) as pool:
            results = [r for part in pool.map(_load_many, chunks) for r in part]
    else:
        results = _load_many(jobs)
    entries = [e for e, _ in results if e is not None]
    invalid = sorted((bad for _, bad in results if bad is not None), key=lambda b: b.file)
    return entries, invalid


def pareto_mask(accuracy: Iterable[float], latency: Iterable[float], size: Iterable[float]) -> np.ndarray:
    """True for points no other point dominates (accuracy ≥, latency ≤, size ≤, one strictly better)."""
    acc, lat, siz = (np.asarray(list(v), dtype=float) for v in (accuracy, latency, size))
    n = len(acc)
    optimal = np.ones(n, dtype=bool)
    for start in range(0, n, 1024):  # bounded memory: n × 1024 comparisons at a time
        a, t, s = acc[start : start + 1024, None], lat[start : start + 1024, None], siz[start : start + 1024, None]
        no_worse = (acc[None, :] >= a) & (lat[None, :] <= t) & (siz[None, :] <= s)
        better = (acc[None, :] > a) | (lat[None, :] < t) | (siz[None, :] < s)
        optimal[start : start + 1024] = ~np.any(no_worse & better, axis=1)
    return optimal


class SortOrder(NamedTuple):
    """What one `--sort` choice ranks by: an Entry field, and whether higher values are better."""

    field: str
    higher_is_better: bool

    def key(self, entry: Entry) -> tuple:
        """The sort key of `entry`: best first, ties broken by file name."""
        value = getattr(entry, self.field)
        return (-value if self.higher_is_better else value, entry.file)

    def describe(self, name: str) -> str:
        """e.g. 'size (model_size_mb, lowest first)'."""
        field = "" if self.field == name else f"{self.field}, "
        return f"{name} ({field}{'highest' if self.higher_is_better else 'lowest'} first)"


#: The `--sort` choices. Directions of a submission's numbers are the vocabulary's; the score is
#: the leaderboard's own number, better when higher.
SORT_ORDERS = {
    "score": SortOrder("score", True),
    **{
        name: SortOrder(field, higher_is_better(field))
        for name, field in (
            ("speedup", "speedup"),
            ("accuracy", "accuracy"),
            ("size", "model_size_mb"),
            ("latency", "latency_ms_p50"),
        )
    },
}
SORT_KEYS = tuple(SORT_ORDERS)


def rank(entries: list, sort: str = "score") -> list:
    """Entries sorted by `sort` (best first), numbered from 1, Pareto-optimal ones marked."""
    if sort not in SORT_ORDERS:
        raise ValueError(f"--sort: expected one of {', '.join(SORT_KEYS)}, got {sort!r}")
    mask = pareto_mask(
        [e.accuracy for e in entries], [e.latency_ms_p50 for e in entries], [e.model_size_mb for e in entries]
    )
    for entry, optimal in zip(entries, mask, strict=False):
        entry.pareto = bool(optimal)
    ordered = sorted(entries, key=SORT_ORDERS[sort].key)
    for number, entry in enumerate(ordered, start=1):
        entry.rank = number
    return ordered


def build_leaderboard(directory: str | os.PathLike, sort: str = "score", workers: int | None = None) -> Leaderboard:
    """Load, rank and mark every submission under `directory`.

    Raises:
        FileNotFoundError: `directory` does not exist or is not a folder.
        ValueError: `sort` is not one of SORT_KEYS (raised by `rank`).
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such directory")
    entries, invalid = load_entries(folder, workers)
    return Leaderboard(ranked=rank(entries, sort), invalid=invalid, sort=sort)


_COLUMNS = (
    "rank",
    "pareto",
    "file",
    "student",
    "model",
    "techniques",
    "accuracy",
    "latency_ms_p50",
    "model_size_mb",
    "speedup",
    "compression_ratio",
    "accuracy_delta",
    "score",
)


def _cells(entry: Entry) -> list[str]:
    return [
        str(entry.rank),
        "*" if entry.pareto else "",
        entry.file,
        entry.student or "",
        entry.model,
        "+".join(entry.techniques),
        f"{entry.accuracy:.4f}",
        f"{entry.latency_ms_p50:.4g}",
        f"{entry.model_size_mb:.4g}",
        f"{entry.speedup:.3f}",
        f"{entry.compression_ratio:.2f}",
        f"{entry.accuracy_delta:+.4f}",
        f"{entry.score:.3f}",
    ]


def render(board: Leaderboard, fmt: str = "md") -> str:
    """The leaderboard as Markdown, CSV or JSON text."""
    if fmt == "json":
        return json.dumps(board.to_dict(), indent=2)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(_COLUMNS)
        writer.writerows(_cells(e) for e in board.ranked)
        return out.getvalue()
    if fmt != "md":
        raise ValueError(f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    lines = [f"| {' | '.join(_COLUMNS)} |", "|" + "---|" * len(_COLUMNS)]
    lines += [f"| {' | '.join(c.replace('|', '/') for c in _cells(e))} |" for e in board.ranked]
    lines.append("")
    lines.append(
        f"{len(board.ranked)} ranked by {board.sort}; * = Pareto-optimal on accuracy (up), "
        f"latency p50 (down) and size (down); {len(board.invalid)} skipped."
    )
    machines = {e.machine for e in board.ranked}
    if len(machines) > 1:
        lines.append(
            f"Note: measured on {len(machines)} different machines. Speedup, compression and score "
            "are ratios within one machine and compare fairly; latency and the Pareto marks do not."
        )
    if board.invalid:
        lines += ["", "Skipped files:"]
        lines += [
            f"- {bad.file}: {bad.reason.splitlines()[0]}"
            + ("".join(f"\n  {line.strip()}" for line in bad.reason.splitlines()[1:]))
            for bad in board.invalid
        ]
    return "\n".join(lines)
