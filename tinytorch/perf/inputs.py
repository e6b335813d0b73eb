"""Checks on what a measurement is given: a model, a test set, and run counts."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinytorch.core.tensor import Tensor


def check_count(value: Any, name: str, low: int) -> int:
    """`value` as an int when it is an integer ≥ `low` (not a bool); a ValueError naming `name` otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name}: expected an integer ≥ {low}, got {value!r}")
    return int(value)


def as_test_set(model: Any, X_test: Any, y_test: Any) -> tuple[np.ndarray, np.ndarray]:
    """Check a model and a test set, and return X as float32 (n, features) and y as int64 labels."""
    for method in ("forward", "parameters"):
        if not callable(getattr(model, method, None)):
            raise ValueError(
                f"model: expected an object with .forward(x) and .parameters() methods, "
                f"got {type(model).__name__} without .{method}"
            )
    try:
        X = np.asarray(X_test.data if isinstance(X_test, Tensor) else X_test, dtype=np.float32)
    except (TypeError, ValueError) as error:
        raise ValueError(f"X_test: expected numbers, a Tensor or array of shape (samples, features): {error}") from None
    y = np.asarray(y_test.data if isinstance(y_test, Tensor) else y_test)
    if X.ndim != 2:
        raise ValueError(f"X_test: expected a 2-D array (samples, features), got shape {X.shape}")
    if len(X) == 0:
        raise ValueError("X_test: the test set is empty; at least one sample is needed")
    if y.ndim != 1 or len(y) != len(X):
        raise ValueError(f"y_test: expected {len(X)} integer labels (one per row of X_test), got shape {y.shape}")
    if y.dtype.kind not in "iuf" or (y.dtype.kind == "f" and not np.all(np.mod(y, 1) == 0)):
        raise ValueError(f"y_test: expected integer class labels, got {y.dtype} values such as {y[0]!r}")
    return X, y.astype(np.int64, copy=False)
