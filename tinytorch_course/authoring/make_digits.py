"""Build tinytorch/data/digits.npz from scikit-learn's copy of the UCI digits data.

scikit-learn ships the 1,797-image test set of the UCI "Optical Recognition of Handwritten
Digits" data set as `sklearn/datasets/data/digits.csv.gz`: one row per image, 64 pixel counts
(0..16) then the label. This script reads that file (scikit-learn itself is not imported, so it
can live in a throwaway environment) and writes the two uint8 arrays the package loads.

    python -m venv /tmp/skvenv && /tmp/skvenv/bin/pip install scikit-learn
    python -m tinytorch_course.authoring.make_digits \
        /tmp/skvenv/lib/python3.*/site-packages/sklearn/datasets/data/digits.csv.gz
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
from pathlib import Path

import numpy as np

from tinytorch_course.paths import REPO

OUT = REPO / "tinytorch" / "data" / "digits.npz"


def read_csv_gz(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (n, 64) and labels (n,) as uint8, checked for the documented shape and ranges."""
    with gzip.open(path, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    if table.ndim != 2 or table.shape[1] != 65:
        raise ValueError(f"{path}: expected 65 columns (64 pixels + label), got shape {table.shape}")
    images, labels = table[:, :64], table[:, 64]
    if images.min() < 0 or images.max() > 16:
        raise ValueError(f"{path}: pixel values outside 0..16")
    if set(np.unique(labels)) != set(range(10)):
        raise ValueError(f"{path}: labels are not exactly the digits 0..9")
    return images.astype(np.uint8), labels.astype(np.uint8)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="path to scikit-learn's digits.csv.gz")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    images, labels = read_csv_gz(args.source)
    np.savez_compressed(args.out, images=images, labels=labels)
    print(f"source  {args.source}  sha256 {sha256(args.source)}")
    print(f"wrote   {args.out}  {images.shape[0]} images  sha256 {sha256(args.out)}")


if __name__ == "__main__":
    main()
