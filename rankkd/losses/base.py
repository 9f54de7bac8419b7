"""Shared interface of the ranking / distillation losses: score tensors in, scalar out."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn


class RankingLoss(nn.Module):
    """Base class of all rankkd losses.

    Every loss is called as ``loss(scores, targets=None, mask=None)`` and returns a scalar tensor:

    - ``scores``: float tensor ``[B, N]``, the student's logits for ``B`` queries x ``N`` candidates.
    - ``targets``: tensor ``[B, N]`` of teacher relevance, *higher = more relevant* (teacher scores,
      labels, or teacher ranks transformed so that rank 1 gets the largest value). ``NaN`` entries are
      treated as masked, so ragged teacher lists can be padded with ``NaN``.
    - ``mask``: bool tensor ``[B, N]``, ``True`` = valid candidate. Padded positions never influence the
      value or the gradient, whatever their score or target (even ``NaN``).

    Subclasses implement :meth:`compute_loss`, which receives validated inputs: ``scores`` in float32 or
    float64 with padded entries zeroed, ``targets`` in the same dtype with padded entries zeroed (or
    ``None``), and a full bool ``mask``. Rows without any valid candidate are excluded from every
    reduction; a batch with nothing to learn from returns a zero that is still attached to the graph.
    """

    #: BibTeX of the paper(s) that introduced the loss; shown on model cards.
    citation: str = ""
    #: Whether :meth:`forward` refuses ``targets=None``.
    requires_targets: bool = True

    def forward(self, scores: Tensor, targets: Tensor | None = None, mask: Tensor | None = None) -> Tensor:
        """Validate the inputs and return the scalar loss (see the class docstring for the shapes)."""
        scores, targets, mask = self.validate_inputs(scores, targets, mask)
        return self.compute_loss(scores, targets, mask)

    def compute_loss(self, scores: Tensor, targets: Tensor | None, mask: Tensor) -> Tensor:
        """Loss on validated inputs; implemented by every concrete loss."""
        raise NotImplementedError(f"{type(self).__name__} must implement compute_loss")

    def get_config_dict(self) -> dict[str, Any]:
        """Hyper-parameters of the loss (for model cards and training logs)."""
        return {}

    def extra_repr(self) -> str:
        return ", ".join(f"{key}={value!r}" for key, value in self.get_config_dict().items())

    def validate_inputs(
        self, scores: Tensor, targets: Tensor | None, mask: Tensor | None
    ) -> tuple[Tensor, Tensor | None, Tensor]:
        """Check shapes/dtypes, fold NaN targets into the mask and neutralise padded entries."""
        name = type(self).__name__
        if not isinstance(scores, Tensor):
            raise TypeError(f"{name}: scores must be a torch.Tensor; received {type(scores).__name__}")
        if scores.ndim != 2:
            raise ValueError(
                f"{name}: scores must be a 2-D tensor [batch, candidates]; received shape {tuple(scores.shape)}"
            )
        if not scores.is_floating_point():
            raise ValueError(f"{name}: scores must be a floating-point tensor; received dtype {scores.dtype}")
        # Half-precision logits (bf16 training) lose too much precision in exp/log/pairwise sums.
        if scores.dtype not in (torch.float32, torch.float64):
            scores = scores.float()
        expected = tuple(scores.shape)

        if mask is None:
            mask = torch.ones(expected, dtype=torch.bool, device=scores.device)
        else:
            if not isinstance(mask, Tensor) or mask.dtype != torch.bool:
                received = mask.dtype if isinstance(mask, Tensor) else type(mask).__name__
                raise ValueError(f"{name}: mask must be a bool tensor (True = valid); received {received}")
            if tuple(mask.shape) != expected:
                raise ValueError(
                    f"{name}: mask must have the same shape as scores; "
                    f"expected {expected}, received {tuple(mask.shape)}"
                )
            mask = mask.to(scores.device)

        if targets is None:
            if self.requires_targets:
                raise ValueError(f"{name} needs targets (teacher relevance) of shape {expected}; received None")
        else:
            if not isinstance(targets, Tensor):
                raise TypeError(f"{name}: targets must be a torch.Tensor; received {type(targets).__name__}")
            if tuple(targets.shape) != expected:
                raise ValueError(
                    f"{name}: targets must have the same shape as scores; "
                    f"expected {expected}, received {tuple(targets.shape)}"
                )
            targets = targets.to(device=scores.device, dtype=scores.dtype)
            mask = mask & ~torch.isnan(targets)
            if torch.isinf(targets[mask]).any():
                raise ValueError(f"{name}: targets contain +/-inf at valid positions; use NaN or mask to pad")
            targets = targets.masked_fill(~mask, 0.0)

        # Padded scores may be garbage (NaN from an unfilled buffer); zero them so no NaN enters any
        # intermediate (NaN * 0 is still NaN). masked_fill also gives them an exact zero gradient.
        scores = scores.masked_fill(~mask, 0.0)
        return scores, targets, mask


def zero_loss(scores: Tensor) -> Tensor:
    """A scalar 0 that stays in the autograd graph, so ``loss.backward()`` works on empty batches."""
    return scores.reshape(-1)[:0].sum()


def masked_log_softmax(logits: Tensor, mask: Tensor) -> Tensor:
    """``log_softmax`` over the valid entries of each row; padded entries get ``-inf``.

    Rows without valid entries are computed over all entries instead of yielding ``NaN`` (``-inf -
    logsumexp(-inf)``), because a NaN would poison the backward pass even if the row is later ignored.
    """
    row_has_valid = mask.any(dim=-1, keepdim=True)
    effective = mask | ~row_has_valid
    return torch.log_softmax(logits.masked_fill(~effective, float("-inf")), dim=-1)


def row_mean(per_row: Tensor, mask: Tensor) -> Tensor:
    """Mean of per-query values over the queries that have at least one valid candidate."""
    valid_rows = mask.any(dim=-1)
    if not valid_rows.any():
        return zero_loss(per_row)
    return per_row[valid_rows].mean()


def entry_mean(per_entry: Tensor, mask: Tensor) -> Tensor:
    """Mean of ``[B, N]`` values over the valid entries (padding excluded from numerator and count)."""
    if not mask.any():
        return zero_loss(per_entry)
    return per_entry[mask].mean()
