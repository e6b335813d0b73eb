"""Tensor: dtype rules, autograd of every op against finite differences, no_grad, errors."""

import numpy as np
import pytest

from tinytorch.core.tensor import Tensor, no_grad

from gradcheck import numeric_grad


def check_grads(fn, *shapes, seed=0, positive=False):
    """Compare autograd gradients of sum(fn(*tensors) * weights) with finite differences."""
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) for s in shapes]
    if positive:
        arrays = [np.abs(a) + 0.5 for a in arrays]
    tensors = [Tensor(a, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    weights = rng.standard_normal(out.shape)  # a random projection catches transposed gradients
    (out * Tensor(weights)).sum().backward()
    for a, t in zip(arrays, tensors, strict=False):
        expected = numeric_grad(lambda: float(np.sum(fn(*[Tensor(b) for b in arrays]).data * weights)), a)
        assert t.grad.shape == a.shape
        np.testing.assert_allclose(t.grad, expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(
    "fn, shapes",
    [
        (lambda a, b: a + b, [(3, 4), (3, 4)]),
        (lambda a, b: a + b, [(3, 4), (4,)]),  # broadcast over rows
        (lambda a, b: a - b, [(3, 1), (1, 4)]),  # both sides broadcast
        (lambda a, b: a * b, [(3, 4), (3, 4)]),
        (lambda a, b: a * b, [(2, 3, 4), (3, 1)]),
        (lambda a, b: a @ b, [(3, 5), (5, 2)]),
        (lambda a: -a, [(3, 4)]),
        (lambda a: a.relu(), [(4, 5)]),
        (lambda a: a.exp(), [(3, 4)]),
        (lambda a: a.sum(), [(3, 4)]),
        (lambda a: a.sum(axis=0), [(3, 4)]),
        (lambda a: a.sum(axis=1, keepdims=True), [(3, 4)]),
        (lambda a: a.mean(), [(3, 4)]),
        (lambda a: a.mean(axis=-1), [(3, 4)]),
        (lambda a: a.reshape(4, 3), [(3, 4)]),
        (lambda a: a.log_softmax(axis=-1), [(3, 5)]),
        (lambda a: a.log_softmax(axis=0), [(3, 5)]),
        (lambda a, b: (a @ b).relu().sum(axis=1) * 2.0 - 1.0, [(4, 3), (3, 2)]),  # a chain, scalars
        (lambda a: a * a + a, [(3, 3)]),  # one tensor used twice
    ],
)
def test_gradients_match_finite_differences(fn, shapes):
    check_grads(fn, *shapes)


def test_division_and_log_gradients():
    check_grads(lambda a, b: a / b, (3, 4), (4,), positive=True)
    check_grads(lambda a: a.log(), (3, 4), positive=True)


def test_numpy_arrays_keep_dtype_and_are_not_copied():
    for dtype in (np.int8, np.float64, np.float32):
        a = np.ones((2, 3), dtype=dtype)
        t = Tensor(a)
        assert t.dtype == dtype and t.data is a


def test_python_values_become_float32_unless_told():
    assert Tensor([1, 2, 3]).dtype == np.float32
    assert Tensor(2.5).dtype == np.float32
    assert Tensor([1, 2], dtype=np.int64).dtype == np.int64


def test_properties():
    t = Tensor(np.arange(6.0).reshape(2, 3))
    assert (t.shape, t.size, t.ndim) == ((2, 3), 6, 2)
    assert t.numpy() is t.data
    assert Tensor([[4.0]]).item() == 4.0


def test_scalar_keeps_tensor_dtype():
    assert (Tensor(np.ones(3)) * 2).dtype == np.float64
    assert (Tensor([1.0, 2.0]) + 1).dtype == np.float32


def test_graph_only_when_something_requires_grad():
    a, b = Tensor(np.ones((2, 2))), Tensor(np.ones((2, 2)), requires_grad=True)
    assert (a + a)._backward is None and not (a + a).requires_grad
    assert (a + b).requires_grad and (a + b)._parents
    with no_grad():
        c = a @ b
    assert not c.requires_grad and c._backward is None and c._parents == ()


def test_gradients_accumulate_until_zero_grad():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * 3.0).sum().backward()
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad, [6.0, 6.0])
    x.zero_grad()
    assert x.grad is None


def test_backward_needs_gradient_for_non_scalar():
    x = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ValueError, match="one-element"):
        (x * 2.0).backward()


@pytest.mark.parametrize("op", [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a - b, lambda a, b: a @ b])
def test_shape_mismatch_names_both_shapes(op):
    a, b = Tensor(np.ones((2, 3))), Tensor(np.ones((4, 5)))
    with pytest.raises(ValueError) as info:
        op(a, b)
    assert "(2, 3)" in str(info.value) and "(4, 5)" in str(info.value)


def test_log_softmax_is_stable_for_huge_logits():
    out = Tensor(np.array([[1000.0, 0.0], [-1000.0, 1000.0]])).log_softmax()
    assert np.all(np.isfinite(out.data))
    np.testing.assert_allclose(np.exp(out.data).sum(axis=1), 1.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int8])
