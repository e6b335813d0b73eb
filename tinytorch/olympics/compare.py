"""Compare one model of two submissions, and the regression gate built on that comparison.

Every metric is shown side by side with its ratio and change; which way is "worse", which
metrics are timings and what counts as the same machine are the submission vocabulary's
(`tinytorch.submission.vocabulary`). Latency differences are judged
for significance the way submissions judge their own speedup (`olympics.speedup_significance`:
Mann–Whitney U on the raw samples when both sides carry them, else range overlap), so noise
alone never fails the gate: a regression needs a change beyond the threshold *and* a
significant difference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

from tinytorch.submission.significance import speedup_significance
from tinytorch.submission.tables import format_number
from tinytorch.submission.vocabulary import (
    MACHINE_KEYS,
    METRIC_KEYS,
    MODEL_ROLES,
    SOFTWARE_KEYS,
    TIMING_METRICS,
    higher_is_better,
    representative_role,
    system_differences,
)

#: The metric the gate watches unless told otherwise.
DEFAULT_METRIC = "latency_ms_p50"


class CompareError(ValueError):
    """The comparison cannot be made as asked (missing model, unknown metric, bad threshold)."""


@dataclass
class MetricRow:
    """One metric of both models: values, new/base ratio and the change in the 'worse' direction."""

    name: str
    base: float | None
    new: float | None

    @property
    def ratio(self) -> float | None:
        """new / base, or None when it cannot be computed."""
        if self.base is None or self.new is None or self.base == 0:
            return None
        return self.new / self.base

    @property
    def change(self) -> float | None:
        """Relative change new vs base (+0.10 = 10% larger)."""
        return None if self.ratio is None else self.ratio - 1.0

    @property
    def worsening(self) -> float | None:
        """How much worse the new value is, as a fraction (negative when it improved)."""
        if self.change is None:
            return None
        return -self.change if higher_is_better(self.name) else self.change


class ChosenModel(NamedTuple):
    """The model compared on one side: its role in the submission and its name."""

    role: str
    name: str


class ModelPair(NamedTuple):
    """The models compared: one of BASE, one of NEW."""

    base: ChosenModel
    new: ChosenModel


@dataclass
class Comparison:
    """The result of `compare_submissions`; `regressed` is the gate's answer."""

    base_label: str
    new_label: str
    models: ModelPair
    rows: list[MetricRow]
    significance: dict  # speedup_significance() of base vs new latency, as stored in a submission
    machine_differences: list[str]
    software_differences: list[str]
    metric: str
    fail_above: float | None
    allow_cross_machine: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def gated_row(self) -> MetricRow:
        """The row of the gated metric."""
        return next(r for r in self.rows if r.name == self.metric)

    @property
    def cross_machine(self) -> bool:
        """True when the two submissions were measured on different hardware or BLAS."""
        return bool(self.machine_differences)

    @property
    def gate_undecidable(self) -> bool:
        """A timing metric across machines: no answer can be given (unless explicitly allowed)."""
        return (
            self.fail_above is not None
            and self.metric in TIMING_METRICS
            and self.cross_machine
            and not self.allow_cross_machine
        )

    @property
    def metric_significant(self) -> bool:
        """Whether the change of the gated metric is beyond noise.

        Timing metrics use the latency test; the others are exact properties of a model
        (size, parameter count, accuracy on a fixed test set), so any change is real.
        """
        if self.metric in TIMING_METRICS:
            return bool(self.significance["speedup_significant"])
        return True

    @property
    def regressed(self) -> bool:
        """The gate: worse by more than `fail_above` and significant."""
        if self.fail_above is None or self.gate_undecidable:
            return False
        worse = self.gated_row.worsening
        return worse is not None and worse > self.fail_above and self.metric_significant


def parse_threshold(text: str | float) -> float:
    """`'10%'` or `'10'` → 0.10: a threshold in percent, returned as a fraction."""
    raw = str(text).strip()
    number = raw[:-1] if raw.endswith("%") else raw
    try:
        value = float(number)
    except ValueError:
        raise CompareError(f"--fail-above: expected a percentage such as 10%, got {raw!r}") from None
    if not math.isfinite(value) or value < 0:
        raise CompareError(f"--fail-above: expected a percentage ≥ 0, got {raw!r}")
    return value / 100.0


def pick_model(submission: dict, which: str | None, label: str) -> tuple[str, dict]:
    """The (role, entry) compared for one submission: `which`, or the submission's representative
    model (`representative_role`) when `which` is None."""
    if which is None:
        which = representative_role(submission)
    if which not in MODEL_ROLES:
        raise CompareError(f"--model: expected one of {', '.join(MODEL_ROLES)}, got {which!r}")
    if which not in submission:
        raise CompareError(
            f"{label}: has no {which} model (it holds: {', '.join(m for m in MODEL_ROLES if m in submission)})"
        )
    return which, submission[which]


