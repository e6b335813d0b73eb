"""The `tinytorch` command line: `tinytorch olympics run | validate | compare | leaderboard | plot | log-mlflow`.

Only argument parsing, printing and exit codes live here; the work is done by
`tinytorch.olympics`, `compare`, `leaderboard`, `plots` and `mlflow_export`.

Exit codes: 0 success; 1 the answer is "no" (invalid file, regression, nothing valid to rank);
2 usage error or unreadable input where no answer can be given.
"""

from __future__ import annotations

import argparse
import inspect
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import tinytorch

if TYPE_CHECKING:
    from tinytorch.olympics.leaderboard import Leaderboard

OK, NO, USAGE = 0, 1, 2
EXIT_CODES = "exit codes: 0 success; 1 the answer is no ({}); 2 usage error or unreadable input."


def _error(command: str, message: str) -> None:
    print(f"tinytorch olympics {command}: error: {message}", file=sys.stderr)


def positive_int(text: str) -> int:
    """An option's integer ≥ 1, checked by the framework's one count check."""
    from tinytorch.perf.inputs import check_count

    try:
        value: object = int(text)
    except ValueError:
        value = text  # not a number at all: check_count refuses it with the same message
    try:
        return check_count(value, "value", 1)
    except ValueError as error:  # argparse names the option itself
        raise argparse.ArgumentTypeError(str(error).split(": ", 1)[-1]) from None


def _threshold(text: str) -> float:
    from tinytorch.olympics.compare import CompareError, parse_threshold

    try:
        return parse_threshold(text)
    except CompareError as error:
        raise argparse.ArgumentTypeError(str(error).split(": ", 1)[-1]) from None


