"""Loss functions."""

from __future__ import annotations

import numpy as np

from tinytorch.core.module import Module
from tinytorch.core.tensor import Tensor


class CrossEntropyLoss(Module):
    """Mean negative log-likelihood of integer class labels under softmax(logits).

    Built on `Tensor.log_softmax`, which subtracts the row maximum first, so large logits
    neither overflow nor lose the gradient.
    """

    # A loss takes the labels as well as the model's output, unlike a layer's forward(x).
    def forward(self, logits: Tensor, labels) -> Tensor:  # type: ignore[override]
        """Scalar loss for logits (batch, classes) and labels (batch,) of ints in [0, classes)."""
        logits = logits if isinstance(logits, Tensor) else Tensor(logits)
        labels = np.asarray(labels.data if isinstance(labels, Tensor) else labels)
        if logits.ndim != 2:
            raise ValueError(f"CrossEntropyLoss: logits must be (batch, classes), got shape {logits.shape}")
        batch, classes = logits.shape
        if labels.shape != (batch,):
            raise ValueError(
                f"CrossEntropyLoss: labels must have shape ({batch},) to match logits "
                f"{logits.shape}, got {labels.shape}"
            )
        if labels.dtype.kind not in "iu" or (batch and (labels.min() < 0 or labels.max() >= classes)):
            raise ValueError(
                f"CrossEntropyLoss: labels must be integers in [0, {classes}), got {labels.dtype} "
                f"values {labels.min() if batch else ''}..{labels.max() if batch else ''}"
            )
        one_hot = np.zeros(logits.shape, dtype=logits.dtype)
        one_hot[np.arange(batch), labels] = 1.0
        return -(logits.log_softmax(axis=-1) * one_hot).sum() * (1.0 / batch)

    def __call__(self, logits: Tensor, labels) -> Tensor:  # type: ignore[override]
        return self.forward(logits, labels)
