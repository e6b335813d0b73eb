"""Pruning (magnitude and structured) and sparse (CSR) storage of pruned Linear layers."""

from __future__ import annotations

from numbers import Real
from typing import Any

import numpy as np

from tinytorch.core.layers import Linear
from tinytorch.core.module import Module, check_model, find_layers, map_layers
from tinytorch.core.tensor import Tensor


def _check_fraction(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not 0.0 <= float(value) < 1.0:
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
    return float(value)


def _bias(layer) -> Any:
    return None if layer.bias is None else layer.bias.data


def magnitude_prune(model: Any, sparsity: float) -> Any:
    """A copy of `model` in which each Linear weight has its round(sparsity * n) smallest-|w| entries zeroed.

    Biases are kept. The result is still dense (see `to_sparse` for compact storage).
    """
    sparsity = _check_fraction(sparsity, "sparsity")

    def prune(layer: Linear) -> Linear:
        w = layer.weight.data.copy()
        k = int(round(sparsity * w.size))
        # A stable sort makes ties (e.g. equal magnitudes) break the same way every time.
        w.reshape(-1)[np.argsort(np.abs(w).reshape(-1), kind="stable")[:k]] = 0
        return Linear.from_weights(w, _bias(layer))

    return map_layers(model, Linear, prune)


def pruning_masks(model: Any) -> list:
    """Masks aligned with `model.parameters()`: (w != 0) as float32 for weights, None for biases.

    Give them to `train(..., masks=...)` so fine-tuning keeps pruned weights at zero.
    """
    check_model(model)
    return [(p.data != 0).astype(np.float32) if p.ndim >= 2 else None for p in model.parameters()]


def measure_sparsity(model: Any) -> float:
    """Fraction of weight entries (biases excluded) that are zero, over the logical dense weights."""
    check_model(model)
    weights = [p.data for p in model.parameters() if p.ndim >= 2]
    total = sum(w.size for w in weights)
    return float(sum(w.size - np.count_nonzero(w) for w in weights) / total) if total else 0.0


def structured_prune(model: Any, ratio: float) -> Any:
    """A copy of `model` with round(ratio * width) hidden neurons removed from each hidden layer.

    For consecutive Linear layers whose shapes chain (out of layer k == in of layer k+1), the
    output columns of layer k with the smallest L2 norm are dropped, with the matching input
    rows of layer k+1. The last layer keeps all its outputs. The new layers are physically
    smaller dense Linear layers. At most width - 1 neurons are removed from a layer, so at least
    one always survives: a 0-width layer would cut the output off from the input.
    """
    ratio = _check_fraction(ratio, "ratio")
    check_model(model)
    layers = find_layers(model, Linear)
    weights = [layer.weight.data for layer in layers]
    biases = [_bias(layer) for layer in layers]
    for k in range(len(layers) - 1):
        w, nxt = weights[k], weights[k + 1]
        if w.shape[1] != nxt.shape[0]:
            continue  # not a chain: removing neurons here would break the next layer's input
        drop = min(int(round(ratio * w.shape[1])), w.shape[1] - 1)
        keep = np.sort(np.argsort(np.linalg.norm(w, axis=0), kind="stable")[drop:])
        weights[k], weights[k + 1] = w[:, keep], nxt[keep, :]
        if biases[k] is not None:
            biases[k] = biases[k][keep]
    new = {id(layer): Linear.from_weights(w, b) for layer, w, b in zip(layers, weights, biases, strict=False)}
    return map_layers(model, Linear, lambda layer: new[id(layer)])


class SparseLinear(Module):
    """A Linear layer whose weight is stored in CSR form over its output channels (inference only).

    Row j of the CSR matrix is output channel j: its nonzero weights are
    `values[indptr[j]:indptr[j+1]]`, taken from inputs `indices[indptr[j]:indptr[j+1]]`.
    `indices` is int16 when `in_features` fits (≤ 32767), else int32; `indptr` is int32.

    Two small arrays derived from `indptr` once, at construction, drive `forward`: which output
    channels have any weight (bool, one byte per output) and where their segments start (int32,
    one per non-empty output). They are stored like the CSR arrays, so `model_size_bytes` counts
    them; they add about 5 bytes per output channel.
    """

    def __init__(
        self,
        values: np.ndarray,
        indices: np.ndarray,
        indptr: np.ndarray,
        in_features: int,
        out_features: int,
        bias=None,
    ) -> None:
        if len(indptr) != out_features + 1 or len(values) != len(indices) or indptr[-1] != len(values):
            raise ValueError(
                f"SparseLinear: inconsistent CSR arrays (values {len(values)}, indices {len(indices)}, "
                f"indptr {len(indptr)} for {out_features} outputs)"
            )
        self.values, self.indices, self.indptr = values, indices, indptr
        self.filled = indptr[:-1] < indptr[1:]
        self.segment_starts = indptr[:-1][self.filled]
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.bias = None if bias is None else Tensor(np.asarray(bias, dtype=np.float32))

    @classmethod
    def from_linear(cls, layer: Linear) -> SparseLinear:
        """CSR copy of a (pruned) Linear's weight; the layer itself is left untouched."""
        w_t = layer.weight.data.T  # (out, in): one row per output channel
        rows, cols = np.nonzero(w_t)
        index_type = np.int16 if layer.in_features <= np.iinfo(np.int16).max else np.int32
        indptr = np.zeros(layer.out_features + 1, dtype=np.int32)
        np.cumsum(np.bincount(rows, minlength=layer.out_features), out=indptr[1:])
        bias = None if layer.bias is None else layer.bias.data.copy()
        return cls(
            w_t[rows, cols].astype(np.float32),
            cols.astype(index_type),
            indptr,
            layer.in_features,
            layer.out_features,
            bias,
        )

    def dense_weight(self) -> np.ndarray:
        """The weight as a dense (in_features, out_features) float32 array."""
        w = np.zeros((self.in_features, self.out_features), dtype=np.float32)
        rows = np.repeat(np.arange(self.out_features), np.diff(self.indptr))
        w[self.indices, rows] = self.values
        return w

    def forward(self, x) -> Tensor:
        """Sum, per output channel, of its nonzero weights times the inputs they read, plus bias."""
        xd = np.asarray(x.data if isinstance(x, Tensor) else x, dtype=np.float32)
        if xd.ndim != 2 or xd.shape[1] != self.in_features:
            raise ValueError(
                f"SparseLinear: input of shape {xd.shape} does not match "
                f"weight of shape {(self.in_features, self.out_features)}"
            )
        out = np.zeros((xd.shape[0], self.out_features), dtype=np.float32)
        if self.values.size:
            # reduceat sums each segment up to the next start; empty rows are skipped because
            # they would yield a stray element instead of 0.
            products = xd[:, self.indices] * self.values
            out[:, self.filled] = np.add.reduceat(products, self.segment_starts, axis=1)
        if self.bias is not None:
            out += self.bias.data
        return Tensor.from_op(out)

    __call__ = forward

    def parameters(self) -> list:
        """[dense weight, bias]: the logical view, so counts and sparsity match the dense model."""
        weight = Tensor(self.dense_weight())
        return [weight] if self.bias is None else [weight, self.bias]

    def flops(self, batch_size: int = 1) -> int:
        """2 per stored nonzero weight, plus the bias adds."""
        bias = self.out_features if self.bias is not None else 0
        return batch_size * (2 * int(self.values.size) + bias)

    def __repr__(self) -> str:
        return f"SparseLinear({self.in_features}, {self.out_features}, nnz={self.values.size})"


def to_sparse(model: Any) -> Any:
    """A copy of `model` with every Linear stored as a SparseLinear (CSR); the original is untouched."""
    return map_layers(model, Linear, SparseLinear.from_linear)
