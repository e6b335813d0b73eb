"""Pruning hits its sparsity exactly; sparse storage shrinks; fine-tuning with masks recovers accuracy."""

import numpy as np
import pytest

from tinytorch.core.activations import ReLU
from tinytorch.core.layers import Linear, Sequential
from tinytorch.core.training import accuracy, train
from tinytorch.perf.compression import (
    SparseLinear,
    magnitude_prune,
    measure_sparsity,
    pruning_masks,
    structured_prune,
    to_sparse,
)
from tinytorch.perf.profiling import count_flops, count_parameters, model_size_bytes

from trained_mlp import MLP, digits, trained_mlp


@pytest.mark.parametrize("sparsity", [0.0, 0.1, 0.5, 0.8, 0.95])
def test_magnitude_prune_zeroes_exactly_the_smallest(sparsity):
    model = MLP(seed=3)
    pruned = magnitude_prune(model, sparsity)
    for old, new in ((model.fc1, pruned.fc1), (model.fc2, pruned.fc2)):
        w, p = old.weight.data, new.weight.data
        k = round(sparsity * w.size)
        assert np.count_nonzero(p == 0) == k
        if 0 < k < w.size:  # every zeroed entry is no larger than every kept one
            assert np.abs(w[p == 0]).max() <= np.abs(w[p != 0]).min()
        np.testing.assert_array_equal(p[p != 0], w[p != 0])
        np.testing.assert_array_equal(new.bias.data, old.bias.data)
    assert np.count_nonzero(model.fc1.weight.data) == model.fc1.weight.size  # original untouched


@pytest.mark.parametrize("bad", [-0.1, 1.0, 1.5, "0.5", True, None])
def test_sparsity_outside_unit_interval_is_rejected(bad):
    with pytest.raises(ValueError, match=r"in \[0, 1\)"):
        magnitude_prune(MLP(), bad)
    with pytest.raises(ValueError, match=r"in \[0, 1\)"):
        structured_prune(MLP(), bad)


@pytest.mark.parametrize(
    "fn",
    [lambda m: magnitude_prune(m, 0.5), to_sparse, lambda m: structured_prune(m, 0.5), measure_sparsity, pruning_masks],
)
def test_non_models_are_rejected(fn):
    with pytest.raises(ValueError, match="expected a model"):
        fn(np.zeros((3, 3)))


def test_sparsity_and_masks_follow_parameters():
    pruned = magnitude_prune(MLP(), 0.8)
    weights = 64 * 32 + 32 * 10
    expected = (round(0.8 * 64 * 32) + round(0.8 * 32 * 10)) / weights
    assert measure_sparsity(pruned) == pytest.approx(expected)
    masks = pruning_masks(pruned)
    assert [m is None for m in masks] == [False, True, False, True]
    np.testing.assert_array_equal(masks[0], pruned.fc1.weight.data != 0)


