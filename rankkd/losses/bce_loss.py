"""Pointwise binary cross-entropy on relevance labels."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch.nn import functional as F

from rankkd.losses.base import RankingLoss, entry_mean


class BCELoss(RankingLoss):
    r"""Binary cross-entropy with logits between student scores and binary relevance labels.

    For every valid candidate :math:`i` with label :math:`y_i \in [0, 1]`:

    .. math::

        \ell_i = -\big[y_i \log \sigma(s_i) + (1 - y_i) \log(1 - \sigma(s_i))\big]

    averaged over all valid candidates of the batch (pointwise: queries with more candidates weigh more).
    Graded labels (e.g. TREC 0-3) are binarised with ``threshold``: :math:`y_i = [\text{label}_i \ge
    \text{threshold}]`. Soft labels in ``[0, 1]`` (e.g. teacher probabilities) are used as they are.

    This is the monoBERT fine-tuning objective (Nogueira & Cho, 2019), used in rankkd as the label-based
    baseline and to pre-fine-tune students before distillation.

    Args:
        threshold: if given, targets are binarised as ``targets >= threshold``; if ``None`` targets must
            already lie in ``[0, 1]`` (otherwise a ``ValueError`` is raised).
        pos_weight: weight of the positive term (``> 1`` counters few positives per group).

    References:
        - Nogueira & Cho, "Passage Re-ranking with BERT", arXiv:1901.04085, 2019.

    Inputs:
        +--------------------------+-----------------------------------------------+-------------------+
        | scores                   | targets                                       | mask              |
        +==========================+===============================================+===================+
        | ``[B, N]`` student logits| ``[B, N]`` labels in [0, 1] (or graded +      | ``[B, N]`` bool,  |
        |                          | ``threshold``); ``NaN`` = padding             | optional          |
        +--------------------------+-----------------------------------------------+-------------------+

    Example:
        >>> import torch
        >>> from rankkd.losses import BCELoss
        >>> loss = BCELoss(threshold=2)
        >>> scores = torch.tensor([[2.0, 0.0, -1.0]])
        >>> labels = torch.tensor([[3, 1, 0]])  # graded TREC labels -> [1, 0, 0]
        >>> round(loss(scores, labels).item(), 4)
        0.3778
    """

    citation = """
@article{nogueira2019passage,
  title={Passage Re-ranking with {BERT}},
  author={Nogueira, Rodrigo and Cho, Kyunghyun},
  journal={arXiv preprint arXiv:1901.04085},
  year={2019}
}
"""

    def __init__(self, threshold: float | None = None, pos_weight: float = 1.0) -> None:
        super().__init__()
        if pos_weight <= 0:
            raise ValueError(f"BCELoss: pos_weight must be > 0; received {pos_weight}")
        self.threshold = threshold
        self.pos_weight = pos_weight

    def compute_loss(self, scores: Tensor, targets: Tensor | None, mask: Tensor) -> Tensor:
        assert targets is not None  # guaranteed by requires_targets
        if self.threshold is not None:
            labels = (targets >= self.threshold).to(scores.dtype)
        else:
            valid = targets[mask]
            if ((valid < 0) | (valid > 1)).any():
                raise ValueError(
                    f"BCELoss: targets must lie in [0, 1]; received values in "
                    f"[{valid.min().item():g}, {valid.max().item():g}] (pass threshold= to binarise graded labels)"
                )
            labels = targets
        pos_weight = torch.tensor(self.pos_weight, dtype=scores.dtype, device=scores.device)
        per_entry = F.binary_cross_entropy_with_logits(scores, labels, reduction="none", pos_weight=pos_weight)
        return entry_mean(per_entry, mask)

    def get_config_dict(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "pos_weight": self.pos_weight}
