"""Symmetric INT8 weight quantization: int8 weights plus float32 scales, 4x smaller weights."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinytorch.core.layers import Linear
from tinytorch.core.module import Module, map_layers
from tinytorch.core.tensor import Tensor

QMAX = 127  # symmetric range [-127, 127]: -128 is left out so that q and -q are both representable


def quantize_tensor(w, per_channel: bool = True) -> tuple:
    """Quantize `w` to int8 with q = round(w / scale), scale = max|w| / 127.

    Args:
        w: array or Tensor; for a Linear weight, shape (in_features, out_features).
        per_channel: one scale per output channel (last axis) instead of one for the tensor.
            A 1-D tensor always gets a single scale.

    Returns:
        (q, scale): q int8 with w's shape, scale float32 of shape (out,) or (). Dequantizing
        gives back w within scale / 2 per element. An all-zero channel gets scale 1, not a
        division by zero.
    """
    w = np.asarray(w.data if isinstance(w, Tensor) else w, dtype=np.float32)
    if per_channel and w.ndim >= 2:
        max_abs = np.max(np.abs(w), axis=tuple(range(w.ndim - 1)))
    else:
        max_abs = np.max(np.abs(w)) if w.size else np.float32(0)
    scale = (np.where(max_abs > 0, max_abs, np.float32(QMAX)) / np.float32(QMAX)).astype(np.float32)
    q = np.clip(np.rint(w / scale), -QMAX, QMAX).astype(np.int8)
    return q, scale


def dequantize(q: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """float32 values represented by int8 `q` and its `scale`."""
    return q.astype(np.float32) * scale


class QuantizedLinear(Module):
    """A Linear layer whose weight is stored as int8 with float32 scales (inference only).

    Stores `weight_q` (int8, (in, out)), `scale` (float32, (out,) or ()), `bias` (float32 Tensor
    or None), `in_features`, `out_features`.
    """

    def __init__(self, weight_q: np.ndarray, scale: np.ndarray, bias=None) -> None:
        if weight_q.dtype != np.int8 or weight_q.ndim != 2:
            raise ValueError(
                f"QuantizedLinear: weight_q must be a 2-D int8 array, got {weight_q.dtype} {weight_q.shape}"
            )
        self.weight_q = weight_q
        self.scale = np.asarray(scale, dtype=np.float32)
        self.bias = (
            None
            if bias is None
            else Tensor(np.asarray(bias.data if isinstance(bias, Tensor) else bias, dtype=np.float32))
        )
        self.in_features, self.out_features = weight_q.shape

    @classmethod
    def from_linear(cls, layer: Linear, per_channel: bool = True) -> QuantizedLinear:
        """Quantize a trained Linear (the layer itself is left untouched)."""
        q, scale = quantize_tensor(layer.weight, per_channel=per_channel)
        return cls(q, scale, None if layer.bias is None else layer.bias.data.copy())

    def forward(self, x) -> Tensor:
        """(x @ weight_q) * scale + bias, in float32. The scale factors out of the matmul per column."""
        xd = np.asarray(x.data if isinstance(x, Tensor) else x, dtype=np.float32)
        wq = self.weight_q
        if xd.ndim != 2 or xd.shape[1] != wq.shape[0]:
            raise ValueError(f"QuantizedLinear: input of shape {xd.shape} does not match weight of shape {wq.shape}")
        out = xd @ wq.astype(np.float32)
        out *= self.scale
        if self.bias is not None:
            out += self.bias.data
        return Tensor.from_op(out)

    __call__ = forward

    def parameters(self) -> list:
        """[int8 weight (shares weight_q, no copy), bias]: the logical view."""
        weight = Tensor(self.weight_q)
        return [weight] if self.bias is None else [weight, self.bias]

    def flops(self, batch_size: int = 1) -> int:
        """Multiply-adds of the matmul (2 each), the per-column rescale, and the bias adds."""
        extra = 2 if self.bias is not None else 1
        return batch_size * (2 * self.in_features * self.out_features + extra * self.out_features)

    def __repr__(self) -> str:
        return f"QuantizedLinear({self.in_features}, {self.out_features}, int8)"


def quantize_model(model: Any, per_channel: bool = True) -> Any:
    """A copy of `model` with every Linear replaced by a QuantizedLinear; the original is untouched."""
    return map_layers(model, Linear, lambda layer: QuantizedLinear.from_linear(layer, per_channel=per_channel))
