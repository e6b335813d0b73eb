"""Parameter counts, stored bytes (every distinct array once, never a gradient), FLOPs, profiles."""

import numpy as np
import pytest

from tinytorch.core.activations import ReLU
from tinytorch.core.layers import Linear, Sequential
from tinytorch.core.tensor import Tensor
from tinytorch.perf.profiling import Profiler, count_flops, count_parameters, model_size_bytes, quick_profile


def mlp():
    return Sequential(Linear(64, 32, seed=0), ReLU(), Linear(32, 10, seed=1))


def test_counts_of_the_digits_mlp():
    model = mlp()
    assert count_parameters(model) == 64 * 32 + 32 + 32 * 10 + 10
    assert model_size_bytes(model) == 4 * count_parameters(model)
    assert count_flops(model, batch_size=1) == (2 * 64 * 32 + 32) + (2 * 32 * 10 + 10)
    assert count_flops(model, batch_size=8) == 8 * count_flops(model)


def test_size_counts_extra_arrays_once_and_ignores_gradients():
    model = mlp()
    base = model_size_bytes(model)
    for p in model.parameters():
        p.grad = np.ones_like(p.data)
    model.aliases = [model.layers[0].weight, {"again": model.layers[0].weight.data}]
    model.scale = np.zeros(5, dtype=np.float32)
    assert model_size_bytes(model) == base + 20


def test_size_falls_back_to_parameters_when_no_array_is_reachable():
    class Opaque:
        def forward(self, x):
            return x

        def parameters(self):
            return [Tensor(np.zeros(7, dtype=np.float64))]

    assert model_size_bytes(Opaque()) == 56


def test_profile_reports_every_number():
    model = mlp()
    x = np.random.default_rng(0).random((16, 64), dtype=np.float32)
    result = Profiler(model, num_runs=5, warmup_runs=1).profile(x)
    assert result["parameters"] == count_parameters(model) and result["flops"] == count_flops(model, 16)
    assert result["latency_ms"] > 0 and result["peak_memory_bytes"] > 0 and result["batch_size"] == 16


def test_quick_profile_prints_a_table(capsys):
    result = quick_profile(mlp(), np.zeros((4, 64), dtype=np.float32))
    out = capsys.readouterr().out
    assert "parameters" in out and f"{result['size_bytes']:,}" in out


@pytest.mark.parametrize("fn", [count_parameters, model_size_bytes, count_flops])
def test_non_models_are_rejected(fn):
    with pytest.raises(ValueError, match="expected a model"):
        fn([1, 2, 3])
