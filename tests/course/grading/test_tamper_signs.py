"""The tampering review: the names kernel tampering needs are found in the cells the student
wrote, and nothing in the assignment's own cells or in honest work is flagged."""

import copy
import json

import nbformat

from tinytorch_course.authoring.reference import nbgrader_meta, reference_submission
from tinytorch_course.authoring.release import source_notebook
from tinytorch_course.grading.tamper_signs import suspicious_names, tamper_signs
from tinytorch_course.paths import RELEASE_NOTEBOOK, SOURCE_PY


def _as_json(nb) -> dict:
    return json.loads(nbformat.writes(nb))


def test_tampering_is_found_in_code_and_in_strings():
    assert suspicious_names("get_ipython().input_transformers_post.append(lambda lines: ['pass'])") == [
        "get_ipython",
        "input_transformers_post",
    ]
    assert suspicious_names('ip = getattr(__builtins__, "get_" + "ipython")') == ["__builtins__"]
    assert suspicious_names('hook = getattr(shell, "_showtraceback")') == ["_showtraceback"]
    assert suspicious_names("import sys\nsys.settrace(None)") == ["settrace"]
    assert suspicious_names("if os.environ.get('NBGRADER_EXECUTION'):\n    pass") == ["NBGRADER_EXECUTION", "environ"]
    assert suspicious_names("!cat /etc/passwd") == ["magic"]
    assert suspicious_names("x = 1\n%load_ext something") == ["magic"]


def test_prose_comments_and_honest_code_are_not_flagged():
    honest = (
        'def f(x):\n    """In the system, events and modules of a compile step."""\n'
        '    pattern = re.compile("p50")  # get_ipython is not called here\n    return sorted(x)\n'
    )
    assert suspicious_names(honest) == []


def test_the_reference_solutions_and_the_blank_release_are_not_flagged():
    source = source_notebook(SOURCE_PY)
    release = nbformat.read(str(RELEASE_NOTEBOOK), as_version=4)
    assert tamper_signs(_as_json(release), _as_json(source)) == []
    assert tamper_signs(_as_json(reference_submission(release, source)), _as_json(source)) == []


def test_a_tampering_answer_cell_is_named():
    source = source_notebook(SOURCE_PY)
    release = nbformat.read(str(RELEASE_NOTEBOOK), as_version=4)
    tampered = copy.deepcopy(reference_submission(release, source))
    cell = next(c for c in tampered.cells if nbgrader_meta(c).get("grade_id") == "simple-mlp")
    cell.source += "\nget_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])\n"
    added = nbformat.v4.new_code_cell("import builtins\nbuiltins.print = lambda *a: None")
    tampered.cells.append(added)
    signs = tamper_signs(_as_json(tampered), _as_json(source))
    assert signs == [
        "get_ipython, input_transformers_post (cell 'simple-mlp')",
        f"builtins (cell {len(tampered.cells)})",
    ]


def test_an_answer_that_redefines_the_given_code_or_the_relay_is_named():
    """With the tests in a kernel of their own, what a student's code can still do is make an act
    answer with data it did not measure: redefine an act or what it calls, or replace the relay."""
    source = source_notebook(SOURCE_PY)
    release = nbformat.read(str(RELEASE_NOTEBOOK), as_version=4)
    forged = copy.deepcopy(reference_submission(release, source))
    cell = next(c for c in forged.cells if nbgrader_meta(c).get("grade_id") == "benchmark-report")
    cell.source += "\nreport_data = lambda report: {}\nKnownCostModel.log = lambda self: {}\n"
    relay = nbformat.v4.new_code_cell("import tinytorch.acts as relay\nrelay.serve = print\n")
    honest = nbformat.v4.new_code_cell("import numpy as np\ndef helper():\n    measure = 1\n    return measure\n")
    forged.cells += [relay, honest]
    assert tamper_signs(_as_json(forged), _as_json(source)) == [
        "redefines given KnownCostModel, report_data (cell 'benchmark-report')",
        f"acts, serve (cell {len(forged.cells) - 1})",
    ]
