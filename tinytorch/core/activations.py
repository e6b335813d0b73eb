"""Activation functions as layers."""

from __future__ import annotations

from tinytorch.core.module import Module
from tinytorch.core.tensor import Tensor, relu


class ReLU(Module):
    """max(x, 0), elementwise."""

    # The function itself, not a method wrapping it: one Python call less per forward.
    forward = __call__ = staticmethod(relu)

    def parameters(self) -> list:
        return []


class Softmax(Module):
    """exp(x) / sum(exp(x)) along `axis`, computed via a stable log-softmax."""

    def __init__(self, axis: int = -1) -> None:
        self.axis = axis

    def forward(self, x) -> Tensor:
        return (x if isinstance(x, Tensor) else Tensor(x)).log_softmax(axis=self.axis).exp()

    __call__ = forward

    def parameters(self) -> list:
        return []
