"""The grading report: one line per hand-in with its score and, for anything not graded
normally, the reason, built from nbgrader's results (its autograded notebook, its gradebook
rows, its log) and the jail's event lines in that log. Nothing is silently 0.

Every field is written through :func:`~tinytorch_course.grading.names.printable`, so a student's
name, a kernel's output quoted in a reason or a lone surrogate is one line of plain text and
cannot add a line; both files are written atomically (a temporary file in the same folder, then
``os.replace``), so a report is never half-written."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from tinytorch.submission.files import write_text_atomically
from tinytorch_course.grading.jail.events import (
    BUDGET_EXCEEDED,
    JAIL_REFUSED,
    KERNEL_DIED,
    UNSAFE_NO_SANDBOX,
    GradingEvent,
    parse_events,
)
from tinytorch_course.grading.names import printable
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
    """One hand-in's outcome; ``score`` is None when the gradebook has no submission row."""

    student: str
    status: str
    score: float | None
    max_score: float | None
    reason: str = ""


def event_reason(event: GradingEvent) -> str:
    """The report's words for a jail event."""
    return f"{EVENT_REASONS.get(event.event, event.event)}: {event.detail}"


def events_by_student(log: str, students: tuple[str, ...], key: str) -> dict[str, list[GradingEvent]]:
    """The jail events of a task's log signed with the task's ``key``, by the student whose kernel
    logged them: the student named by a folder of the kernel's working path (or the task's only
    student)."""
    found: dict[str, list[GradingEvent]] = {s: [] for s in students}
    for event in _events(log, key):
        parts = set(PurePosixPath(event.cwd).parts)
        owners = [s for s in students if s in parts] or (list(students) if len(students) == 1 else [])
        for student in owners:
            found[student].append(event)
    return found


def _events(log: str, key: str) -> list[GradingEvent]:
    # One malformed line must not cost the report its other lines; it is skipped, the events
    # around it still count.
    found = []
    for line in log.split("\n"):
        try:
            found.extend(parse_events(line, key))
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
    """The report line of a hand-in that was graded by a task (successfully or not);
    ``tamper_signs`` (from :mod:`tinytorch_course.grading.tamper_signs`) puts a graded one up for review."""
    # each of a notebook's two kernels logs its own events: the same reason is said once
    reasons = list(dict.fromkeys(event_reason(e) for e in events))
    points, max_points = score or (None, None)
    if tamper_signs:
        reasons.insert(0, "read by hand, its own cells use what kernel tampering needs: " + "; ".join(tamper_signs))
    if problem:  # an unreadable hand-in is graded (0) all the same: the reason stays on its line
        reasons.insert(0, problem)
    if autograded:
        status = REVIEW if tamper_signs else GRADED
        return ReportLine(student, status, points, max_points, "; ".join(reasons))
    if not reasons:
        reasons.append(f"nbgrader could not grade it (see {log_name})")
    return ReportLine(student, NOT_GRADED, points, max_points, "; ".join(reasons))


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


#: What a spreadsheet reads as the start of a formula in a cell.
FORMULA_STARTS = ("=", "+", "-", "@")


def _cell(text: str) -> str:
    """``text`` as a CSV cell: :func:`printable`, and one that a spreadsheet would take for a
    formula (a refused folder named ``=HYPERLINK(...)``) led by ``'``, which makes it text."""
    shown = printable(text)
    return "'" + shown if shown.startswith(FORMULA_STARTS) else shown


def to_csv(lines: list[ReportLine]) -> str:
    """The report as CSV text, one row per hand-in, every text field a :func:`_cell`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for line in lines:
        writer.writerow(
            [_cell(line.student), line.status, _number(line.score), _number(line.max_score), _cell(line.reason)]
        )
    return out.getvalue()


def to_text(lines: list[ReportLine]) -> str:
    """The report as aligned text for the terminal: one line per hand-in, every field
    :func:`printable`, a name longer than :data:`TEXT_NAME_CHARS` cut short."""
    names = [_shortened(printable(line.student)) for line in lines]
    width = max([len("student")] + [len(name) for name in names])
    rows = [f"{'student':<{width}}  {'score':>11}  {'status':<10}  reason"]
    for name, line in zip(names, lines, strict=True):
        score = "-" if line.score is None else f"{_number(line.score)} / {_number(line.max_score)}"
        rows.append(f"{name:<{width}}  {score:>11}  {line.status:<10}  {printable(line.reason)}".rstrip())
    return "\n".join(rows) + "\n"


#: The widest student name the text report shows in full; the CSV always holds the whole name.
TEXT_NAME_CHARS = 40


def _shortened(name: str) -> str:
    return name if len(name) <= TEXT_NAME_CHARS else name[: TEXT_NAME_CHARS - 3] + "..."


def write_report(folder: Path, lines: list[ReportLine]) -> tuple[Path, Path]:
    """Write the report as CSV and text into ``folder`` (the gradebook's), each atomically;
    returns both paths."""
    csv_path, txt_path = Path(folder) / REPORT_CSV, Path(folder) / REPORT_TXT
    write_text_atomically(to_csv(lines), csv_path)
    write_text_atomically(to_text(lines), txt_path)
    return csv_path, txt_path


def read_report(path: Path) -> dict[str, dict[str, str]]:
    """A written CSV report, by student."""
    with Path(path).open(newline="", encoding="utf-8") as fh:
        return {row["student"]: row for row in csv.DictReader(fh)}
