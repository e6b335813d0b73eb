"""One trained digits MLP (64→32→10), shared by the optimization tests of this folder."""

import functools

from tinytorch.core.activations import ReLU
from tinytorch.core.layers import Linear
from tinytorch.core.training import accuracy, train
from tinytorch.data import load_digits


class MLP:
    """A plain model object (not a Sequential): layers are attributes, as in the capstone."""

    def __init__(self, seed: int = 0):
        self.fc1 = Linear(64, 32, seed=seed)
        self.relu = ReLU()
        self.fc2 = Linear(32, 10, seed=seed + 1)

    def forward(self, x):
        return self.fc2(self.relu(self.fc1(x)))

    def parameters(self):
        return self.fc1.parameters() + self.fc2.parameters()


@functools.lru_cache(maxsize=1)
def digits():
    return load_digits()


@functools.lru_cache(maxsize=1)
def trained_mlp():
    """(model, test accuracy); callers must not modify the model (every optimization copies it)."""
    X_train, y_train, X_test, y_test = digits()
    model = MLP()
    train(model, X_train, y_train, epochs=30, lr=0.005, seed=0)
    return model, accuracy(model, X_test, y_test)
