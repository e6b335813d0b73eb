"""Linear (one fused node), Sequential, activations and the loss."""

import numpy as np
import pytest

from tinytorch.core.activations import ReLU, Softmax
from tinytorch.core.layers import Linear, Sequential
from tinytorch.core.losses import CrossEntropyLoss
from tinytorch.core.tensor import Tensor

from gradcheck import numeric_grad


def test_linear_shapes_and_math():
    layer = Linear(5, 3, seed=0)
    assert layer.weight.shape == (5, 3) and layer.bias.shape == (3,)
    assert layer.weight.dtype == np.float32
    layer.bias.data[:] = [1, 2, 3]
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    np.testing.assert_allclose(layer(x).data, x @ layer.weight.data + layer.bias.data, rtol=1e-6)
    assert layer.flops(4) == 4 * (2 * 5 * 3 + 3)


def test_linear_is_one_graph_node_with_correct_gradients():
    layer = Linear(4, 3, seed=1)
    rng = np.random.default_rng(1)
    layer.weight.data = rng.standard_normal((4, 3))
    layer.bias.data = rng.standard_normal(3)
    x = Tensor(rng.standard_normal((5, 4)), requires_grad=True)
    out = layer(x)
    assert set(map(id, out._parents)) == {id(x), id(layer.weight), id(layer.bias)}
    weights = rng.standard_normal((5, 3))
    (out * Tensor(weights)).sum().backward()

    def f():
        return float(np.sum((x.data @ layer.weight.data + layer.bias.data) * weights))

    for t in (x, layer.weight, layer.bias):
        np.testing.assert_allclose(t.grad, numeric_grad(f, t.data), rtol=1e-5, atol=1e-7)


def test_linear_input_mismatch_names_both_shapes():
    with pytest.raises(ValueError) as info:
        Linear(4, 2)(np.ones((3, 5), dtype=np.float32))
    assert "(3, 5)" in str(info.value) and "(4, 2)" in str(info.value)


def test_linear_rejects_bad_sizes():
    with pytest.raises(ValueError, match="in_features"):
        Linear(0, 3)


def test_he_init_scale():
    w = Linear(400, 300, seed=0).weight.data
    assert w.std() == pytest.approx(np.sqrt(2 / 400), rel=0.05)


def test_sequential_and_activations():
    x = np.array([[-1.0, 2.0, 0.5]], dtype=np.float32)
    np.testing.assert_array_equal(ReLU()(x).data, [[0.0, 2.0, 0.5]])
    probs = Softmax()(Tensor(x)).data
    np.testing.assert_allclose(probs, np.exp(x) / np.exp(x).sum(), rtol=1e-6)
    seq = Sequential(Linear(3, 4, seed=0), ReLU(), Linear(4, 2, seed=1))
    manual = seq[2](seq[1](seq[0](x)))
    np.testing.assert_array_equal(seq(x).data, manual.data)


def test_cross_entropy_value_gradient_and_stability():
    logits = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]])
    labels = np.array([0, 2])
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    expected = -np.mean(np.log(p[[0, 1], labels]))
    t = Tensor(logits.copy(), requires_grad=True)
    loss = CrossEntropyLoss()(t, labels)
    assert loss.item() == pytest.approx(expected)
    loss.backward()
    onehot = np.eye(3)[labels]
    np.testing.assert_allclose(t.grad, (p - onehot) / 2, rtol=1e-6)
    huge = CrossEntropyLoss()(Tensor(np.array([[1e4, 0.0]])), np.array([1]))
    assert huge.item() == pytest.approx(1e4)


def test_cross_entropy_bad_labels():
    with pytest.raises(ValueError, match="labels"):
        CrossEntropyLoss()(Tensor(np.zeros((2, 3))), np.array([0, 3]))
    with pytest.raises(ValueError, match="shape"):
        CrossEntropyLoss()(Tensor(np.zeros((2, 3))), np.array([0]))
