"""The embedded 8×8 handwritten digits data set and its seeded train/test split.

The file `digits.npz` beside this module holds the 1,797 images of the UCI "Optical
Recognition of Handwritten Digits" test set (the copy scikit-learn ships); `PROVENANCE.md`
says where it comes from, its licence and how the file was made. Nothing is downloaded.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

DIGITS_PATH = Path(__file__).resolve().parent / "digits.npz"
DIGITS_SHA256 = "af104d81e7cd419be5f343d23c6ca2e4e4ff847b06636260802df8e903c6183f"
MAX_PIXEL = 16


def load_digits_raw() -> tuple[np.ndarray, np.ndarray]:
    """All 1,797 images as uint8 (1797, 64) with pixel counts 0..16, and uint8 labels 0..9.

    Raises:
        ValueError: the stored file does not match its recorded checksum.
    """
    blob = DIGITS_PATH.read_bytes()
    digest = hashlib.sha256(blob).hexdigest()
    if digest != DIGITS_SHA256:
        raise ValueError(
            f"{DIGITS_PATH}: sha256 {digest} does not match the recorded "
            f"{DIGITS_SHA256}; rebuild it with tinytorch_course/authoring/make_digits.py"
        )
    with np.load(DIGITS_PATH) as stored:
        return stored["images"], stored["labels"]


def stratified_split(labels: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Train and test indices holding about `test_fraction` of every class in the test part.

    Each class is shuffled with one generator seeded by `seed`, so the split is the same on
    every machine; each part is shuffled once more so its classes are interleaved.
    """
    rng = np.random.default_rng(seed)
    train_parts, test_parts = [], []
    for cls in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == cls))
        n_test = int(round(test_fraction * members.size))
        test_parts.append(members[:n_test])
        train_parts.append(members[n_test:])
    return rng.permutation(np.concatenate(train_parts)), rng.permutation(np.concatenate(test_parts))


def load_digits(
    test_fraction: float = 0.2, seed: int = 0, normalize: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The digits data split into `(X_train, y_train, X_test, y_test)`.

    Args:
        test_fraction: share of each class held out for testing, strictly between 0 and 1.
        seed: seed of the split; the same seed gives the same split everywhere.
        normalize: scale pixels to [0, 1] (divide by 16) as float32; otherwise keep the raw
            counts 0..16, still as float32.

    Returns:
        X arrays of shape (n, 64), float32; y arrays of shape (n,), int64 labels 0..9.
    """
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float)) or not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction: expected a number strictly between 0 and 1, got {test_fraction!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed: expected a non-negative integer, got {seed!r}")
    images, labels = load_digits_raw()
    X = images.astype(np.float32)
    if normalize:
        X /= MAX_PIXEL
    y = labels.astype(np.int64)
    train_idx, test_idx = stratified_split(y, float(test_fraction), int(seed))
    return X[train_idx], y[train_idx], X[test_idx], y[test_idx]
