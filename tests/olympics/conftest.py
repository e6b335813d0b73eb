"""Fixtures of the capstone's and its tools' tests: models of known cost, submissions measured
from them, and submissions built from given numbers."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from tests.olympics.known_cost import measured_report
from tests.olympics.submissions import make_submission
from tinytorch.olympics import generate_submission


@pytest.fixture
def small_test_set():
    rng = np.random.default_rng(0)
    return rng.random((64, 64), dtype=np.float32), rng.integers(0, 10, 64)


@pytest.fixture(scope="session")
def valid_submission_factory():
    """A function returning a fresh valid submission measured from real busy-wait models."""
    base, fast = measured_report("baseline", 0.4), measured_report("fast", 0.2)
    template = generate_submission(base, fast, student_name="Ada", techniques_applied=["int8_quantization"])
    return lambda: copy.deepcopy(template)


@pytest.fixture
def submission_factory():
    return make_submission


@pytest.fixture(scope="session")
def measured_submission():
    """A submission from real benchmark runs of busy-wait models (0.4 ms baseline, 0.2 ms optimized)."""
    base, fast = measured_report("busy_0.4ms", 0.4), measured_report("busy_0.2ms", 0.2)
    return generate_submission(base, fast, student_name="Ada", techniques_applied=["int8_quantization"])
