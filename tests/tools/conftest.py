"""Fixtures of the tools' tests: submissions built from numbers, or measured from real models."""
from __future__ import annotations

import pytest

from tinytorch.olympics import generate_submission

from tests.tools.submissions import make_submission


@pytest.fixture
def submission_factory():
    return make_submission


@pytest.fixture(scope="session")
def measured_submission():
    """A submission from real benchmark runs of busy-wait models (0.4 ms baseline, 0.2 ms optimized)."""
    from tests.olympics.known_cost import measured_report
    base, fast = measured_report("busy_0.4ms", 0.4), measured_report("busy_0.2ms", 0.2)
    return generate_submission(base, fast, student_name="Ada", techniques_applied=["int8_quantization"])
