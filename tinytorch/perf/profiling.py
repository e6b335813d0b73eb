"""What a model costs: parameters, bytes stored, FLOPs, latency and memory of a forward pass."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinytorch.core.module import check_model, walk
from tinytorch.core.tensor import Tensor
from tinytorch.perf.benchmarking import peak_memory_bytes, time_callable


def count_parameters(model: Any) -> int:
    """Number of scalar parameters in the logical (dense) view: the sizes of `model.parameters()`."""
    check_model(model)
    return int(sum(p.size for p in model.parameters()))


def model_size_bytes(model: Any) -> int:
    """Bytes the model actually stores: `nbytes` of every distinct numpy array among its attributes.

    Reaches `Tensor.data` and bare arrays (quantization scales, sparse indices) through objects,
    `__slots__`, lists, tuples and dicts; never a `.grad`, never the same array twice. Only when
    no array is reachable does it fall back to the arrays of `model.parameters()`.
    """
    check_model(model)
    arrays = [
        node.data if isinstance(node, Tensor) else node
        for node in walk(model)
        if isinstance(node, (Tensor, np.ndarray))
    ]
    if not arrays:
        arrays = [p.data for p in model.parameters()]
    unique = {id(a): a for a in arrays}
    return int(sum(a.nbytes for a in unique.values()))


def count_flops(model: Any, batch_size: int = 1) -> int:
    """Floating-point operations of one forward pass: the sum of `layer.flops(batch_size)`.

    A layer that reports its own FLOPs is not looked inside, so nothing is counted twice.
    Layers without `flops` (activations) count as zero.
    """
    check_model(model)
    has_flops = lambda obj: callable(getattr(obj, "flops", None))  # noqa: E731
    if has_flops(model):
        return int(model.flops(batch_size))
    return int(
        sum(node.flops(batch_size) for node in walk(model, leaf=has_flops) if node is not model and has_flops(node))
    )


class Profiler:
    """Profiles one model: static costs (parameters, bytes, FLOPs) and a timed forward pass."""

    def __init__(self, model: Any, *, num_runs: int = 100, warmup_runs: int = 10) -> None:
        check_model(model)
        self.model = model
        self.num_runs, self.warmup_runs = num_runs, warmup_runs

    def profile(self, x) -> dict:
        """Costs of `model.forward(x)`: parameters, size_bytes, flops, latency (median ms), peak memory."""
        x = x if isinstance(x, Tensor) else Tensor(x)
        forward = lambda: self.model.forward(x)  # noqa: E731
        timing = time_callable(forward, num_runs=self.num_runs, warmup_runs=self.warmup_runs, progress=False)
        batch = x.shape[0] if x.ndim > 1 else 1
        return {
            "parameters": count_parameters(self.model),
            "size_bytes": model_size_bytes(self.model),
            "flops": count_flops(self.model, batch),
            "batch_size": int(batch),
            "latency_ms": float(timing.median),
            "throughput_samples_per_sec": float(batch * 1000.0 / timing.median),
            "peak_memory_bytes": int(peak_memory_bytes(forward)),
        }


def quick_profile(model: Any, x) -> dict:
    """Profile `model` on input `x`, print a short table, and return the numbers."""
    result = Profiler(model).profile(x)
    print(f"Profile of {type(model).__name__}")
    for key, value in result.items():
        print(f"  {key:<28} {value:>14,.4f}" if isinstance(value, float) else f"  {key:<28} {value:>14,}")
    return result
