"""walk / find_layers / map_layers / Module: models of any shape, no `.layers` assumption."""

import numpy as np
import pytest

from tinytorch.core.activations import ReLU
from tinytorch.core.layers import Linear, Sequential
from tinytorch.core.module import Module, find_layers, map_layers, walk
from tinytorch.core.tensor import Tensor


class TwoLayer:
    """A plain object model, not a Module subclass, holding layers as attributes."""

    def __init__(self):
        self.fc1 = Linear(4, 3, seed=0)
        self.relu = ReLU()
        self.fc2 = Linear(3, 2, seed=1)

    def forward(self, x):
        return self.fc2(self.relu(self.fc1(x)))

    def parameters(self):
        return self.fc1.parameters() + self.fc2.parameters()


class Slotted(Module):
    __slots__ = ("blocks", "head")

    def __init__(self):
        self.blocks = (Linear(4, 4, seed=2), {"inner": Linear(4, 4, seed=3)})
        self.head = [Linear(4, 2, seed=4)]

    def forward(self, x):
        return self.head[0](self.blocks[1]["inner"](self.blocks[0](x)))


def test_find_layers_in_attribute_order():
    model = TwoLayer()
    assert find_layers(model, Linear) == [model.fc1, model.fc2]
    slotted = Slotted()
    assert find_layers(slotted, Linear) == [slotted.blocks[0], slotted.blocks[1]["inner"], slotted.head[0]]


def test_walk_visits_each_object_once_and_never_enters_tensors():
    layer = Linear(2, 2)
    layer.weight.grad = np.ones((2, 2))
    shared = [layer, layer, (layer,)]
    visited = list(walk(shared))
    assert sum(v is layer for v in visited) == 1
    assert not any(v is layer.weight.grad for v in visited)


def test_map_layers_replaces_everywhere_and_leaves_original_untouched():
    model = Slotted()
    before = [p.data.copy() for p in model.parameters()]
    new = map_layers(model, Linear, lambda layer: Linear.from_weights(layer.weight.data * 0, layer.bias.data))
    assert all(np.all(p.data == 0) for p in find_layers(new, Linear)[0].parameters()[:1])
    assert len(find_layers(new, Linear)) == 3 and isinstance(new.blocks, tuple)
    for p, b in zip(model.parameters(), before, strict=False):
        np.testing.assert_array_equal(p.data, b)
    assert not any(a is b for a, b in zip(find_layers(new, Linear), find_layers(model, Linear), strict=False))


@pytest.mark.parametrize("bad", [42, "model", [Linear(2, 2)], None])
def test_map_layers_rejects_non_models(bad):
    with pytest.raises(ValueError, match="expected a model"):
        map_layers(bad, Linear, lambda layer: layer)


def test_map_layers_needs_a_layer():
    with pytest.raises(ValueError, match="Linear"):
        map_layers(Sequential(ReLU()), Linear, lambda layer: layer)


def test_module_parameters_found_by_walking():
    model = Slotted()
    params = model.parameters()
    assert len(params) == 6 and all(isinstance(p, Tensor) for p in params)
    assert params[0] is model.blocks[0].weight
    seq = Sequential(Linear(3, 3), ReLU(), Linear(3, 1))
    assert [p.shape for p in seq.parameters()] == [(3, 3), (3,), (3, 1), (1,)]
    for p in seq.parameters():
        p.grad = np.ones(p.shape)
    seq.zero_grad()
    assert all(p.grad is None for p in seq.parameters())
