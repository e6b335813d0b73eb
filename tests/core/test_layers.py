"""Linear (one fused node), Sequential, activations and the loss."""

import itertools

import numpy as np
import pytest

from tinytorch.core.activations import ReLU, Softmax
from tinytorch.core.layers import Linear, Sequential
from tinytorch.core.losses import CrossEntropyLoss
from tinytorch.core.tensor import Tensor, no_grad

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


def _mlp_gradients(x: np.ndarray, weights: list, upstream: np.ndarray) -> list:
    """Gradients of sum(mlp(x) * upstream) for x, w1, b1, w2, b2, written out in numpy in the
    order the framework computes them, for a relu(x @ w1 + b1) @ w2 + b2 network."""
    w1, b1, w2, b2 = weights
    hidden = np.maximum(x @ w1 + b1, 0)
    d_hidden = (upstream @ w2.T) * (hidden > 0)
    return [d_hidden @ w1.T, x.T @ d_hidden, d_hidden.sum(axis=0), hidden.T @ upstream, upstream.sum(axis=0)]


def test_mlp_gradients_are_bit_identical_to_the_numpy_formulas():
    # The fused Linear and relu save their arrays for one backward function each; the gradients
    # must be exactly those of the closed-form numpy expressions, not merely close to them.
    rng = np.random.default_rng(5)
    fc1, fc2, relu = Linear(6, 4, seed=0), Linear(4, 3, seed=1), ReLU()
    fc1.bias.data[:] = rng.standard_normal(4)
    fc2.bias.data[:] = rng.standard_normal(3)
    x = Tensor(rng.standard_normal((5, 6)).astype(np.float32), requires_grad=True)
    upstream = rng.standard_normal((5, 3)).astype(np.float32)
    (fc2(relu(fc1(x))) * Tensor(upstream)).sum().backward()
    params = [fc1.weight, fc1.bias, fc2.weight, fc2.bias]
    expected = _mlp_gradients(x.data, [p.data for p in params], upstream)
    for name, t, want in zip(["x", "w1", "b1", "w2", "b2"], [x, *params], expected, strict=True):
        assert t.grad.dtype == np.float32, name
        np.testing.assert_array_equal(t.grad, want, err_msg=name)


@pytest.mark.parametrize("bias", [True, False])
def test_fused_linear_gradients_equal_the_op_by_op_graph(bias):
    rng = np.random.default_rng(6)
    layer = Linear(4, 3, bias=bias, seed=2)
    x_data = rng.standard_normal((5, 4)).astype(np.float32)
    upstream = Tensor(rng.standard_normal((5, 3)).astype(np.float32))
    grads = []
    for fused in (True, False):
        x = Tensor(x_data, requires_grad=True)
        layer.zero_grad()
        out = layer(x) if fused else (x @ layer.weight + layer.bias if bias else x @ layer.weight)
        (out * upstream).sum().backward()
        grads.append([x.grad, *(p.grad for p in layer.parameters())])
    for fused_grad, op_grad in zip(*grads, strict=True):
        np.testing.assert_array_equal(fused_grad, op_grad)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize(
    "needs", list(itertools.product([False, True], repeat=3)), ids=lambda n: "x{:d}-w{:d}-b{:d}".format(*n)
)
def test_linear_records_its_node_and_exact_gradients_whichever_parent_requires_grad(needs, bias):
    # from_op asks the first parent (the weight) alone, then loops over all of them: a frozen
    # weight with an input or bias that requires grad must still record the node, with the
    # same gradients as when the weight is asked first; no parent requiring grad records none.
    x_needs, w_needs, b_needs = needs
    rng = np.random.default_rng(8)
    layer = Linear(4, 3, bias=bias, seed=3)
    if bias:
        layer.bias.data[:] = rng.standard_normal(3)
        layer.bias.requires_grad = b_needs
    layer.weight.requires_grad = w_needs
    x = Tensor(rng.standard_normal((5, 4)).astype(np.float32), requires_grad=x_needs)
    upstream = rng.standard_normal((5, 3)).astype(np.float32)
    out = layer(x)
    expected_node = x_needs or w_needs or (bias and b_needs)
    assert out.requires_grad == expected_node and (out._backward is not None) == expected_node
    if not expected_node:
        assert out._parents == () and out._saved == ()
        return
    (out * Tensor(upstream)).sum().backward()
    want = {"x": upstream @ layer.weight.data.T, "weight": x.data.T @ upstream, "bias": upstream.sum(axis=0)}
    for name, t, needed in (("x", x, x_needs), ("weight", layer.weight, w_needs), ("bias", layer.bias, b_needs)):
        if t is None:
            continue
        if needed:
            np.testing.assert_array_equal(t.grad, want[name], err_msg=name)
        else:
            assert t.grad is None, f"{name} does not require grad but got one"


def test_layers_record_nothing_under_no_grad():
    layer, relu, softmax = Linear(4, 3, seed=0), ReLU(), Softmax()
    x = np.ones((2, 4), dtype=np.float32)
    with no_grad():
        outputs = [layer(x), relu(layer(x)), softmax(layer(x))]
    for t in outputs:
        assert not t.requires_grad and t._backward is None and t._parents == () and t._saved == ()
    for t in (layer(x), relu(layer(x)), softmax(layer(x))):
        assert t._backward is not None, "outside no_grad each layer records its node"


@pytest.mark.parametrize("axis", [-1, 0])
def test_softmax_values_gradients_and_stability(axis):
    rng = np.random.default_rng(7)
    data = rng.standard_normal((3, 4))
    x = Tensor(data.copy(), requires_grad=True)
    out = Softmax(axis=axis)(x)
    expected = np.exp(data) / np.exp(data).sum(axis=axis, keepdims=True)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    weights = rng.standard_normal((3, 4))
    (out * Tensor(weights)).sum().backward()

    def f():
        e = np.exp(x.data)
        return float(np.sum(e / e.sum(axis=axis, keepdims=True) * weights))

    np.testing.assert_allclose(x.grad, numeric_grad(f, x.data), rtol=1e-5, atol=1e-8)
    huge = Softmax(axis=axis)(Tensor(np.array([[1000.0, 0.0], [-1000.0, 1000.0]], dtype=np.float32)))
    assert huge.dtype == np.float32 and np.all(np.isfinite(huge.data))
    np.testing.assert_allclose(huge.data.sum(axis=axis), 1.0, rtol=1e-6)