def test_sparse_linear_matches_dense_including_empty_channels():
    rng = np.random.default_rng(0)
    layer = Linear(7, 5, seed=0)
    layer.weight.data[rng.random((7, 5)) < 0.6] = 0
    layer.weight.data[:, [0, 3]] = 0  # two output channels with no weights at all
    layer.bias.data[:] = rng.standard_normal(5)
    sparse = SparseLinear.from_linear(layer)
    assert sparse.values.dtype == np.float32 and sparse.indices.dtype == np.int16 and sparse.indptr.dtype == np.int32
    x = rng.standard_normal((4, 7)).astype(np.float32)
    np.testing.assert_allclose(sparse(x).data, layer(x).data, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(sparse.parameters()[0].data, layer.weight.data)
    assert sparse.flops(1) == 2 * np.count_nonzero(layer.weight.data) + 5
    empty = SparseLinear.from_linear(Linear.from_weights(np.zeros((3, 2)), np.ones(2)))
    np.testing.assert_array_equal(empty(np.ones((2, 3))).data, np.ones((2, 2)))


def test_wide_layers_use_int32_indices():
    wide = Linear.from_weights(np.eye(40000, 1, k=-39999), None)
    assert SparseLinear.from_linear(wide).indices.dtype == np.int32


def test_pruned_sparse_model_stores_at_most_half_and_keeps_logical_counts():
    model, _ = trained_mlp()
    sparse = to_sparse(magnitude_prune(model, 0.8))
    ratio = model_size_bytes(sparse) / model_size_bytes(model)
    print(f"80% pruned, CSR: {ratio:.3f}x the FP32 bytes")
    assert ratio <= 0.5
    assert count_parameters(sparse) == count_parameters(model)
    assert measure_sparsity(sparse) == pytest.approx(0.8, abs=1e-3)
    assert count_flops(sparse) < count_flops(model) / 4


def test_one_shot_80_percent_then_masked_fine_tune():
    model, base = trained_mlp()
    X_train, y_train, X_test, y_test = digits()
    pruned = magnitude_prune(model, 0.8)
    one_shot = accuracy(pruned, X_test, y_test)
    masks = pruning_masks(pruned)
    train(pruned, X_train, y_train, epochs=20, lr=0.003, seed=0, masks=masks)
    tuned = accuracy(pruned, X_test, y_test)
    sparse = to_sparse(pruned)
    print(f"80% pruning: baseline {base:.4f}, one-shot {one_shot:.4f}, fine-tuned {tuned:.4f}")
    assert base - tuned <= 0.03
    assert tuned > one_shot
    for p, m in zip(pruned.parameters(), masks, strict=False):
        if m is not None:
            assert np.all(p.data[m == 0] == 0)
    assert accuracy(sparse, X_test, y_test) == pytest.approx(tuned)


def test_structured_prune_shapes_and_equivalence():
    model = Sequential(Linear(8, 6, seed=0), ReLU(), Linear(6, 4, seed=1), ReLU(), Linear(4, 3, seed=2))
    norms = np.linalg.norm(model[0].weight.data, axis=0)
    smaller = structured_prune(model, 0.5)
    assert [layer.weight.shape for layer in smaller.layers[::2]] == [(8, 3), (3, 2), (2, 3)]
    assert [layer.bias.shape for layer in smaller.layers[::2]] == [(3,), (2,), (3,)]
    keep = np.sort(np.argsort(norms)[3:])
    np.testing.assert_array_equal(smaller[0].weight.data, model[0].weight.data[:, keep])
    assert model[0].weight.shape == (8, 6)  # original untouched


@pytest.mark.parametrize("ratio", [0.99, 0.999])
def test_structured_prune_keeps_at_least_one_neuron_per_layer(ratio):
    model = MLP(seed=0)  # hidden width 32: round(0.99 * 32) would be all 32 neurons
    smaller = structured_prune(model, ratio)
    strongest = int(np.argmax(np.linalg.norm(model.fc1.weight.data, axis=0)))
    assert smaller.fc1.weight.shape == (64, 1) and smaller.fc2.weight.shape == (1, 10)
    np.testing.assert_array_equal(smaller.fc1.weight.data[:, 0], model.fc1.weight.data[:, strongest])
    x = np.random.default_rng(0).standard_normal((2, 64)).astype(np.float32)
    assert smaller.forward(x).shape == (2, 10)


def test_structured_prune_removes_only_the_weakest_neurons():
    model = Sequential(Linear(8, 6, seed=0), ReLU(), Linear(6, 4, seed=1))
    # Neurons 0, 2, 5 get the smallest incoming norms and no outgoing weights: removing them
    # must leave the model's outputs unchanged.
    model[0].weight.data[:, [0, 2, 5]] *= 1e-3
    model[2].weight.data[[0, 2, 5], :] = 0
    smaller = structured_prune(model, 0.5)
    assert smaller[0].weight.shape == (8, 3) and smaller[2].weight.shape == (3, 4)
    x = np.random.default_rng(0).standard_normal((5, 8)).astype(np.float32)
    np.testing.assert_allclose(smaller(x).data, model(x).data, rtol=1e-5, atol=1e-6)


def test_structured_prune_digits_mlp():
    model, _ = trained_mlp()
    smaller = structured_prune(model, 0.5)
    assert smaller.fc1.weight.shape == (64, 16) and smaller.fc2.weight.shape == (16, 10)
    assert model.fc1.weight.shape == (64, 32)
    _, _, X_test, y_test = digits()
    assert accuracy(smaller, X_test, y_test) > 0.5
