"""Modules, and the one place that knows how to find layers inside any model object.

A model is any object with `.forward(x)` and `.parameters()`. It may hold its layers as
attributes (`self.fc1`), in lists, tuples or dicts, or in `__slots__`; nothing here assumes a
`.layers` attribute. `walk` visits all of that; `find_layers` and `map_layers` build on it, and
so do the profiler, quantization and compression.
"""

from __future__ import annotations

import copy
import types as _types
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from tinytorch.core.tensor import Tensor

# Values that hold no layers and no arrays worth visiting.
_ATOMS = (
    str,
    bytes,
    int,
    float,
    complex,
    bool,
    type(None),
    np.generic,
    np.dtype,
    type,
    _types.ModuleType,
    _types.FunctionType,
    _types.BuiltinFunctionType,
    _types.MethodType,
    range,
    slice,
)


def walk(obj: Any, leaf: Callable[[Any], bool] | None = None) -> Iterator[Any]:
    """Every object reachable from `obj`, depth-first in attribute order, each once.

    Descends through instance attributes (`__dict__` then `__slots__`), lists, tuples and dict
    values. Tensors and numpy arrays are yielded but never entered (so a gradient or a graph is
    never reached); so is any object for which `leaf(obj)` is true (other than `obj` itself).
    """
    seen: set = set()
    stack = [obj]
    while stack:
        node = stack.pop()
        if isinstance(node, _ATOMS) or id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        if isinstance(node, (Tensor, np.ndarray)) or (node is not obj and leaf is not None and leaf(node)):
            continue
        # Pushed in reverse so that the first attribute is visited first.
        stack.extend(reversed(_children(node)))


def _children(node: Any) -> list:
    """The values directly held by `node`."""
    if isinstance(node, (list, tuple, set, frozenset)):
        return list(node)
    if isinstance(node, dict):
        return list(node.values())
    children = list(vars(node).values()) if hasattr(node, "__dict__") else []
    for cls in type(node).__mro__:
        for name in getattr(cls, "__slots__", ()):
            if name not in ("__dict__", "__weakref__") and hasattr(node, name):
                children.append(getattr(node, name))
    return children


def check_model(model: Any) -> None:
    """Raise ValueError unless `model` has callable `.forward` and `.parameters`."""
    if not (callable(getattr(model, "forward", None)) and callable(getattr(model, "parameters", None))):
        raise ValueError(f"expected a model (an object with .forward(x) and .parameters()), got {type(model).__name__}")


def find_layers(model: Any, types) -> list:
    """Layers of the given type(s) inside `model`, in attribute order (`model` itself included)."""
    return [node for node in walk(model) if isinstance(node, types)]


def map_layers(model: Any, types, fn: Callable[[Any], Any]) -> Any:
    """A deep copy of `model` in which every layer of `types` is replaced by `fn(layer)`.

    `fn` receives the original layer and must return a new object (it is placed in the copy
    as is). The original model is left untouched.

    Raises:
        ValueError: `model` is not a model, or holds no layer of `types`.
    """
    check_model(model)
    layers = find_layers(model, types)
    if not layers:
        names = types.__name__ if isinstance(types, type) else "/".join(t.__name__ for t in types)
        raise ValueError(f"expected a model containing {names} layers, found none in {type(model).__name__}")
    # Pre-seeding deepcopy's memo swaps each layer wherever it is referenced, tuples included.
    memo = {id(layer): fn(layer) for layer in layers}
    return copy.deepcopy(model, memo)


class Module:
    """Base class for layers and models: `__call__` runs `forward`; parameters are found by walking."""

    def forward(self, x):
        raise NotImplementedError(f"{type(self).__name__} must define forward(x)")

    def __call__(self, x):
        return self.forward(x)

    def parameters(self) -> list:
        """Every parameter Tensor held by this module or its sub-layers, each once, in attribute order."""
        params, seen = [], set()
        for node in walk(self, leaf=_owns_parameters):
            if node is self:
                continue
            found = node.parameters() if _owns_parameters(node) else [node] if isinstance(node, Tensor) else []
            for p in found:
                if id(p) not in seen:
                    seen.add(id(p))
                    params.append(p)
        return params

    def zero_grad(self) -> None:
        """Forget the gradients of every parameter."""
        for p in self.parameters():
            p.grad = None


def _owns_parameters(obj: Any) -> bool:
    return not isinstance(obj, Tensor) and callable(getattr(obj, "parameters", None))
