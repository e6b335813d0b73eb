"""Tensor: a numpy array with reverse-mode automatic differentiation.

Each operation returns a new Tensor, built by `Tensor.from_op` (the one way, used by the ops
here and by the layers elsewhere). When autograd is on and some input requires grad, the
result also remembers its inputs (`_parents`), its op's backward function (`_backward`) and
what that function needs from the forward pass (`_saved`); `_backward(g, *_saved)` maps the
gradient of the result to the gradients of those inputs. Each op's backward is defined once,
at module level, so recording a node allocates no closure. `backward()` walks that graph in
reverse topological order. When nothing requires grad, no graph is recorded at all, so
inference costs little more than the numpy call itself.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence

import numpy as np

_new = object.__new__
_grad_enabled = True  # flipped by no_grad(); read on every op, so kept a plain module global


@contextlib.contextmanager
def no_grad() -> Iterator[None]:
    """Inside this block no graph is recorded, even for inputs that require grad."""
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, False
    try:
        yield
    finally:
        _grad_enabled = previous


class Tensor:
    """An n-dimensional array that can record how it was computed.

    Args:
        data: a numpy array (kept as is: same dtype, not copied), a Tensor (its array is
            shared), or a Python number / nested list (becomes float32).
        requires_grad: whether `backward()` should compute a gradient for this tensor.
        dtype: convert to this dtype instead.

    `.grad` is a numpy array of the same shape (or None before any backward pass).
    """

    __slots__ = ("data", "grad", "requires_grad", "_parents", "_backward", "_saved")
    data: np.ndarray
    grad: np.ndarray | None
    requires_grad: bool
    _parents: tuple[Tensor, ...]
    _backward: Callable | None
    _saved: tuple

    def __init__(self, data, requires_grad: bool = False, dtype=None) -> None:
        if isinstance(data, Tensor):
            data = data.data
        if isinstance(data, (np.ndarray, np.generic)):
            data = np.asarray(data) if dtype is None else np.asarray(data, dtype=dtype)
        else:
            data = np.asarray(data, dtype=np.float32 if dtype is None else dtype)
        self.data = data
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._parents = ()
        self._backward = None
        self._saved = ()

    @staticmethod
    def from_op(data: np.ndarray, parents: tuple = (), backward: Callable | None = None, saved: tuple = ()) -> Tensor:
        """The one way to build the output of an operation, here and in every other module.

        `data` is kept as is (no copy, no conversion, no checks: this is the hot path of every
        op). The result is a graph node, remembering `parents`, `backward` and `saved`, only
        when autograd is on and some parent requires grad; otherwise it is a plain tensor and
        inference records nothing. With no parents it is a constant.

        `backward(g, *saved)` maps the result's gradient `g` to one gradient per parent (None
        where there is none). The ops pass a function defined once and the arrays or settings it
        needs as `saved`, rather than a closure over them: a closure built on every call is
        about a tenth of a small model's forward pass at batch 1 (benchmarks/bench_forward.py).

        List first the parent that most often requires grad (a layer's weight before its
        input): it is asked alone, before the others are looped over.
        """
        t = _new(Tensor)
        t.data, t.grad = data, None
        if _grad_enabled and backward is not None and parents:
            # The first parent is asked alone before the loop, and the recording is written out
            # twice, because one instruction less per node is measurable: an op lists first the
            # input that most often requires grad (a layer its weight), and the loop's iterator
            # (or a flag, or a helper call) costs more than the test (benchmarks/bench_forward.py).
            if parents[0].requires_grad:
                t.requires_grad, t._parents, t._backward = True, parents, backward
                t._saved = saved
                return t
            for p in parents:
                if p.requires_grad:
                    t.requires_grad, t._parents, t._backward = True, parents, backward
                    t._saved = saved
                    return t
        t.requires_grad, t._parents, t._backward = False, (), None
        t._saved = ()
        return t

    # ---- array-like properties -------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def ndim(self) -> int:
        return self.data.ndim

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        return self.data

    def item(self) -> float:
        """The value of a one-element tensor as a Python number."""
        return self.data.item()

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({self.data!r}{grad})"

    def __deepcopy__(self, memo: dict) -> Tensor:
        # A copy is a fresh leaf: same values and flag, no gradient, no graph.
        t = Tensor.from_op(self.data.copy())
        t.requires_grad = self.requires_grad
        memo[id(self)] = t
        return t

    # ---- autograd ----------------------------------------------------------------------------
    def zero_grad(self) -> None:
        """Forget the accumulated gradient."""
        self.grad = None

    def backward(self, grad=None) -> None:
        """Accumulate d(self)/d(leaf) into `.grad` of every leaf that requires grad.

        Args:
            grad: gradient of the final objective with respect to this tensor; may be omitted
                for a one-element tensor (it is then 1).
        """
        if grad is None:
            if self.data.size != 1:
                raise ValueError(f"backward() without a gradient needs a one-element tensor, got shape {self.shape}")
            grad = np.ones_like(self.data)
        grads = {id(self): np.asarray(grad, dtype=self.data.dtype)}
        for node in reversed(_topological_order(self)):
            g = grads.pop(id(node), None)
            if g is None:
                continue
            if node._backward is None:  # a leaf: gradients add up across backward() calls
                node.grad = g.copy() if node.grad is None else node.grad + g
                continue
            for parent, pg in zip(node._parents, node._backward(g, *node._saved), strict=False):
                if pg is None or not parent.requires_grad:
                    continue
                key = id(parent)
                grads[key] = pg if key not in grads else grads[key] + pg

    # ---- arithmetic --------------------------------------------------------------------------
    def __add__(self, other) -> Tensor:
        other = _lift(other, self)
        a, b = self.data, other.data
        data = _broadcasting(np.add, a, b, "add")
        return Tensor.from_op(data, (self, other), _add_backward, (a.shape, b.shape))

    __radd__ = __add__

    def __sub__(self, other) -> Tensor:
        other = _lift(other, self)
        a, b = self.data, other.data
        data = _broadcasting(np.subtract, a, b, "subtract")
        return Tensor.from_op(data, (self, other), _sub_backward, (a.shape, b.shape))

    def __rsub__(self, other) -> Tensor:
        return _lift(other, self) - self

    def __mul__(self, other) -> Tensor:
        other = _lift(other, self)
        a, b = self.data, other.data
        data = _broadcasting(np.multiply, a, b, "multiply")
        return Tensor.from_op(data, (self, other), _mul_backward, (a, b))

    __rmul__ = __mul__

    def __truediv__(self, other) -> Tensor:
        other = _lift(other, self)
        a, b = self.data, other.data
        data = _broadcasting(np.divide, a, b, "divide")
        return Tensor.from_op(data, (self, other), _div_backward, (a, b))

    def __neg__(self) -> Tensor:
        return Tensor.from_op(-self.data, (self,), _neg_backward)

    def __matmul__(self, other) -> Tensor:
        other = _lift(other, self)
        a, b = self.data, other.data
        if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
            raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not align (expected (n, k) @ (k, m))")
        return Tensor.from_op(a @ b, (self, other), matmul_backward, (a, b))

    # ---- elementwise functions ----------------------------------------------------------------
    def relu(self) -> Tensor:
        return relu(self)

    def exp(self) -> Tensor:
        out = np.exp(self.data)
        return Tensor.from_op(out, (self,), _exp_backward, (out,))

    def log(self) -> Tensor:
        a = self.data
        return Tensor.from_op(np.log(a), (self,), _log_backward, (a,))

    # ---- reductions and shape ----------------------------------------------------------------
    def sum(self, axis=None, keepdims: bool = False) -> Tensor:
        data = np.sum(self.data, axis=axis, keepdims=keepdims)
        return Tensor.from_op(data, (self,), _sum_backward, (self.data.shape, axis, keepdims))

    def mean(self, axis=None, keepdims: bool = False) -> Tensor:
        total = self.sum(axis=axis, keepdims=keepdims)
        count = self.data.size // max(total.data.size, 1)
        return total * (1.0 / count)

    def reshape(self, *shape) -> Tensor:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        original = self.data.shape
        try:
            data = self.data.reshape(shape)
        except ValueError:
            raise ValueError(f"reshape: cannot reshape {original} into {shape}") from None
        return Tensor.from_op(data, (self,), _reshape_backward, (original,))

    def log_softmax(self, axis: int = -1) -> Tensor:
        """log(softmax(x)) computed stably: x - max - log(sum(exp(x - max)))."""
        shifted = self.data - np.max(self.data, axis=axis, keepdims=True)
        out = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
        return Tensor.from_op(out, (self,), _log_softmax_backward, (out, axis))


# ---- backward functions: (gradient of the result, *saved) -> one gradient per input ----------
def _add_backward(g: np.ndarray, a_shape: tuple, b_shape: tuple) -> tuple:
    return _unbroadcast(g, a_shape), _unbroadcast(g, b_shape)


def _sub_backward(g: np.ndarray, a_shape: tuple, b_shape: tuple) -> tuple:
    return _unbroadcast(g, a_shape), _unbroadcast(-g, b_shape)


def _mul_backward(g: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple:
    return _unbroadcast(g * b, a.shape), _unbroadcast(g * a, b.shape)


def _div_backward(g: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple:
    return _unbroadcast(g / b, a.shape), _unbroadcast(-g * a / (b * b), b.shape)


def _neg_backward(g: np.ndarray) -> tuple:
    return (-g,)


def matmul_backward(g: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple:
    """Gradients of a @ b for a of shape (n, k) and b of shape (k, m); Linear reuses it."""
    return g @ b.T, a.T @ g


def _relu_backward(g: np.ndarray, out: np.ndarray) -> tuple:
    return (g * (out > 0),)


def _exp_backward(g: np.ndarray, out: np.ndarray) -> tuple:
    return (g * out,)


def _log_backward(g: np.ndarray, a: np.ndarray) -> tuple:
    return (g / a,)


def _sum_backward(g: np.ndarray, shape: tuple, axis, keepdims: bool) -> tuple:
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
    return (np.broadcast_to(g, shape).copy(),)


def _reshape_backward(g: np.ndarray, original: tuple) -> tuple:
    return (g.reshape(original),)


def _log_softmax_backward(g: np.ndarray, out: np.ndarray, axis: int) -> tuple:
    return (g - np.exp(out) * np.sum(g, axis=axis, keepdims=True),)


# Bound once: relu is on the inference hot path (benchmarks/bench_forward.py).
_from_op = Tensor.from_op

# Zero as a 0-d array of each dtype met so far. np.maximum(a, 0) must first work out the type of
# the Python int (about 1 µs at small sizes, more than the maximum itself); a zero of a's own
# dtype skips that and keeps a's dtype (an int8 input stays int8). float32, the framework's own
# dtype, is found by identity: hashing a dtype to look it up costs about a tenth of the ReLU.
_FLOAT32 = np.dtype(np.float32)
_FLOAT32_ZERO = np.zeros((), dtype=_FLOAT32)
_ZEROS: dict = {_FLOAT32: _FLOAT32_ZERO}


def relu(x) -> Tensor:
    """max(x, 0) elementwise; a module function so that the ReLU layer calls it with no extra hop."""
    if not isinstance(x, Tensor):
        x = Tensor(x)
    data = x.data
    dtype = data.dtype
    zero = _FLOAT32_ZERO if dtype is _FLOAT32 else _ZEROS.get(dtype)
    if zero is None:
        zero = _ZEROS[dtype] = np.zeros((), dtype=dtype)
    out = np.maximum(data, zero)
    return _from_op(out, (x,), _relu_backward, (out,))


def _lift(value, like: Tensor) -> Tensor:
    """Wrap an operand; Python numbers take the dtype of the tensor they meet."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, np.ndarray):
        return Tensor.from_op(value)
    dtype = like.data.dtype if like.data.dtype.kind == "f" else np.float32
    return Tensor.from_op(np.asarray(value, dtype=dtype))


def _broadcasting(op, a: np.ndarray, b: np.ndarray, name: str) -> np.ndarray:
    """Apply a binary numpy op; a shape mismatch names both shapes."""
    try:
        return op(a, b)
    except ValueError:
        raise ValueError(f"{name}: shapes {a.shape} and {b.shape} cannot be broadcast together") from None


def _unbroadcast(grad: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Sum a gradient back down to the shape of an input that numpy broadcast."""
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


def _topological_order(root: Tensor) -> list:
    """Nodes reachable from `root`, each after all of its parents (iterative: deep graphs are fine)."""
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for parent in node._parents:
            if id(parent) not in seen:
                stack.append((parent, False))
    return order
