"""ADR-MSE (Schlatt et al., Rank-DistiLLM, ECIR 2025): discounted MSE between approximate and teacher ranks."""

from __future__ import annotations

from typing import Any, Literal

import torch
from torch import Tensor

from rankkd.losses.base import RankingLoss, entry_mean


class ApproxDiscountedRankMSELoss(RankingLoss):
    r"""Approx Discounted Rank MSE: regress the student's differentiable ranks onto the teacher's ranks.

    The student's rank of candidate :math:`i` is approximated with sigmoids of score differences
    (ApproxRank; Qin et al., 2010), summing over the other valid candidates :math:`j`:

    .. math::

        \hat{r}_i = 1 + \sum_{j \ne i} \sigma\!\left(\frac{s_j - s_i}{\tau}\right)

    The teacher rank :math:`r_i` is the 1-based position of :math:`i` when sorting the valid targets in
    descending order (rank 1 = highest target). Each squared error is discounted like nDCG and the loss is
    the mean over all valid candidates of the batch:

    .. math::

        \mathcal{L} = \frac{1}{|V|} \sum_{(q, i) \in V} \frac{(\hat{r}_{q,i} - r_{q,i})^2}{\log_2(1 + r_{q,i})}

    This follows lightning-ir's ``ApproxRankMSE`` (the Rank-DistiLLM authors' implementation) with
    ``discount="log2"``: ordinal teacher ranks with ties broken by candidate order (``ties="first"``;
    lightning-ir uses a non-stable argsort there, we use a stable one so results are reproducible) and a
    plain mean of the discounted errors. ``ties="average"`` gives tied targets their average rank
    instead, as sentence-transformers' ``ADRMSELoss`` does, which the student can reach exactly by
    scoring them equally. ``discount="reciprocal"`` (:math:`1/r`) and ``None`` (no discount, plain
    ApproxRankMSE) are lightning-ir's other options.

    Args:
        temperature: :math:`\tau > 0` of the sigmoid; smaller values approximate hard ranks more closely.
        discount: ``"log2"`` (ADR-MSE, default), ``"reciprocal"`` or ``None``.
        ties: ``"first"`` (ordinal ranks, lightning-ir) or ``"average"`` (average ranks for tied targets).

    References:
        - Schlatt, Fröbe, Scells, Zhuang, Koopman, Zuccon, Stein, Potthast & Hagen, "Rank-DistiLLM: Closing
          the Effectiveness Gap Between Cross-Encoders and LLMs for Passage Re-ranking", ECIR 2025.
        - Qin, Liu & Li, "A General Approximation Framework for Direct Optimization of Information Retrieval
          Measures", Information Retrieval 13(4), 2010.

    Inputs:
        +--------------------------+------------------------------------------+------------------------+
        | scores                   | targets                                  | mask                   |
        +==========================+==========================================+========================+
        | ``[B, N]`` student logits| ``[B, N]`` relevance (only the order     | ``[B, N]`` bool, opt.  |
        |                          | matters, e.g. ``-teacher_rank``);        |                        |
        |                          | ``NaN`` = pad                            |                        |
        +--------------------------+------------------------------------------+------------------------+

    Example:
        >>> import torch
        >>> from rankkd.losses import ApproxDiscountedRankMSELoss
        >>> loss = ApproxDiscountedRankMSELoss()
        >>> scores = torch.tensor([[0.0, 0.0]])
        >>> teacher_ranks = torch.tensor([[1.0, 2.0]])
        >>> round(loss(scores, -teacher_ranks).item(), 4)  # approx ranks 1.5, 1.5
        0.2039
    """

    citation = """
@inproceedings{schlatt2025rankdistillm,
  title={Rank-{DistiLLM}: Closing the Effectiveness Gap Between Cross-Encoders and {LLMs} for Passage Re-ranking},
  author={Schlatt, Ferdinand and Fr{\\"o}be, Maik and Scells, Harrisen and Zhuang, Shengyao and Koopman, Bevan and Zuccon, Guido and Stein, Benno and Potthast, Martin and Hagen, Matthias},
  booktitle={Advances in Information Retrieval (ECIR 2025)},
  pages={323--334},
  year={2025},
  doi={10.1007/978-3-031-88714-7_31}
}
"""

    def __init__(
        self,
        temperature: float = 1.0,
        discount: Literal["log2", "reciprocal"] | None = "log2",
        ties: Literal["first", "average"] = "first",
    ) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"ApproxDiscountedRankMSELoss: temperature must be > 0; received {temperature}")
        if discount not in ("log2", "reciprocal", None):
            raise ValueError(
                f"ApproxDiscountedRankMSELoss: discount must be 'log2', 'reciprocal' or None; received {discount!r}"
            )
        if ties not in ("first", "average"):
            raise ValueError(f"ApproxDiscountedRankMSELoss: ties must be 'first' or 'average'; received {ties!r}")
        self.temperature = temperature
        self.discount = discount
        self.ties = ties

    def approx_ranks(self, scores: Tensor, mask: Tensor) -> Tensor:
        """Differentiable ranks ``1 + sum_{j != i, j valid} sigmoid((s_j - s_i) / temperature)``."""
        n = scores.shape[1]
        # [b, i, j] = s_j - s_i
        diff = scores[:, None, :] - scores[:, :, None]
        others = mask[:, None, :] & ~torch.eye(n, dtype=torch.bool, device=scores.device)
        pairwise = torch.where(others, torch.sigmoid(diff / self.temperature), torch.zeros_like(diff))
        return 1.0 + pairwise.sum(dim=-1)

    def teacher_ranks(self, targets: Tensor, mask: Tensor) -> Tensor:
        """1-based teacher ranks among the valid candidates (rank 1 = highest target)."""
        if self.ties == "average":
            valid_j = mask[:, None, :]
            greater = ((targets[:, None, :] > targets[:, :, None]) & valid_j).sum(dim=-1)
            equal = ((targets[:, None, :] == targets[:, :, None]) & valid_j).sum(dim=-1)  # includes i itself
            return greater.to(targets.dtype) + (equal.to(targets.dtype) + 1.0) / 2.0
        order = torch.argsort(targets.masked_fill(~mask, float("-inf")), dim=-1, descending=True, stable=True)
        positions = torch.arange(1, targets.shape[1] + 1, device=targets.device, dtype=targets.dtype)
        return torch.empty_like(targets).scatter_(1, order, positions.expand_as(targets))

    def compute_loss(self, scores: Tensor, targets: Tensor | None, mask: Tensor) -> Tensor:
        assert targets is not None
        ranks = self.teacher_ranks(targets, mask)
        squared_error = (self.approx_ranks(scores, mask) - ranks) ** 2
        if self.discount == "log2":
            squared_error = squared_error / torch.log2(1.0 + ranks)
        elif self.discount == "reciprocal":
            squared_error = squared_error / ranks
        return entry_mean(squared_error, mask)

    def get_config_dict(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "discount": self.discount, "ties": self.ties}
