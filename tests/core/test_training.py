"""Optimizers and the training loop: the digits MLP must reach ≥ 95 % test accuracy."""

import numpy as np
import pytest

from tinytorch.core.activations import ReLU
from tinytorch.core.layers import Linear, Sequential
from tinytorch.core.optimizers import SGD, Adam
from tinytorch.core.tensor import Tensor
from tinytorch.core.training import accuracy, predict, train
from tinytorch.data import load_digits


def mlp(seed=0):
    return Sequential(Linear(64, 32, seed=seed), ReLU(), Linear(32, 10, seed=seed + 1))


def test_mlp_trains_on_digits_to_95_percent():
    X_train, y_train, X_test, y_test = load_digits()
    model = mlp()
    losses = train(model, X_train, y_train, epochs=20, lr=0.01, seed=0)
    assert len(losses) == 20 and losses[-1] < losses[0] / 5
    assert accuracy(model, X_test, y_test) >= 0.95


def test_training_is_repeatable_and_accepts_tensors():
    X_train, y_train, _, _ = load_digits()
    a, b = mlp(), mlp()
    la = train(a, X_train[:200], y_train[:200], epochs=2, lr=0.01, seed=3)
    lb = train(b, Tensor(X_train[:200]), Tensor(y_train[:200], dtype=np.int64), epochs=2, lr=0.01, seed=3)
    assert la == lb


@pytest.mark.parametrize("make", [lambda p: SGD(p, lr=0.1, momentum=0.9), lambda p: Adam(p, lr=0.1)])
def test_optimizers_minimise_a_quadratic(make):
    x = Tensor(np.array([3.0, -2.0]), requires_grad=True)
    opt = make([x])
    for _ in range(200):
        opt.zero_grad()
        (x * x).sum().backward()
        opt.step()
    assert np.all(np.abs(x.data) < 1e-2)


def test_masks_keep_weights_at_zero():
    X_train, y_train, _, _ = load_digits()
    model = mlp()
    params = model.parameters()
    masks = [
        (np.random.default_rng(i).random(p.shape) > 0.5).astype(np.float32) if p.ndim == 2 else None
        for i, p in enumerate(params)
    ]
    train(model, X_train[:256], y_train[:256], epochs=2, lr=0.01, masks=masks)
    for p, m in zip(params, masks, strict=False):
        if m is not None:
            assert np.all(p.data[m == 0] == 0) and np.count_nonzero(p.data) == np.count_nonzero(m)


def test_predict_and_bad_arguments():
    model = mlp()
    X = np.zeros((3, 64), dtype=np.float32)
    assert predict(model, X).shape == (3,)
    with pytest.raises(ValueError, match="masks"):
        train(model, X, np.zeros(3, int), epochs=1, lr=0.01, masks=[None])
    with pytest.raises(ValueError, match="optimizer"):
        train(model, X, np.zeros(3, int), epochs=1, lr=0.01, optimizer="rmsprop")
    with pytest.raises(ValueError, match="samples"):
        train(model, X, np.zeros(2, int), epochs=1, lr=0.01)
