"""The optimized variants of a trained model that the framework can make, each trained as needed."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinytorch.core.training import train

try:  # the optimizations are optional: without them the baseline workflow still runs
    from tinytorch.perf.compression import magnitude_prune, pruning_masks, structured_prune, to_sparse
    from tinytorch.perf.quantization import quantize_model

    OPTIMIZATIONS_AVAILABLE = True
except ImportError:  # pragma: no cover - exercised by a test that hides tinytorch.perf
    OPTIMIZATIONS_AVAILABLE = False


def prune_and_finetune(
    model: Any, X_train: np.ndarray, y_train: np.ndarray, *, sparsity: float = 0.8, epochs: int = 15, seed: int = 0
) -> Any:
    """Magnitude-prune `model`, fine-tune with the pruned weights held at zero, store sparse."""
    pruned = magnitude_prune(model, sparsity)
    train(pruned, X_train, y_train, epochs=epochs, batch_size=32, lr=0.003, seed=seed, masks=pruning_masks(pruned))
    return to_sparse(pruned)


def optimized_variants(model: Any, X_train: np.ndarray, y_train: np.ndarray, *, seed: int = 0) -> dict:
    """Name → (model, techniques) for every optimization the framework offers.

    Empty, with a message, when `tinytorch.perf`'s optimizations cannot be imported.
    """
    if not OPTIMIZATIONS_AVAILABLE:
        print("tinytorch.perf optimizations unavailable: skipping quantization and pruning")
        return {}
    structured = structured_prune(model, 0.5)
    train(structured, X_train, y_train, epochs=5, batch_size=32, lr=0.005, seed=seed)
    return {
        "int8": (quantize_model(model), ["int8_quantization"]),
        "pruned_80_sparse": (
            prune_and_finetune(model, X_train, y_train, seed=seed),
            ["magnitude_pruning", "fine_tuning", "sparse_storage"],
        ),
        "structured_50": (structured, ["structured_pruning", "fine_tuning"]),
    }
