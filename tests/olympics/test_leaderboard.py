"""leaderboard: loading a folder, ranking, Pareto marks, the skipped files and the three formats."""

from __future__ import annotations

import csv
import io
import json
import math
import subprocess
import sys

import numpy as np
import pytest
from jsonschema import Draft202012Validator

from tests.olympics.submissions import make_submission, noisy_samples, other_machine, write
from tinytorch.olympics import MAX_SUBMISSION_BYTES, leaderboard
from tinytorch.olympics.compare import compare_submissions
from tinytorch.olympics.leaderboard import build_leaderboard, combined_score, pareto_mask, render

# name: (optimized p50 ms, optimized accuracy, optimized size MiB); baselines are all 1.0 ms, 0.96, 0.01
MODELS = {
    "fast_small": (0.25, 0.95, 0.0025),  # Pareto: fastest and smallest
    "accurate": (0.80, 0.97, 0.0100),  # Pareto: most accurate
    "dominated": (0.90, 0.94, 0.0120),  # beaten on every axis by fast_small
    "balanced": (0.40, 0.96, 0.0040),  # Pareto: nothing is at least as good on all three
}


@pytest.fixture
def folder(tmp_path):
    for i, (name, (p50, acc, size)) in enumerate(MODELS.items()):
        sub = make_submission(
            noisy_samples(1.0, seed=i),
            noisy_samples(p50, seed=10 + i),
            accuracy=(0.96, acc),
            size_mb=(0.01, size),
            student=name,
            names=("fp32", name),
        )
        write(tmp_path / ("nested/deeper" if i % 2 else "") / f"{name}.json", sub)
    write(tmp_path / "baseline_only.json", make_submission(noisy_samples(1.0), student="baseline_only"))
    (tmp_path / "truncated.json").write_text(json.dumps(make_submission(noisy_samples(1.0)))[:300])
    write(tmp_path / "old_version.json", dict(make_submission(noisy_samples(1.0)), schema_version=7))
    with open(tmp_path / "huge.json", "wb") as big:  # sparse: cheap to create, large to stat
        big.truncate(MAX_SUBMISSION_BYTES + 1)
    (tmp_path / "notes.txt").write_text("not a submission and not *.json: ignored")
    return tmp_path


def test_valid_files_are_ranked_and_bad_ones_listed_with_reasons(folder):
    board = build_leaderboard(folder)
    assert sorted(e.student for e in board.ranked) == sorted([*MODELS, "baseline_only"])
    reasons = {bad.file: bad.reason for bad in board.invalid}
    assert set(reasons) == {"truncated.json", "old_version.json", "huge.json"}
    assert "not valid JSON" in reasons["truncated.json"]
    assert "schema_version" in reasons["old_version.json"]
    assert "MiB" in reasons["huge.json"] and "limit" in reasons["huge.json"]
    assert {e.file for e in board.ranked} >= {"nested/deeper/accurate.json", "fast_small.json"}


def test_pareto_marks(folder):
    marks = {e.student: e.pareto for e in build_leaderboard(folder).ranked}
    # baseline_only (1 ms, 0.96, 0.01 MiB) is dominated by balanced (0.4 ms, 0.96, 0.004 MiB)
    assert marks == {"fast_small": True, "accurate": True, "balanced": True, "dominated": False, "baseline_only": False}


@pytest.mark.parametrize(
    "sort, first, last",
    [
        ("speedup", "fast_small", "baseline_only"),
        ("accuracy", "accurate", "dominated"),
        ("size", "fast_small", "dominated"),
        ("latency", "fast_small", "baseline_only"),
        ("score", "fast_small", "dominated"),
    ],
)
def test_sort_orders(folder, sort, first, last):
    ranked = build_leaderboard(folder, sort=sort).ranked
    assert (ranked[0].student, ranked[-1].student) == (first, last)
    assert [e.rank for e in ranked] == list(range(1, len(ranked) + 1))


def test_combined_score_formula():
    assert combined_score(1.0, 1.0, 0.0) == 1.0
    assert combined_score(2.0, 4.0, 0.0) == pytest.approx(4.0)
    assert combined_score(2.0, 4.0, -0.01) == pytest.approx(4.0 * 0.9)
    assert combined_score(2.0, 4.0, -0.2) == 0.0


def test_pareto_mask_matches_brute_force():
    rng = np.random.default_rng(1)
    acc, lat, size = (rng.integers(0, 4, 300).astype(float) for _ in range(3))  # many ties
    expected = [
        not any(
            acc[j] >= acc[i]
            and lat[j] <= lat[i]
            and size[j] <= size[i]
            and (acc[j] > acc[i] or lat[j] < lat[i] or size[j] < size[i])
            for j in range(300)
        )
        for i in range(300)
    ]
    assert pareto_mask(acc, lat, size).tolist() == expected


def test_parallel_loading_gives_the_same_board(folder, monkeypatch):
    serial = build_leaderboard(folder, workers=1).to_dict()
    monkeypatch.setattr(leaderboard, "PARALLEL_THRESHOLD", 1)
    assert build_leaderboard(folder, workers=2).to_dict() == serial


