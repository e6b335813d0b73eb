"""Activation functions as layers."""

from __future__ import annotations

import numpy as np

from tinytorch.core.module import Module
from tinytorch.core.tensor import Tensor, relu

_from_op = Tensor.from_op


class ReLU(Module):
    """max(x, 0), elementwise."""

    # The function itself, not a method wrapping it: one Python call less per forward.
    forward = __call__ = staticmethod(relu)

    def parameters(self) -> list:
        return []


def _softmax_backward(g: np.ndarray, out: np.ndarray, axis: int) -> tuple:
    """Gradient of softmax: out * (g - sum(g * out)) along `axis`."""
    return (out * (g - np.sum(g * out, axis=axis, keepdims=True)),)


class Softmax(Module):
    """exp(x) / sum(exp(x)) along `axis`, with the maximum subtracted first so that large inputs
    do not overflow. One graph node (not log-softmax then exp: two nodes and two more numpy
    calls per forward)."""

    def __init__(self, axis: int = -1) -> None:
        self.axis = axis

    def forward(self, x) -> Tensor:
        if not isinstance(x, Tensor):
            x = Tensor(x)
        axis, data = self.axis, x.data
        out = np.exp(data - np.max(data, axis=axis, keepdims=True))
        out /= np.sum(out, axis=axis, keepdims=True)  # in place: `out` is ours
        return _from_op(out, (x,), _softmax_backward, (out, axis))

    __call__ = forward

    def parameters(self) -> list:
        return []
