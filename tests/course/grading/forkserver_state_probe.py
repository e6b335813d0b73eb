"""Run by tests/course/grading/test_forkserver.py through the nbgrader server: prints, as JSON, what
the run found loaded (the grading modules, jsonschema's IRI grammar, nbgrader's ORM set up,
nbformat's validators built) and
the event key it signs with when its environment gives none, and whether it leads its own
session."""

import json
import os
import sys

if __name__ == "__main__":
    loaded = {
        name: name in sys.modules
        for name in ("tinytorch_course.grading.jail.events", "nbgrader.api", "jsonschema", "rfc3987_syntax")
    }
    from nbformat.validator import validators
    from nbgrader.api import Student
    from sqlalchemy import inspect

    from tinytorch_course.grading.jail.events import event_key

    print(
        json.dumps(
            {
                "loaded": loaded,
                "mappers_configured": inspect(Student).configured,
                "validators": sorted([list(key[1:]) for key in validators]),
                "key": event_key(),
                "own_session": os.getsid(0) == os.getpid(),
            }
        )
    )
