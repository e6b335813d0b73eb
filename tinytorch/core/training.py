"""A small training loop, and prediction / accuracy helpers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tinytorch.core.losses import CrossEntropyLoss
from tinytorch.core.optimizers import SGD, Adam
from tinytorch.core.tensor import Tensor, no_grad


def _array(values) -> np.ndarray:
    return values.data if isinstance(values, Tensor) else np.asarray(values)


def _check_masks(masks: Sequence, params: list) -> list:
    if len(masks) != len(params):
        raise ValueError(f"train: masks has {len(masks)} entries, expected one per parameter ({len(params)})")
    for i, (mask, p) in enumerate(zip(masks, params, strict=False)):
        if mask is not None and np.shape(mask) != p.shape:
            raise ValueError(f"train: masks[{i}] has shape {np.shape(mask)}, expected {p.shape}")
    return [None if m is None else np.asarray(m, dtype=p.dtype) for m, p in zip(masks, params, strict=False)]


def train(
    model: Any,
    X,
    y,
    *,
    epochs: int,
    batch_size: int = 32,
    lr: float,
    optimizer: str = "adam",
    seed: int = 0,
    masks: Sequence | None = None,
) -> list:
    """Minimise cross-entropy of `model` on (X, y) with minibatches; returns the mean loss of each epoch.

    Args:
        model: anything with `.forward(x)` and `.parameters()`.
        X, y: inputs (n, features) and integer labels (n,), as Tensors or numpy arrays.
        epochs, batch_size, lr: the usual; batches are reshuffled each epoch with `seed`.
        optimizer: "adam" or "sgd" (SGD with momentum 0.9).
        masks: one entry per `model.parameters()`, a 0/1 array or None. After every step the
            parameters are multiplied by their mask, so pruned weights stay exactly zero.
    """
    X, y = _array(X), _array(y).astype(np.int64)
    if len(X) != len(y):
        raise ValueError(f"train: X has {len(X)} samples but y has {len(y)}")
    if epochs < 0 or batch_size < 1:
        raise ValueError(f"train: expected epochs ≥ 0 and batch_size ≥ 1, got {epochs} and {batch_size}")
    params = model.parameters()
    for p in params:
        p.requires_grad = True
    masks = _check_masks(masks, params) if masks is not None else [None] * len(params)
    opt: Adam | SGD
    if optimizer == "adam":
        opt = Adam(params, lr=lr)
    elif optimizer == "sgd":
        opt = SGD(params, lr=lr, momentum=0.9)
    else:
        raise ValueError(f"train: optimizer must be 'adam' or 'sgd', got {optimizer!r}")
    loss_fn = CrossEntropyLoss()
    rng = np.random.default_rng(seed)
    history = []
    for _ in range(epochs):
        order = rng.permutation(len(X))
        total = 0.0
        for start in range(0, len(X), batch_size):
            idx = order[start : start + batch_size]
            opt.zero_grad()
            loss = loss_fn(model.forward(Tensor.from_op(X[idx])), y[idx])
            loss.backward()
            opt.step()
            for p, mask in zip(params, masks, strict=False):
                if mask is not None:
                    p.data *= mask
            total += loss.item() * len(idx)
        history.append(total / max(len(X), 1))
    return history


def predict(model: Any, X) -> np.ndarray:
    """Predicted class labels (argmax of the model's outputs), without recording a graph."""
    with no_grad():
        out = model.forward(Tensor.from_op(_array(X)))
    return np.argmax(_array(out), axis=-1)


def accuracy(model: Any, X, y) -> float:
    """Fraction of samples whose predicted label equals `y`, in [0, 1]."""
    y = _array(y)
    if len(y) == 0:
        raise ValueError("accuracy: y is empty")
    return float(np.mean(predict(model, X) == y))
