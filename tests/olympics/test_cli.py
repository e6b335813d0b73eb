"""The `tinytorch` command line, run as users run it: every command, bad input and exit codes."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.olympics.submissions import make_submission, noisy_samples, other_machine, write
from tinytorch.olympics import MAX_SUBMISSION_BYTES, run_workflow
from tinytorch.olympics.cli import build_parser
from tinytorch.olympics.compare import compare_submissions
from tinytorch.olympics.leaderboard import build_leaderboard, render
from tinytorch.olympics.mlflow_export import log_submission
from tinytorch.perf.inputs import check_count

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).parent / "tinytorch"


def tinytorch(*args, script=False):
    """Run the command line in a fresh interpreter; the console script when `script`."""
    command = [str(SCRIPT)] if script else [sys.executable, "-m", "tinytorch.olympics.cli"]
    return subprocess.run(
        [*command, "olympics", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    base = make_submission(noisy_samples(1.0), noisy_samples(0.40, seed=1))
    paths = {
        "base": write(d / "base.json", base),
        "rerun": write(d / "rerun.json", make_submission(noisy_samples(1.0, seed=2), noisy_samples(0.40, seed=3))),
        "slow": write(d / "slow.json", make_submission(noisy_samples(1.0, seed=4), noisy_samples(0.80, seed=5))),
        "elsewhere": write(
            d / "elsewhere.json",
            make_submission(
                noisy_samples(1.0, seed=6), noisy_samples(0.40, seed=7), system_info=other_machine(base["system_info"])
            ),
        ),
        "wrong_version": write(d / "wrong_version.json", dict(base, schema_version=3)),
        "two_errors": write(
            d / "two_errors.json",
            {
                **base,
                "student_name": 7,
                "baseline": {**base["baseline"], "metrics": {**base["baseline"]["metrics"], "accuracy": 1.5}},
            },
        ),
    }
    paths["truncated"] = d / "truncated.json"
    paths["truncated"].write_text(json.dumps(base)[:-40])
    paths["huge"] = d / "huge.json"
    with open(paths["huge"], "wb") as big:  # sparse: 100 MB on paper, nothing on disk
        big.truncate(100 * 1024 * 1024)
    assert paths["huge"].stat().st_size > MAX_SUBMISSION_BYTES
    return paths


def test_every_option_of_every_command_is_explained():
    parser = build_parser()
    olympics = parser._subparsers._group_actions[0].choices["olympics"]
    commands = olympics._subparsers._group_actions[0].choices
    assert set(commands) == {"run", "validate", "compare", "leaderboard", "plot", "log-mlflow"}
    for name, command in commands.items():
        assert command.description and "exit codes" in command.epilog, name
        for action in command._actions:
            assert action.help and len(action.help) > 10, f"{name} {action.dest}: no help"


def keyword_defaults(function):
    return {
        name: p.default
        for name, p in inspect.signature(function).parameters.items()
        if p.default is not inspect.Parameter.empty
    }


@pytest.mark.parametrize(
    "argv, function, option_of",
    [
        (["run"], run_workflow, {"out": "out_path", "num_runs": "num_runs", "seed": "seed"}),
        (
            ["compare", "a.json", "b.json"],
            compare_submissions,
            {k: k for k in ("model", "metric", "fail_above", "alpha", "allow_cross_machine")},
        ),
        (["leaderboard", "dir"], build_leaderboard, {"sort": "sort"}),
        (["leaderboard", "dir"], render, {"format": "fmt"}),
        (["log-mlflow", "s.json"], log_submission, {"tracking_uri": "tracking_uri", "experiment": "experiment"}),
    ],
)
def test_option_defaults_are_the_defaults_of_the_functions_they_configure(argv, function, option_of):
    parsed = vars(build_parser().parse_args(["olympics", *argv]))
    defaults = keyword_defaults(function)
    assert {option: parsed[option] for option in option_of} == {o: defaults[k] for o, k in option_of.items()}


def test_counts_are_checked_by_the_one_count_check(capsys):
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["olympics", "run", "--num-runs", "0"])
    assert exit_.value.code == 2
    with pytest.raises(ValueError) as reference:
        check_count(0, "--num-runs", 1)
    assert f"argument --num-runs: {str(reference.value).split(': ', 1)[1]}" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        build_parser().parse_args(["olympics", "run", "--num-runs", "2.5"])
    assert "expected an integer ≥ 1, got '2.5'" in capsys.readouterr().err


def test_help_through_the_console_script_and_module():
    for script in (True, False):
        result = tinytorch("compare", "--help", script=script)
        assert result.returncode == 0 and "--fail-above" in result.stdout and "exit codes" in result.stdout


def test_validate(files):
    ok = tinytorch("validate", files["base"], files["rerun"], script=True)
    assert ok.returncode == 0 and ok.stdout.count(": valid") == 2
    bad = tinytorch(
        "validate", files["base"], files["two_errors"], files["truncated"], files["wrong_version"], files["huge"]
    )
    assert bad.returncode == 1
    assert "baseline.metrics.accuracy" in bad.stdout and "student_name" in bad.stdout, "every violation listed"
    assert "truncated.json" in bad.stdout and "not valid JSON" in bad.stdout
    assert "schema_version" in bad.stdout
    assert "huge.json" in bad.stdout and "limit" in bad.stdout
    missing = tinytorch("validate", files["base"], "no/such/file.json")
    assert missing.returncode == 2 and "no such file" in missing.stderr
    assert tinytorch("validate").returncode == 2


def test_compare_gate(files):
    same = tinytorch("compare", files["base"], files["rerun"], "--fail-above", "10%")
    assert same.returncode == 0, same.stdout + same.stderr
    assert "latency_ms_p50" in same.stdout and "gate: pass" in same.stdout
    slow = tinytorch("compare", files["base"], files["slow"], "--fail-above", "10%")
    assert slow.returncode == 1 and "REGRESSION" in slow.stdout
    report_only = tinytorch("compare", files["base"], files["slow"], "--no-gate")
    assert report_only.returncode == 0 and "gate: off (--no-gate" in report_only.stdout
    default = tinytorch("compare", files["base"], files["slow"])  # no --fail-above: the 10% default gates
    assert default.returncode == 1 and "gate: off" not in default.stdout and "beyond 10%" in default.stdout
    size = tinytorch("compare", files["base"], files["slow"], "--metric", "model_size_mb")
    assert size.returncode == 0


def test_compare_across_machines(files):
    result = tinytorch("compare", files["base"], files["elsewhere"])
    assert result.returncode == 2
    assert "different machines" in result.stdout and "not comparable" in result.stdout
    allowed = tinytorch("compare", files["base"], files["elsewhere"], "--allow-cross-machine")
    assert allowed.returncode == 0 and "not comparable" in allowed.stdout


@pytest.mark.parametrize(
    "bad, message",
    [
        ("truncated", "not valid JSON"),
        ("wrong_version", "schema_version"),
        ("huge", "limit"),
        ("two_errors", "baseline.metrics.accuracy"),
    ],
)
def test_compare_refuses_bad_files(files, bad, message):
    result = tinytorch("compare", files["base"], files[bad])
    assert result.returncode == 2
    assert message in result.stderr and files[bad].name in result.stderr
    assert "Traceback" not in result.stderr


def test_compare_usage_errors(files):
    result = tinytorch("compare", files["base"], files["rerun"], "--fail-above", "ten")
    assert result.returncode == 2 and "--fail-above" in result.stderr
    assert tinytorch("compare", files["base"]).returncode == 2
    only_baseline = write(files["base"].parent / "only_baseline.json", make_submission(noisy_samples(1.0)))
    forced = tinytorch("compare", files["base"], only_baseline, "--model", "optimized")
    assert forced.returncode == 2 and "has no optimized model" in forced.stderr


@pytest.mark.parametrize("alpha", ["0", "1", "-0.05", "1.5", "nan", "inf", "five"])
def test_compare_refuses_an_alpha_outside_0_1(alpha):
    parser = build_parser()
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(["olympics", "compare", "a.json", "b.json", "--alpha", alpha])
    assert exit_info.value.code == 2


def test_compare_alpha_usage_error_through_the_cli(files):
    result = tinytorch("compare", files["base"], files["rerun"], "--alpha", "1.5")
    assert result.returncode == 2 and "--alpha" in result.stderr and "between 0 and 1" in result.stderr
    assert "Traceback" not in result.stderr
    assert tinytorch("compare", files["base"], files["rerun"], "--alpha", "0.01").returncode == 0


def test_leaderboard(files, tmp_path):
    result = tinytorch("leaderboard", files["base"].parent, "--format", "json", "--sort", "speedup")
    assert result.returncode == 0, result.stderr
    board = json.loads(result.stdout)
    assert {r["file"] for r in board["invalid"]} >= {
        "truncated.json",
        "wrong_version.json",
        "huge.json",
        "two_errors.json",
    }
    assert board["ranked"][0]["speedup"] >= board["ranked"][-1]["speedup"]
    md = tinytorch("leaderboard", files["base"].parent)
    assert md.returncode == 0 and "| rank |" in md.stdout and "truncated.json" in md.stdout
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("no submissions here")
    empty = tinytorch("leaderboard", tmp_path / "empty")
    assert empty.returncode == 1 and "no valid submission" in empty.stderr
    missing = tinytorch("leaderboard", tmp_path / "missing")
    assert missing.returncode == 2 and "no such directory" in missing.stderr


def test_plot(files, tmp_path):
    one = tinytorch("plot", files["base"], "--out", tmp_path / "one")
    assert one.returncode == 0, one.stderr
    assert sorted(p.name for p in (tmp_path / "one").iterdir()) == [
        "accuracy_vs_latency.png",
        "accuracy_vs_latency.svg",
        "latency_distribution.png",
        "latency_distribution.svg",
    ]
    folder = tinytorch("plot", files["base"].parent, "--out", tmp_path / "all")
    assert folder.returncode == 0 and (tmp_path / "all" / "accuracy_vs_latency.svg").is_file()
    assert "skipped truncated.json" in folder.stderr
    assert tinytorch("plot", files["truncated"], "--out", tmp_path / "x").returncode == 2
    (tmp_path / "empty").mkdir()
    assert tinytorch("plot", tmp_path / "empty", "--out", tmp_path / "x").returncode == 1


def test_log_mlflow_through_the_cli(files, tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    result = tinytorch("log-mlflow", files["base"], "--tracking-uri", uri, "--experiment", "cli")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "baseline: logged as MLflow run" in result.stdout and "optimized: logged" in result.stdout
    bad = tinytorch("log-mlflow", files["truncated"], "--tracking-uri", uri)
    assert bad.returncode == 2 and "not valid JSON" in bad.stderr


def test_run_writes_the_submission_and_its_plots(tmp_path):
    out = tmp_path / "results" / "submission.json"
    result = tinytorch("run", "--out", out, "--num-runs", "5", "--seed", "1", "--no-progress", script=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "speedup" in result.stdout and "compression" in result.stdout
    assert tinytorch("validate", out).returncode == 0
    for name in ("latency_distribution", "accuracy_vs_latency"):
        for ext in ("png", "svg"):
            assert (out.parent / f"{name}.{ext}").stat().st_size > 5000
    assert tinytorch("run", "--num-runs", "0").returncode == 2


@pytest.fixture(scope="module")
def too_deep(tmp_path_factory):
    path = tmp_path_factory.mktemp("deep") / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    return path


def test_validate_reports_a_too_deeply_nested_file(too_deep):
    result = tinytorch("validate", too_deep)
    assert result.returncode == 1
    assert "deep.json" in result.stdout and "nested too deeply" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_compare_refuses_a_too_deeply_nested_file(files, too_deep):
    result = tinytorch("compare", files["base"], too_deep)
    assert result.returncode == 2
    assert "deep.json" in result.stderr and "nested too deeply" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


@pytest.fixture
def unreadable(files, monkeypatch):
    """A submission file whose read fails with a permission error (tests may run as root, for whom
    chmod 000 changes nothing, so the read itself is made to fail; the CLI then runs in-process)."""
    target = files["rerun"]
    real_read_bytes = Path.read_bytes

    def read_bytes(self):
        if self == target:
            raise PermissionError(13, "Permission denied", str(self))
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    return target


def test_validate_reports_an_unreadable_file(files, unreadable, capsys):
    from tinytorch.olympics.cli import main

    assert main(["olympics", "validate", str(files["base"]), str(unreadable)]) == 1
    out = capsys.readouterr().out
    assert f"{unreadable}: valid" not in out and f"{files['base']}: valid" in out
    assert "rerun.json" in out and "cannot be read (Permission denied)" in out


def test_compare_refuses_an_unreadable_file(files, unreadable, capsys):
    from tinytorch.olympics.cli import main

    assert main(["olympics", "compare", str(files["base"]), str(unreadable)]) == 2
    err = capsys.readouterr().err
    assert "rerun.json" in err and "cannot be read (Permission denied)" in err