def test_a_process_pinned_to_one_core_has_one_core_for_workers():
    code = (
        "import os\nos.sched_setaffinity(0, {min(os.sched_getaffinity(0))})\n"
        "from tinytorch.olympics.leaderboard import usable_cores\nprint(usable_cores())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1"


def test_the_files_found_are_those_rglob_finds_in_the_same_order(tmp_path):
    for name in ("a/b.json", "a-c/x.json", "a/.hidden.json", "z.json", "A.json", "a/deep/er/d.json", "a/b.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    (tmp_path / "folder.json").mkdir()
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    (outside / "o.json").write_text("{}")
    (tmp_path / "linked-folder").symlink_to(outside, target_is_directory=True)
    (tmp_path / "linked.json").symlink_to(tmp_path / "z.json")
    (tmp_path / "broken.json").symlink_to(tmp_path / "missing.json")
    expected = sorted(p for p in tmp_path.rglob("*.json") if p.is_file())
    assert leaderboard.submission_files(tmp_path) == expected
    assert [p.relative_to(tmp_path).as_posix() for p in expected] == [
        "A.json",
        "a/.hidden.json",
        "a/b.json",
        "a/deep/er/d.json",
        "a-c/x.json",
        "linked.json",
        "z.json",
    ]


def bad_sample_corpus(folder) -> int:
    """Write one valid submission and a file per way its samples (and its neighbours) can be
    wrong, each refused in a different place; return how many are invalid."""
    template = make_submission(noisy_samples(1.0, n=30), noisy_samples(0.5, n=30, seed=1), student="ok")
    write(folder / "ok.json", template)
    deep: object = 1.0
    for _ in range(18):
        deep = [deep]
    changes = {
        "negative": ("baseline", -1.0),
        "zero": ("optimized", 0),
        "bool": ("optimized", True),
        "text": ("baseline", "fast"),
        "null": ("baseline", None),
        "list": ("baseline", [1.0]),
        "huge_int": ("baseline", 10**400),
        "deep": ("optimized", deep),
    }
    for name, (role, value) in changes.items():
        sub = json.loads(json.dumps(template))
        sub[role]["latency_samples_ms"][4] = value
        write(folder / f"{name}.json", sub)
    for name, samples in {"not_a_list": "many", "an_object": {"0": 1.0}, "overflowing_sum": [1e308] * 3}.items():
        write(
            folder / f"{name}.json", {**template, "baseline": {**template["baseline"], "latency_samples_ms": samples}}
        )
    text = json.dumps(template).replace(str(template["optimized"]["latency_samples_ms"][2]), "NaN", 1)
    (folder / "nan.json").write_text(text)
    return len(changes) + 3


def test_the_compiled_checks_skip_exactly_the_files_plain_jsonschema_skips(tmp_path, monkeypatch):
    from tinytorch.submission import schema

    invalid = bad_sample_corpus(tmp_path)
    board = build_leaderboard(tmp_path, workers=1).to_dict()
    reference = Draft202012Validator(schema.load_schema())
    monkeypatch.setattr(schema, "schema_checker", lambda: reference)  # jsonschema alone, item by item
    assert build_leaderboard(tmp_path, workers=1).to_dict() == board
    assert [e["file"] for e in board["ranked"]] == ["ok.json", "overflowing_sum.json"]  # 1e308 is a valid sample
    assert len(board["invalid"]) == invalid
    reasons = {bad["file"]: bad["reason"] for bad in board["invalid"]}
    assert reasons["zero.json"].endswith("optimized.latency_samples_ms[4]: 0 is less than or equal to the minimum of 0")
    assert reasons["bool.json"].endswith("optimized.latency_samples_ms[4]: True is not of type 'number'")


def test_formats(folder):
    board = build_leaderboard(folder, sort="accuracy")
    data = json.loads(render(board, "json"))
    assert set(data) == {"ranked", "invalid"}
    assert [r["student"] for r in data["ranked"]] == [e.student for e in board.ranked]
    assert all(set(bad) == {"file", "reason"} for bad in data["invalid"])
    assert all(math.isfinite(r["score"]) for r in data["ranked"])
    rows = list(csv.DictReader(io.StringIO(render(board, "csv"))))
    assert [r["student"] for r in rows] == [e.student for e in board.ranked]
    assert {r["student"]: r["pareto"] for r in rows}["dominated"] == ""
    md = render(board, "md")
    assert sum(line.startswith("| ") for line in md.splitlines()) == len(board.ranked) + 1
    assert "truncated.json" in md and "Pareto-optimal" in md


def test_missing_folder():
    with pytest.raises(FileNotFoundError, match="no such directory"):
        build_leaderboard("/nonexistent/submissions")


def test_mixed_machines_are_noted(tmp_path):
    here = make_submission(noisy_samples(1.0), noisy_samples(0.5, seed=1))
    write(tmp_path / "here.json", here)
    write(
        tmp_path / "there.json",
        make_submission(noisy_samples(1.0), noisy_samples(0.5, seed=1), system_info=other_machine(here["system_info"])),
    )
    board = build_leaderboard(tmp_path)
    assert len({e.machine for e in board.ranked}) == 2
    assert "2 different machines" in render(board, "md")
    write(tmp_path / "there.json", here)
    assert "different machines" not in render(build_leaderboard(tmp_path), "md")


def test_compare_and_leaderboard_agree_on_what_is_the_same_machine(tmp_path):
    base = make_submission(noisy_samples(1.0), noisy_samples(0.5, seed=1))
    threads = base["system_info"]["blas_threads"] or 1
    more_threads = make_submission(
        noisy_samples(1.0, seed=2),
        noisy_samples(0.5, seed=3),
        system_info=dict(base["system_info"], blas_threads=threads + 1),
    )
    assert compare_submissions(base, more_threads).cross_machine, "compare: BLAS threads differ"
    write(tmp_path / "a.json", base)
    write(tmp_path / "b.json", more_threads)
    assert "2 different machines" in render(build_leaderboard(tmp_path)), "the leaderboard agrees"
    write(tmp_path / "b.json", dict(more_threads, system_info=base["system_info"]))
    assert compare_submissions(base, json.loads((tmp_path / "b.json").read_text())).cross_machine is False
    assert "different machines" not in render(build_leaderboard(tmp_path))
