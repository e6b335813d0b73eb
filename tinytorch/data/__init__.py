"""tinytorch.data: the embedded 8×8 handwritten digits data set and its loader."""

from tinytorch.data.digits import load_digits, load_digits_raw

__all__ = ["load_digits", "load_digits_raw"]