def _alpha(text: str) -> float:
    """A significance level: a number strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}") from None
    if not 0.0 < value < 1.0:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"must be strictly between 0 and 1 (e.g. 0.05), got {text!r}")
    return value


def _load(command: str, path: str) -> dict | None:
    """The validated submission at `path`, or None after printing why it cannot be used."""
    from tinytorch.olympics import load_submission

    try:
        return load_submission(path)
    except ValueError as error:  # SubmissionFileError, SubmissionValidationError
        _error(command, str(error))
        return None


def _report_skipped(board: Leaderboard) -> None:
    """One line on stderr per file a leaderboard skipped, with the first line of its reason."""
    for bad in board.invalid:
        print(f"skipped {bad.file}: {bad.reason.splitlines()[0]}", file=sys.stderr)


# --- commands ---------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    from tinytorch.olympics import format_comparison, run_workflow
    from tinytorch.olympics.plots import plot_submission

    submission = run_workflow(args.out, num_runs=args.num_runs, seed=args.seed, progress=not args.no_progress)
    print()
    print(format_comparison(submission))
    for path in plot_submission(submission, Path(args.out).parent):
        print(f"plot written to {path}")
    return OK


def cmd_validate(args: argparse.Namespace) -> int:
    from tinytorch.olympics import SubmissionFileError, SubmissionValidationError, load_submission

    missing, invalid = [], 0
    for name in args.files:
        if not Path(name).is_file():
            missing.append(name)
            print(f"{name}: no such file", file=sys.stderr)
            continue
        try:
            load_submission(name)
            print(f"{name}: valid")
        except (SubmissionFileError, SubmissionValidationError) as error:
            invalid += 1
            print(f"{name}: INVALID\n  {error.reason}".replace("\n  -", "\n    -"))
    if missing:
        return USAGE
    return NO if invalid else OK


def cmd_compare(args: argparse.Namespace) -> int:
    from tinytorch.olympics.compare import CompareError, compare_submissions, format_report

    base, new = _load("compare", args.base), _load("compare", args.new)
    if base is None or new is None:
        return USAGE
    try:
        comparison = compare_submissions(
            base,
            new,
            model=args.model,
            metric=args.metric,
            fail_above=args.fail_above,
            alpha=args.alpha,
            base_label=args.base,
            new_label=args.new,
            allow_cross_machine=args.allow_cross_machine,
        )
    except CompareError as error:
        _error("compare", str(error))
        return USAGE
    print(format_report(comparison))
    if comparison.gate_undecidable:
        return USAGE
    return NO if comparison.regressed else OK


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from tinytorch.olympics.leaderboard import build_leaderboard, render

    try:
        board = build_leaderboard(args.dir, sort=args.sort)
    except FileNotFoundError as error:
        _error("leaderboard", str(error))
        return USAGE
    print(render(board, args.format))
    if args.format != "md":  # md lists skipped files itself; keep csv/json output machine-readable
        _report_skipped(board)
    if not board.ranked:
        _error("leaderboard", f"no valid submission under {args.dir} ({len(board.invalid)} file(s) skipped)")
        return NO
    return OK


def cmd_plot(args: argparse.Namespace) -> int:
    from tinytorch.olympics.leaderboard import build_leaderboard
    from tinytorch.olympics.plots import plot_leaderboard, plot_submission

    source = Path(args.source)
    if source.is_dir():
        board = build_leaderboard(source)
        _report_skipped(board)
        if not board.ranked:
            _error("plot", f"no valid submission under {source}")
            return NO
        paths = plot_leaderboard(board, args.out)
    else:
        submission = _load("plot", args.source)
        if submission is None:
            return USAGE
        paths = plot_submission(submission, args.out)
    for path in paths:
        print(f"plot written to {path}")
    return OK


def cmd_log_mlflow(args: argparse.Namespace) -> int:
    from tinytorch.olympics.mlflow_export import MlflowUnavailable, log_submission

    submission = _load("log-mlflow", args.submission)
    if submission is None:
        return USAGE
    try:
        runs = log_submission(submission, args.submission, tracking_uri=args.tracking_uri, experiment=args.experiment)
    except MlflowUnavailable as error:
        _error("log-mlflow", str(error))
        return USAGE
    for role, run_id in runs.items():
        print(f"{role}: logged as MLflow run {run_id} in experiment {args.experiment!r}")
    return OK


# --- parser -----------------------------------------------------------------------------------


def _defaults(function: Callable) -> dict:
    """The default of every keyword of `function`: the CLI's defaults are the library's."""
    return {
        name: p.default
        for name, p in inspect.signature(function).parameters.items()
        if p.default is not inspect.Parameter.empty
    }


def _command(
    sub: argparse._SubParsersAction, name: str, handler: Callable, help_text: str, description: str, no_means: str
) -> argparse.ArgumentParser:
    parser = sub.add_parser(name, help=help_text, description=description, epilog=EXIT_CODES.format(no_means))
    parser.set_defaults(handler=handler, command=name)
    return parser


def _add_run(sub: argparse._SubParsersAction) -> None:
    from tinytorch.olympics.workflow import run_workflow

    defaults = _defaults(run_workflow)
    run = _command(
        sub,
        "run",
        cmd_run,
        "train, optimize, benchmark and write a submission",
        "Train the baseline MLP on the embedded digits data, INT8-quantize and prune it, benchmark "
        "every model, write the submission (baseline + INT8 model), print the comparison table and "
        "write the plots (PNG and SVG) in the submission's folder.",
        "never",
    )
    run.add_argument(
        "--out",
        default=defaults["out_path"],
        metavar="PATH",
        help="where to write the submission JSON; plots go in the same folder (default: %(default)s)",
    )
    run.add_argument(
        "--num-runs",
        type=positive_int,
        default=defaults["num_runs"],
        metavar="N",
        help="timed single-sample runs per model, after warm-up (default: %(default)s)",
    )
    run.add_argument(
        "--seed",
        type=int,
        default=defaults["seed"],
        metavar="S",
        help="seed of the data split, weight initialisation and training (default: %(default)s)",
    )
    run.add_argument("--no-progress", action="store_true", help="do not show progress bars")


def _add_validate(sub: argparse._SubParsersAction) -> None:
    validate = _command(
        sub,
        "validate",
        cmd_validate,
        "check submission files against the schema",
        "Check each submission file: readable, within the size limit, valid JSON, valid against "
        "the submission schema and its cross-field rules. Every violation is listed with its "
        "JSON path. Schema version 1 files are upgraded, then checked.",
        "a file is not a valid submission; exit 2 when a named file does not exist",
    )
    validate.add_argument("files", nargs="+", metavar="FILE", help="submission JSON files to check")


def _add_compare(sub: argparse._SubParsersAction) -> None:
    from tinytorch.olympics.compare import compare_submissions
    from tinytorch.submission.vocabulary import MACHINE_KEYS, METRIC_KEYS, MODEL_ROLES

    defaults = _defaults(compare_submissions)
    compare = _command(
        sub,
        "compare",
        cmd_compare,
        "compare two submissions; a regression gate for CI",
        "Compare one model of BASE with one model of NEW: every metric side by side with the "
        "NEW/BASE ratio and the change, and whether the latency difference is significant "
        "(Mann–Whitney U when both files carry raw latency samples, else mean ± 2 std range "
        "overlap). The gate fails only when --metric got worse by more than --fail-above AND "
        "the change is significant: timing metrics use the latency test; size, parameter count, "
        "accuracy and memory are exact, so any change counts. Submissions from different "
        f"machines (any of {', '.join(MACHINE_KEYS)} differs) are flagged: their timing ratios "
        "are not comparable.",
        "the gated metric regressed significantly beyond the threshold; exit 2 also when a "
        "timing metric is gated across different machines without --allow-cross-machine",
    )
    compare.add_argument("base", metavar="BASE.json", help="the reference submission")
    compare.add_argument("new", metavar="NEW.json", help="the submission to judge against BASE")
    compare.add_argument(
        "--model",
        choices=MODEL_ROLES,
        default=defaults["model"],
        help="which model of each submission to compare (default: the optimized model where "
        "a submission has one, else its baseline)",
    )
    compare.add_argument(
        "--metric",
        choices=METRIC_KEYS,
        default=defaults["metric"],
        metavar="METRIC",
        help="the metric the gate watches, one of: " + ", ".join(METRIC_KEYS) + " (default: %(default)s)",
    )
    compare.add_argument(
        "--fail-above",
        type=_threshold,
        default=defaults["fail_above"],
        metavar="PCT",
        help="fail when METRIC is worse by more than this percentage, e.g. 10%% or 5 "
        f"(default: {defaults['fail_above'] * 100:g}%%)",
    )
    compare.add_argument(
        "--no-gate", dest="fail_above", action="store_const", const=None, help="only report; never exit 1"
    )
    compare.add_argument(
        "--alpha",
        type=_alpha,
        default=defaults["alpha"],
        help="significance level of the latency test, strictly between 0 and 1 (default: %(default)s)",
    )
    compare.add_argument(
        "--allow-cross-machine",
        action="store_true",
        default=defaults["allow_cross_machine"],
        help="judge timing metrics even when the submissions come from different machines",
    )


def _add_leaderboard(sub: argparse._SubParsersAction) -> None:
    from tinytorch.olympics.leaderboard import FORMATS, SCORE_FORMULA, SORT_ORDERS, build_leaderboard, render

    board = _command(
        sub,
        "leaderboard",
        cmd_leaderboard,
        "rank every submission under a folder",
        "Load every *.json file under DIR (recursively); rank the valid submissions, each by its "
        "optimized model where it has one; mark the Pareto-optimal ones (* : no other submission "
        "is at least as accurate, as fast (latency p50) and as small, and better in one); list "
        "invalid or unreadable files with the reason and skip them.",
        "no valid submission was found; exit 2 when DIR does not exist",
    )
    board.add_argument("dir", metavar="DIR", help="folder searched recursively for *.json submissions")
    board.add_argument(
        "--format",
        choices=FORMATS,
        default=_defaults(render)["fmt"],
        help="output: md (a Markdown table, then the skipped files), csv, or json (one object "
        '{"ranked": [...], "invalid": [{"file", "reason"}]}) (default: %(default)s)',
    )
    orders = ", ".join(order.describe(name) for name, order in SORT_ORDERS.items())
    board.add_argument(
        "--sort",
        choices=tuple(SORT_ORDERS),
        default=_defaults(build_leaderboard)["sort"],
        help=f"ranking: {orders}; " + SCORE_FORMULA.replace("%", "%%") + " (default: %(default)s)",
    )


def _add_plot(sub: argparse._SubParsersAction) -> None:
    plot = _command(
        sub,
        "plot",
        cmd_plot,
        "draw latency and trade-off plots (PNG and SVG)",
        "For a submission FILE: the latency distribution (ECDF) of baseline vs optimized with "
        "p50/p90/p99 marked, and the accuracy-vs-latency plot of its models. For a folder: the "
        "accuracy-vs-latency scatter of its leaderboard with the Pareto front drawn.",
        "a folder holds no valid submission; exit 2 when FILE is unreadable or invalid",
    )
    plot.add_argument("source", metavar="FILE-or-DIR", help="a submission file, or a folder of submissions")
    plot.add_argument(
        "--out",
        default=".",
        metavar="DIR",
        help="folder to write the PNG and SVG files into, created if needed (default: the current folder)",
    )


def _add_log_mlflow(sub: argparse._SubParsersAction) -> None:
    from tinytorch.olympics.mlflow_export import log_submission

    defaults = _defaults(log_submission)
    log = _command(
        sub,
        "log-mlflow",
        cmd_log_mlflow,
        "log a submission to MLflow as two runs",
        "Log the baseline and the optimized model as two MLflow runs: params (model name, role, "
        "techniques, student, measurement settings, system info), every metric (and the "
        "improvements on the optimized run), and the submission file as an artifact. Needs the "
        "optional extra: pip install -e .[mlflow].",
        "never; exit 2 when the file is unreadable or invalid, or mlflow is not installed",
    )
    log.add_argument("submission", metavar="SUBMISSION.json", help="the submission file to log")
    log.add_argument(
        "--tracking-uri",
        default=defaults["tracking_uri"],
        metavar="URI",
        help="MLflow tracking store, e.g. sqlite:///mlflow.db or http://localhost:5000 (default: "
        "MLFLOW_TRACKING_URI, else MLflow's default store). For sqlite:/// stores, artifacts "
        "of a new experiment go in an mlartifacts folder beside the database",
    )
    log.add_argument(
        "--experiment",
        default=defaults["experiment"],
        metavar="NAME",
        help="experiment name, created if missing (default: %(default)s)",
    )


#: One function per command, in the order `--help` lists them.
COMMANDS = (_add_run, _add_validate, _add_compare, _add_leaderboard, _add_plot, _add_log_mlflow)


def build_parser() -> argparse.ArgumentParser:
    """The full `tinytorch` argument parser."""
    parser = argparse.ArgumentParser(prog="tinytorch", description="TinyTorch command line.")
    parser.add_argument("--version", action="version", version=f"tinytorch {tinytorch.__version__}")
    top = parser.add_subparsers(dest="group", metavar="olympics", required=True)
    olympics = top.add_parser(
        "olympics",
        help="benchmark submissions: run, validate, compare, rank, plot, log",
        description="Benchmark submissions of the capstone: produce, check, compare, rank, plot and log them.",
    )
    sub = olympics.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add_command in COMMANDS:
        add_command(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    from tinytorch.submission.schema_check import leave_out_format_packages

    # The command line checks no JSON but submissions, whose schema has no "format" keyword: when
    # jsonschema is needed (for a file the compiled check refuses) it is imported without the
    # packages that only check formats, which cost more CPU than the rest of jsonschema.
    leave_out_format_packages()
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
