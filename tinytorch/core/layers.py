"""Linear layers and Sequential containers."""

from __future__ import annotations

import numpy as np

from tinytorch.core.module import Module
from tinytorch.core.tensor import Tensor, matmul_backward

# Bound once: forward is the inference hot path (benchmarks/bench_forward.py), where even the
# attribute lookup of a call is measurable.
_from_op = Tensor.from_op


# A Linear node's parents are (weight, bias, x), or (weight, x) without bias: the parameters
# first, since from_op asks the first parent alone whether a gradient is needed (see from_op).


def _linear_backward(g: np.ndarray, x: np.ndarray, weight: np.ndarray) -> tuple:
    """Gradients of x @ weight + bias for weight, bias (summed over the batch) and x."""
    gx, gw = matmul_backward(g, x, weight)
    return gw, g.sum(axis=0), gx


def _linear_no_bias_backward(g: np.ndarray, x: np.ndarray, weight: np.ndarray) -> tuple:
    """Gradients of x @ weight for weight and x."""
    gx, gw = matmul_backward(g, x, weight)
    return gw, gx


class Linear(Module):
    """A fully connected layer: y = x @ weight + bias.

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        bias: whether to add a learned bias.
        seed: seed of the weight initialisation (None: not repeatable).

    `weight` has shape (in_features, out_features), initialised He-style (normal with variance
    2 / in_features, suited to ReLU); `bias` has shape (out_features,) and starts at zero.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, seed: int | None = None) -> None:
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"Linear: {name} must be a positive integer, got {value!r}")
        rng = np.random.default_rng(seed)
        std = np.sqrt(2.0 / in_features)
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.weight = Tensor(
            (rng.standard_normal((in_features, out_features)) * std).astype(np.float32), requires_grad=True
        )
        self.bias = Tensor(np.zeros(out_features, dtype=np.float32), requires_grad=True) if bias else None

    @classmethod
    def from_weights(cls, weight: np.ndarray, bias: np.ndarray | None = None) -> Linear:
        """A Linear holding copies of the given arrays (weight shaped (in, out))."""
        weight = np.array(weight, dtype=np.float32)
        layer = cls.__new__(cls)
        layer.in_features, layer.out_features = weight.shape
        layer.weight = Tensor(weight, requires_grad=True)
        layer.bias = None if bias is None else Tensor(np.array(bias, dtype=np.float32), requires_grad=True)
        return layer

    def forward(self, x) -> Tensor:
        """Outputs of shape (batch, out_features) for inputs of shape (batch, in_features).

        x @ weight + bias is ONE graph node with its own backward: an op-by-op version would
        build two Tensors per layer, which is most of the cost of a small layer's inference.
        """
        if not isinstance(x, Tensor):
            x = Tensor(x)
        weight, bias = self.weight, self.bias
        xd, wd = x.data, weight.data
        try:
            out = xd @ wd
        except ValueError:
            raise ValueError(
                f"Linear: input of shape {xd.shape} does not match weight of shape {wd.shape} "
                f"(expected input (batch, {wd.shape[0]}))"
            ) from None
        if bias is None:
            return _from_op(out, (weight, x), _linear_no_bias_backward, (xd, wd))
        out += bias.data  # in place: the matmul result is ours, so skip a second allocation
        return _from_op(out, (weight, bias, x), _linear_backward, (xd, wd))

    __call__ = forward  # skip Module.__call__'s extra Python call on the hot path

    def parameters(self) -> list:
        """[weight, bias] (or [weight] without bias)."""
        return [self.weight] if self.bias is None else [self.weight, self.bias]

    def flops(self, batch_size: int = 1) -> int:
        """Floating-point operations of one forward pass: 2 per multiply-add, plus the bias adds."""
        bias = self.out_features if self.bias is not None else 0
        return batch_size * (2 * self.in_features * self.out_features + bias)

    def __repr__(self) -> str:
        return f"Linear({self.in_features}, {self.out_features}, bias={self.bias is not None})"


class Sequential(Module):
    """Layers applied one after another."""

    def __init__(self, *layers) -> None:
        self.layers = list(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    __call__ = forward

    def __getitem__(self, index: int):
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)