def compare_submissions(
    base: dict,
    new: dict,
    *,
    model: str | None = None,
    metric: str = DEFAULT_METRIC,
    fail_above: float | None = 0.10,
    alpha: float = 0.05,
    base_label: str = "BASE",
    new_label: str = "NEW",
    allow_cross_machine: bool = False,
) -> Comparison:
    """Compare one model of two validated submissions.

    Args:
        base, new: submissions (already validated, e.g. by `olympics.load_submission`).
        model: "baseline" or "optimized"; None picks each submission's representative model
            (optimized where present, else baseline), for each submission separately.
        metric: the metric the gate watches (any metric key).
        fail_above: the gate's threshold as a fraction (0.10 = 10% worse); None disables it.
        alpha: significance level of the latency test.
        base_label, new_label: names of the two sides in messages (usually the file names).
        allow_cross_machine: judge timing metrics even when the machines differ.
    """
    if metric not in METRIC_KEYS:
        raise CompareError(f"--metric: unknown metric {metric!r}; expected one of {', '.join(METRIC_KEYS)}")
    base_role, base_entry = pick_model(base, model, base_label)
    new_role, new_entry = pick_model(new, model, new_label)
    rows = [MetricRow(k, base_entry["metrics"].get(k), new_entry["metrics"].get(k)) for k in METRIC_KEYS]
    comparison = Comparison(
        base_label=base_label,
        new_label=new_label,
        models=ModelPair(
            ChosenModel(base_role, base_entry["model_name"]), ChosenModel(new_role, new_entry["model_name"])
        ),
        rows=rows,
        significance=speedup_significance(base_entry, new_entry, alpha=alpha),
        machine_differences=system_differences(base["system_info"], new["system_info"], MACHINE_KEYS),
        software_differences=system_differences(base["system_info"], new["system_info"], SOFTWARE_KEYS),
        metric=metric,
        fail_above=fail_above,
        allow_cross_machine=allow_cross_machine,
    )
    if base_role != new_role:
        comparison.notes.append(f"comparing {base_label}'s {base_role} model with {new_label}'s {new_role} model")
    return comparison


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:+.1f}%"


def _verdict(row: MetricRow) -> str:
    worse = row.worsening
    if worse is None or abs(worse) < 1e-12:
        return "same"
    return "worse" if worse > 0 else "better"


def format_report(c: Comparison) -> str:
    """The comparison as text: the table, the significance verdict, machine warnings, the gate."""
    base, new = c.models
    head = f"{'metric':<34}{'BASE':>12}{'NEW':>12}{'NEW/BASE':>10}{'change':>9}  "
    lines = [
        f"BASE = {c.base_label} ({base.role}: {base.name})",
        f"NEW  = {c.new_label} ({new.role}: {new.name})",
        "",
        head,
        "-" * len(head),
    ]
    for r in c.rows:
        ratio = "-" if r.ratio is None else f"{r.ratio:.3f}"
        mark = "  <- gated" if r.name == c.metric and c.fail_above is not None else ""
        lines.append(
            f"{r.name:<34}{format_number(r.base):>12}{format_number(r.new):>12}{ratio:>10}"
            f"{_pct(r.change):>9}  {_verdict(r)}{mark}"
        )
    lines += ["", _significance_line(c.significance)]
    lines += [f"note: {n}" for n in c.notes]
    if c.cross_machine:
        lines.append(
            "WARNING: the two submissions come from different machines; cross-machine latency and "
            "throughput ratios are not comparable:"
        )
        lines += [f"  {d}" for d in c.machine_differences]
    if c.software_differences:
        lines.append("note: different software versions: " + "; ".join(c.software_differences))
    lines.append(gate_line(c))
    return "\n".join(lines)


def _significance_line(sig: dict) -> str:
    verdict = "significant" if sig["speedup_significant"] else "not significant (within noise)"
    if sig["significance_test"] == "mann-whitney-u":
        how = f"Mann–Whitney U on the raw samples, p = {sig['p_value']:.3g}"
    else:
        how = "mean ± 2 std ranges compared (no raw samples on one side)"
    return f"latency difference: {verdict} ({how})"


def gate_line(c: Comparison) -> str:
    """One line saying what the gate decided and why."""
    if c.fail_above is None:
        # Only --no-gate (fail_above=None) turns the gate off: without --fail-above it gates at 10%.
        return "gate: off (--no-gate: report only, never exit 1)"
    limit = f"{c.fail_above * 100:g}%"
    if c.gate_undecidable:
        return f"gate: cannot judge {c.metric} across different machines (pass --allow-cross-machine to judge anyway)"
    worse = c.gated_row.worsening
    amount = "unknown" if worse is None else f"{worse * 100:+.1f}% worse"
    if c.regressed:
        return f"gate: REGRESSION: {c.metric} is {amount}, beyond {limit}, and the change is significant"
    if worse is not None and worse > c.fail_above:
        return f"gate: pass: {c.metric} is {amount}, beyond {limit}, but the change is not significant"
    return f"gate: pass: {c.metric} is {amount} (threshold {limit})"
