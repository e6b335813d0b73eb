"""Models of known cost and ready-made reports for the olympics tests."""
from __future__ import annotations

import numpy as np
import pytest

from tinytorch.olympics import generate_submission

from known_cost import measured_report


@pytest.fixture
def small_test_set():
    rng = np.random.default_rng(0)
    return rng.random((64, 64), dtype=np.float32), rng.integers(0, 10, 64)


@pytest.fixture(scope="session")
def valid_submission_factory():
    """A function returning a fresh valid submission measured from real busy-wait models."""
    base, fast = measured_report("baseline", 0.4), measured_report("fast", 0.2)
    template = generate_submission(base, fast, student_name="Ada", techniques_applied=["int8_quantization"])
    import copy
    return lambda: copy.deepcopy(template)
