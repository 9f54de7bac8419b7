"""Margin-MSE (Hofstätter et al., 2020): match the teacher's positive-negative score margins."""

from __future__ import annotations

from typing import Any

from torch import Tensor

from rankkd.losses.base import RankingLoss, zero_loss


class MarginMSELoss(RankingLoss):
    r"""MSE between the student's and the teacher's score margins of the positive over each negative.

    With the positive at index :math:`p` (default 0) and every other valid candidate :math:`i` of the
    query as a negative:

    .. math::

        \mathcal{L} = \frac{1}{|P|} \sum_{(q, i) \in P}
            \big((s_{q,p} - s_{q,i}) - (t_{q,p} - t_{q,i})\big)^2

    averaged over all valid (query, negative) pairs :math:`P`. With one negative per query this is exactly
    the loss of Hofstätter et al. (2020); with several it is their multi-negative extension. Only
    differences of teacher scores matter, so teachers with an arbitrary offset per query are fine.

    Args:
        positive: index of the positive candidate in each group.

    Raises:
        ValueError: if the positive is masked for a query that has other valid candidates.

    References:
        - Hofstätter, Althammer, Schröder, Sertkan & Hanbury, "Improving Efficient Neural Ranking Models
          with Cross-Architecture Knowledge Distillation", arXiv:2010.02666, 2020.

    Inputs:
        +--------------------------+------------------------------------------+------------------------+
        | scores                   | targets                                  | mask                   |
        +==========================+==========================================+========================+
        | ``[B, N]`` student logits| ``[B, N]`` teacher scores, positive at   | ``[B, N]`` bool, opt.  |
        | (positive at ``p``)      | ``p``; ``NaN`` = pad                     |                        |
        +--------------------------+------------------------------------------+------------------------+

    Example:
        >>> import torch
        >>> from rankkd.losses import MarginMSELoss
        >>> scores = torch.tensor([[1.0, 0.0, 0.5]])
        >>> teacher = torch.tensor([[4.0, 1.0, 2.0]])  # margins 3 and 2 vs student's 1 and 0.5
        >>> round(MarginMSELoss()(scores, teacher).item(), 4)
        3.125
    """

    citation = """
@article{hofstaetter2020margin,
  title={Improving Efficient Neural Ranking Models with Cross-Architecture Knowledge Distillation},
  author={Hofst{\\"a}tter, Sebastian and Althammer, Sophia and Schr{\\"o}der, Michael and Sertkan, Mete and Hanbury, Allan},
  journal={arXiv preprint arXiv:2010.02666},
  year={2020}
}
"""

    def __init__(self, positive: int = 0) -> None:
        super().__init__()
        if not isinstance(positive, int) or positive < 0:
            raise ValueError(f"MarginMSELoss: positive must be a non-negative int; received {positive!r}")
        self.positive = positive

    def compute_loss(self, scores: Tensor, targets: Tensor | None, mask: Tensor) -> Tensor:
        assert targets is not None
        p = self.positive
        if p >= scores.shape[1]:
            raise ValueError(f"MarginMSELoss: positive index {p} is out of range for {scores.shape[1]} candidates")
        negatives = mask.clone()
        negatives[:, p] = False
        bad = negatives.any(dim=-1) & ~mask[:, p]
        if bad.any():
            raise ValueError(
                f"MarginMSELoss: the positive (index {p}) is masked for queries "
                f"{bad.nonzero().flatten().tolist()}; expected it to be valid"
            )
        if not negatives.any():
            return zero_loss(scores)
        student_margin = scores[:, p : p + 1] - scores
        teacher_margin = targets[:, p : p + 1] - targets
        return ((student_margin - teacher_margin) ** 2)[negatives].mean()

    def get_config_dict(self) -> dict[str, Any]:
        return {"positive": self.positive}