def test_relu_keeps_the_input_dtype_and_values(dtype):
    a = np.array([[-3, 0, 2], [5, -1, 7]], dtype=dtype)
    out = Tensor(a).relu()
    assert out.dtype == dtype and not out.requires_grad
    np.testing.assert_array_equal(out.data, [[0, 0, 2], [5, 0, 7]])
    np.testing.assert_array_equal(a, [[-3, 0, 2], [5, -1, 7]])  # the input is not modified


def test_from_op_records_a_node_only_when_a_parent_needs_a_gradient():
    data = np.arange(3, dtype=np.float32)
    leaf, const = Tensor(np.ones(3, dtype=np.float32), requires_grad=True), Tensor(np.ones(3, dtype=np.float32))
    node = Tensor.from_op(data, (const, leaf), lambda g: (g, 2 * g))
    assert node.data is data, "the result keeps the array it is given, uncopied"
    assert node.requires_grad and node._parents == (const, leaf)
    node.sum().backward()
    np.testing.assert_array_equal(leaf.grad, [2, 2, 2])
    assert const.grad is None, "no gradient for a parent that does not require one"
    plain = Tensor.from_op(data, (const,), lambda g: (g,))
    assert not plain.requires_grad and plain._parents == () and plain._backward is None
    with no_grad():
        inside = Tensor.from_op(data, (leaf,), lambda g: (g,))
    assert not inside.requires_grad and inside._parents == (), "no_grad() records nothing"
    constant = Tensor.from_op(data)
    assert not constant.requires_grad and constant.data is data


@pytest.mark.parametrize("position", [0, 1, 2, None])
def test_from_op_records_a_node_whichever_parent_requires_grad(position):
    # The first parent is asked alone before the others are looped over: a node is recorded,
    # with the same gradients, wherever the parent that requires grad stands, and not at all
    # when none does.
    parents = tuple(Tensor(np.full(2, i + 1, dtype=np.float32), requires_grad=i == position) for i in range(3))
    node = Tensor.from_op(np.zeros(2, dtype=np.float32), parents, lambda g: (g, 2 * g, 3 * g))
    if position is None:
        assert not node.requires_grad and node._parents == () and node._backward is None
        return
    assert node.requires_grad and node._parents == parents
    node.sum().backward()
    for i, p in enumerate(parents):
        if i == position:
            np.testing.assert_array_equal(p.grad, np.full(2, i + 1, dtype=np.float32))
        else:
            assert p.grad is None


# Every op, for the tests of what a recorded node keeps: (name, function of two tensors a, b).
OPS = [
    ("add", lambda a, b: a + b),
    ("subtract", lambda a, b: a - b),
    ("multiply", lambda a, b: a * b),
    ("divide", lambda a, b: a / b),
    ("negate", lambda a, b: -a),
    ("matmul", lambda a, b: a @ b.reshape(4, 3)),
    ("relu", lambda a, b: a.relu()),
    ("exp", lambda a, b: a.exp()),
    ("log", lambda a, b: a.log()),
    ("sum", lambda a, b: a.sum(axis=0)),
    ("mean", lambda a, b: a.mean()),
    ("reshape", lambda a, b: a.reshape(4, 3)),
    ("log_softmax", lambda a, b: a.log_softmax(axis=0)),
]


def _operands(requires_grad: bool) -> tuple:
    rng = np.random.default_rng(3)
    a, b = (np.abs(rng.standard_normal((3, 4))).astype(np.float32) + 0.5 for _ in range(2))
    return Tensor(a, requires_grad=requires_grad), Tensor(b, requires_grad=requires_grad)


@pytest.mark.parametrize("name, op", OPS, ids=[name for name, _ in OPS])
def test_no_grad_records_no_backward_and_keeps_no_inputs(name, op):
    with no_grad():
        out = op(*_operands(requires_grad=True))
    assert not out.requires_grad
    assert out._backward is None and out._parents == () and out._saved == (), f"{name} recorded a node under no_grad"
    recorded = op(*_operands(requires_grad=True))
    assert recorded.requires_grad and recorded._backward is not None and recorded._parents


@pytest.mark.parametrize("name, op", OPS, ids=[name for name, _ in OPS])
def test_each_op_records_one_backward_function_not_a_closure_per_call(name, op):
    first, second = op(*_operands(requires_grad=True)), op(*_operands(requires_grad=True))
    assert first._backward is second._backward, f"{name} built a new backward function on each call"
    assert first._backward.__closure__ is None


def test_from_op_passes_what_the_op_saved_to_its_backward():
    leaf = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    node = Tensor.from_op(leaf.data * 3, (leaf,), lambda g, factor, shift: (g * factor + shift,), (3.0, 1.0))
    assert node._saved == (3.0, 1.0)
    node.sum().backward()
    np.testing.assert_array_equal(leaf.grad, [4.0, 4.0, 4.0])
    with no_grad():
        plain = Tensor.from_op(leaf.data * 3, (leaf,), lambda g, factor, shift: (g,), (3.0, 1.0))
    assert plain._saved == (), "nothing is kept for a backward that will never run"
