"""The embedded digits data: the stored file, and the seeded split load_digits makes."""

import hashlib
import re

import numpy as np
import pytest

from tinytorch.data import digits as digits_module, load_digits, load_digits_raw


def test_stored_file_matches_the_checksum_in_provenance():
    provenance = (digits_module.DIGITS_PATH.parent / "PROVENANCE.md").read_text()
    recorded = re.search(r"`digits\.npz`[^|]*\|\s*`([0-9a-f]{64})`", provenance)
    assert recorded, "PROVENANCE.md has no sha256 row for digits.npz"
    actual = hashlib.sha256(digits_module.DIGITS_PATH.read_bytes()).hexdigest()
    assert actual == recorded.group(1)
    assert actual == digits_module.DIGITS_SHA256


def test_raw_data_is_the_documented_set():
    images, labels = load_digits_raw()
    assert images.shape == (1797, 64) and images.dtype == np.uint8
    assert labels.shape == (1797,) and labels.dtype == np.uint8
    assert images.min() == 0 and images.max() == 16
    assert np.bincount(labels).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    # First image of the set, a zero (as printed in the UCI/scikit-learn description).
    assert images[0].reshape(8, 8)[1].tolist() == [0, 0, 13, 15, 10, 15, 5, 0]


def test_shapes_dtypes_and_range():
    X_tr, y_tr, X_te, y_te = load_digits()
    assert X_tr.shape[1] == X_te.shape[1] == 64
    assert X_tr.shape[0] + X_te.shape[0] == 1797
    assert X_tr.shape[0] == y_tr.shape[0] and X_te.shape[0] == y_te.shape[0]
    assert X_tr.dtype == X_te.dtype == np.float32
    assert y_tr.dtype == y_te.dtype == np.int64
    for X in (X_tr, X_te):
        assert X.min() >= 0.0 and X.max() <= 1.0
    assert X_tr.max() == 1.0


def test_unnormalized_keeps_counts():
    X_tr, _, _, _ = load_digits(normalize=False)
    assert X_tr.dtype == np.float32 and X_tr.max() == 16.0
    assert np.array_equal(X_tr, np.round(X_tr))


def test_ten_classes_in_both_parts_and_stratified():
    _, y_tr, _, y_te = load_digits(test_fraction=0.2)
    assert set(y_tr.tolist()) == set(y_te.tolist()) == set(range(10))
    counts = np.bincount(y_te, minlength=10)
    totals = np.bincount(load_digits_raw()[1], minlength=10)
    assert np.all(np.abs(counts - 0.2 * totals) <= 0.5 + 1e-9)
    assert abs(len(y_te) / 1797 - 0.2) < 0.01


def test_split_is_deterministic_and_seed_dependent():
    a, b, c = load_digits(seed=3), load_digits(seed=3), load_digits(seed=4)
    for x, y in zip(a, b, strict=False):
        assert np.array_equal(x, y)
    assert not np.array_equal(a[3], c[3])


def test_split_is_disjoint_and_covers_every_image():
    images, labels = load_digits_raw()
    X_tr, y_tr, X_te, y_te = load_digits(normalize=False)
    X_all = np.concatenate([X_tr, X_te]).astype(np.uint8)
    y_all = np.concatenate([y_tr, y_te])

    # Match rows (image + label) as multisets: duplicated images in the data set are allowed.
    def key(X, y):
        return sorted(map(bytes, np.column_stack([X, y]).astype(np.uint8)))

    assert key(X_all, y_all) == key(images, labels)
    # Index-level disjointness.
    train_idx, test_idx = digits_module.stratified_split(labels.astype(np.int64), 0.2, 0)
    assert not set(train_idx.tolist()) & set(test_idx.tolist())
    assert len(train_idx) + len(test_idx) == 1797


@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.1, "0.2", True])
def test_bad_test_fraction(bad):
    with pytest.raises(ValueError, match="test_fraction"):
        load_digits(test_fraction=bad)


def test_bad_seed():
    with pytest.raises(ValueError, match="seed"):
        load_digits(seed=-1)


def test_corrupt_file_is_refused(tmp_path, monkeypatch):
    bad = tmp_path / "digits.npz"
    blob = bytearray(digits_module.DIGITS_PATH.read_bytes())
    blob[-1] ^= 0xFF
    bad.write_bytes(bytes(blob))
    monkeypatch.setattr(digits_module, "DIGITS_PATH", bad)
    with pytest.raises(ValueError, match="sha256"):
        load_digits()


def test_package_data_ships_the_file_and_its_provenance():
    pyproject = (digits_module.DIGITS_PATH.parents[2] / "pyproject.toml").read_text()
    assert '"data/*.npz"' in pyproject and '"data/*.md"' in pyproject
