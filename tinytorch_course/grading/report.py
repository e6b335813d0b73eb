"""The grading report: one line per submission with its score and, for anything not graded
normally, the reason, built from nbgrader's results (its autograded notebook, its gradebook
rows, its log) and the jail's event lines in that log. Nothing is silently 0."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from tinytorch_course.grading.jail.events import (
    BUDGET_EXCEEDED,
    JAIL_REFUSED,
    KERNEL_DIED,
    UNSAFE_NO_SANDBOX,
    GradingEvent,
    parse_events,
)
from tinytorch_course.paths import REPORT_CSV, REPORT_TXT  # noqa: F401 (the report's own names)

#: Status of a line: graded (a score from nbgrader, maybe with notes), graded but to be read by
#: hand before its grade is released (signs of kernel tampering), not graded, or skipped.
GRADED, REVIEW, NOT_GRADED, SKIPPED = "graded", "review", "not graded", "skipped"

#: How each jail event reads in the report.
EVENT_REASONS = {
    BUDGET_EXCEEDED: "budget exceeded",
    KERNEL_DIED: "kernel died",
    JAIL_REFUSED: "jail refused",
    UNSAFE_NO_SANDBOX: "graded unjailed",
}

COLUMNS = ("student", "status", "score", "max_score", "reason")


@dataclass(frozen=True)
class ReportLine:
    """One submission's outcome; ``score`` is None when the gradebook has no submission row."""

    student: str
    status: str
    score: float | None
    max_score: float | None
    reason: str = ""


def event_reason(event: GradingEvent) -> str:
    """The report's words for a jail event."""
    return f"{EVENT_REASONS.get(event.event, event.event)}: {event.detail}"


def events_by_student(log: str, students: tuple[str, ...]) -> dict[str, list[GradingEvent]]:
    """The jail events of a task's log, by the student whose kernel logged them: the student
    named by a folder of the kernel's working path (or the task's only student)."""
    found: dict[str, list[GradingEvent]] = {s: [] for s in students}
    for event in _events(log):
        parts = set(PurePosixPath(event.cwd).parts)
        owners = [s for s in students if s in parts] or (list(students) if len(students) == 1 else [])
        for student in owners:
            found[student].append(event)
    return found


def _events(log: str) -> list[GradingEvent]:
    # One malformed line (the log is text anyone's code might echo into) must not cost the
    # report its other lines; it is skipped, the events around it still count.
    found = []
    for line in log.splitlines():
        try:
            found.extend(parse_events(line))
        except ValueError:
            continue
    return found


def build_line(
    student: str,
    score: tuple[float, float] | None,
    autograded: bool,
    problem: str | None,
    events: list[GradingEvent],
    log_name: str,
    tamper_signs: list[str] | None = None,
) -> ReportLine:
    """The report line of a submission that was graded by a task (successfully or not);
    ``tamper_signs`` (from :mod:`tinytorch_course.grading.tamper_signs`) puts a graded one up for review."""
    reasons = [event_reason(e) for e in events]
    if tamper_signs:
        reasons.insert(0, "read by hand, its own cells use what kernel tampering needs: " + "; ".join(tamper_signs))
    if problem:  # an unreadable hand-in is graded (0) all the same: the reason stays on its line
        reasons.insert(0, problem)
    if autograded:
        status = REVIEW if tamper_signs else GRADED
        return ReportLine(student, status, *(score or (None, None)), "; ".join(reasons))
    if not reasons:
        reasons.append(f"nbgrader could not grade it (see {log_name})")
    return ReportLine(student, NOT_GRADED, *(score or (None, None)), "; ".join(reasons))


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def to_csv(lines: list[ReportLine]) -> str:
    """The report as CSV text, one row per submission."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for line in lines:
        writer.writerow([line.student, line.status, _number(line.score), _number(line.max_score), line.reason])
    return out.getvalue()


def to_text(lines: list[ReportLine]) -> str:
    """The report as aligned text for the terminal: one line per submission."""
    width = max([len("student")] + [len(line.student) for line in lines])
    rows = [f"{'student':<{width}}  {'score':>11}  {'status':<10}  reason"]
    for line in lines:
        score = "-" if line.score is None else f"{_number(line.score)} / {_number(line.max_score)}"
        rows.append(f"{line.student:<{width}}  {score:>11}  {line.status:<10}  {line.reason}".rstrip())
    return "\n".join(rows) + "\n"


def write_report(folder: Path, lines: list[ReportLine]) -> tuple[Path, Path]:
    """Write the report as CSV and text into ``folder`` (the gradebook's); returns both paths."""
    csv_path, txt_path = Path(folder) / REPORT_CSV, Path(folder) / REPORT_TXT
    csv_path.write_text(to_csv(lines), encoding="utf-8")
    txt_path.write_text(to_text(lines), encoding="utf-8")
    return csv_path, txt_path


def read_report(path: Path) -> dict[str, dict[str, str]]:
    """A written CSV report, by student."""
    with Path(path).open(newline="", encoding="utf-8") as fh:
        return {row["student"]: row for row in csv.DictReader(fh)}
