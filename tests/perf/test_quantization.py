"""INT8 quantization: bounded round-trip error, real int8 storage, size and accuracy targets."""

import copy

import numpy as np
import pytest

from tinytorch.core.layers import Linear
from tinytorch.core.training import accuracy
from tinytorch.perf.profiling import count_parameters, model_size_bytes
from tinytorch.perf.quantization import QuantizedLinear, dequantize, quantize_model, quantize_tensor

from trained_mlp import digits, trained_mlp


@pytest.mark.parametrize("per_channel", [True, False])
def test_round_trip_error_is_at_most_half_a_step(per_channel):
    w = np.random.default_rng(0).standard_normal((64, 32)).astype(np.float32) * np.linspace(0.01, 3, 32)
    q, scale = quantize_tensor(w, per_channel=per_channel)
    assert q.dtype == np.int8 and scale.dtype == np.float32
    assert scale.shape == ((32,) if per_channel else ())
    error = np.abs(dequantize(q, scale) - w)
    assert np.all(error <= np.broadcast_to(scale, w.shape) / 2 * (1 + 1e-5))
    assert np.abs(q).max() == 127


def test_all_zero_tensor_does_not_divide_by_zero():
    with np.errstate(all="raise"):
        q, scale = quantize_tensor(np.zeros((4, 3), dtype=np.float32))
        q1, scale1 = quantize_tensor(np.zeros(5), per_channel=False)
    assert np.all(q == 0) and np.all(np.isfinite(scale)) and np.all(dequantize(q, scale) == 0)
    assert np.all(q1 == 0) and np.isfinite(scale1)


def test_quantized_linear_matches_dequantized_math():
    layer = Linear(6, 4, seed=0)
    layer.bias.data[:] = [0.5, -1, 2, 0]
    ql = QuantizedLinear.from_linear(layer)
    x = np.random.default_rng(1).standard_normal((3, 6)).astype(np.float32)
    expected = x @ dequantize(ql.weight_q, ql.scale) + layer.bias.data
    np.testing.assert_allclose(ql(x).data, expected, rtol=1e-5, atol=1e-6)
    weight, bias = ql.parameters()
    assert weight.dtype == np.int8 and weight.data is ql.weight_q and bias.dtype == np.float32
    assert ql.flops(2) == 2 * (2 * 6 * 4 + 2 * 4)
    with pytest.raises(ValueError, match=r"\(3, 5\)"):
        ql(np.ones((3, 5), dtype=np.float32))


def test_quantized_model_size_accuracy_and_original_untouched():
    model, base = trained_mlp()
    before = copy.deepcopy([p.data for p in model.parameters()])
    quantized = quantize_model(model)
    _, _, X_test, y_test = digits()
    assert isinstance(quantized.fc1, QuantizedLinear) and isinstance(quantized.fc2, QuantizedLinear)
    assert quantized.fc1.weight_q.dtype == np.int8
    assert count_parameters(quantized) == count_parameters(model)
    ratio = model_size_bytes(quantized) / model_size_bytes(model)
    drop = base - accuracy(quantized, X_test, y_test)
    print(f"INT8: {ratio:.3f}x the FP32 bytes, accuracy {base:.4f} -> drop {drop * 100:.2f} points")
    assert ratio <= 0.3
    assert drop <= 0.01
    assert isinstance(model.fc1, Linear)
    for p, b in zip(model.parameters(), before, strict=False):
        np.testing.assert_array_equal(p.data, b)


def test_quantize_model_rejects_non_models():
    with pytest.raises(ValueError, match="expected a model"):
        quantize_model({"fc1": Linear(2, 2)})
