"""LambdaLoss (Wang et al., 2018): pairwise logistic loss with NDCG-derived pair weights."""

from __future__ import annotations

from typing import Any, Literal

import torch
from torch import Tensor
from torch.nn import functional as F

from rankkd.losses.base import RankingLoss, zero_loss

WeightingScheme = Literal["lambdarank", "ndcg_loss2", "ndcg_loss2pp"]
WEIGHTING_SCHEMES: tuple[str, ...] = ("lambdarank", "ndcg_loss2", "ndcg_loss2pp")


class LambdaLoss(RankingLoss):
    r"""Pairwise logistic loss over all correctly ordered target pairs, optionally NDCG-weighted.

    For every pair of valid candidates :math:`(i, j)` of a query with :math:`t_i > t_j`:

    .. math::

        \ell_{ij} = w_{ij} \, \log\big(1 + \exp(-\sigma (s_i - s_j))\big)

    and the loss is the mean of :math:`\ell_{ij}` over all such pairs of the batch. The weights
    :math:`w_{ij}` (constants, no gradient) come from the current *student* ranking :math:`r_i` (1-based
    position when sorting by score), the discount :math:`D(r) = \log_2(1 + r)` and the normalised gains
    :math:`G_i = g(t_i) / \mathrm{IDCG}` with :math:`g(t) = 2^t - 1` (``gain="exp2"``) or :math:`g(t) = t`
    (``gain="linear"``, for real-valued teacher scores); targets are clipped at 0 for the gains:

    - ``None``: :math:`w_{ij} = 1` (RankNet, see :class:`~rankkd.losses.RankNetLoss`).
    - ``"lambdarank"``: :math:`w_{ij} = |G_i - G_j| \, |1/D(r_i) - 1/D(r_j)|`, the :math:`|\Delta
      \mathrm{NDCG}|` of swapping :math:`i` and :math:`j` (Burges, 2010).
    - ``"ndcg_loss2"``: :math:`w_{ij} = |G_i - G_j| \, \delta_{ij}` with :math:`\delta_{ij} = |1/D(|r_i -
      r_j|) - 1/D(|r_i - r_j| + 1)|` (Wang et al., 2018, Eq. 13).
    - ``"ndcg_loss2pp"`` (default): :math:`\mu \cdot` ndcg_loss2 :math:`+` lambdarank, the best scheme in
      Wang et al. (2018).

    With ``k``, only pairs where at least one candidate is in the student's top-``k`` count and IDCG is
    computed at ``k`` (NDCG@k). The weighting follows sentence-transformers' ``LambdaLoss``; natural log is
    used (sentence-transformers defaults to log2, which only rescales the loss by :math:`1/\ln 2`).

    Args:
        weighting: pair weighting scheme (see above) or ``None``.
        k: NDCG cut-off for pair selection and IDCG; ``None`` uses all candidates.
        sigma: scale :math:`\sigma` of the score differences.
        mu: weight of ndcg_loss2 inside ndcg_loss2pp.
        gain: ``"exp2"`` (:math:`2^t - 1`, for graded labels) or ``"linear"``.
        eps: lower bound of IDCG, so all-zero-gain queries get zero weights instead of NaN.

    References:
        - Wang, Li, Golbandi, Bendersky & Najork, "The LambdaLoss Framework for Ranking Metric
          Optimization", CIKM 2018.
        - Burges, "From RankNet to LambdaRank to LambdaMART: An Overview", MSR-TR-2010-82, 2010.

    Inputs:
        +--------------------------+------------------------------------------+------------------------+
        | scores                   | targets                                  | mask                   |
        +==========================+==========================================+========================+
        | ``[B, N]`` student logits| ``[B, N]`` graded relevance (higher =    | ``[B, N]`` bool, opt.  |
        |                          | better); ``NaN`` = pad                   |                        |
        +--------------------------+------------------------------------------+------------------------+

    Example:
        >>> import torch
        >>> from rankkd.losses import LambdaLoss
        >>> scores = torch.tensor([[0.5, 1.0, 0.0]])
        >>> labels = torch.tensor([[2.0, 1.0, 0.0]])
        >>> round(LambdaLoss(weighting="lambdarank")(scores, labels).item(), 4)
        0.0975
    """

    citation = """
@inproceedings{wang2018lambdaloss,
  title={The {LambdaLoss} Framework for Ranking Metric Optimization},
  author={Wang, Xuanhui and Li, Cheng and Golbandi, Nadav and Bendersky, Michael and Najork, Marc},
  booktitle={Proceedings of the 27th ACM International Conference on Information and Knowledge Management},
  pages={1313--1322},
  year={2018}
}
"""

    def __init__(
        self,
        weighting: WeightingScheme | None = "ndcg_loss2pp",
        k: int | None = None,
        sigma: float = 1.0,
        mu: float = 10.0,
        gain: Literal["exp2", "linear"] = "exp2",
        eps: float = 1e-10,
    ) -> None:
        super().__init__()
        if weighting is not None and weighting not in WEIGHTING_SCHEMES:
            raise ValueError(
                f"{type(self).__name__}: unknown weighting {weighting!r}; expected None or one of {WEIGHTING_SCHEMES}"
            )
        if k is not None and k < 1:
            raise ValueError(f"{type(self).__name__}: k must be >= 1 or None; received {k}")
        if sigma <= 0:
            raise ValueError(f"{type(self).__name__}: sigma must be > 0; received {sigma}")
        if gain not in ("exp2", "linear"):
            raise ValueError(f"{type(self).__name__}: gain must be 'exp2' or 'linear'; received {gain!r}")
        self.weighting = weighting
        self.k = k
        self.sigma = sigma
        self.mu = mu
        self.gain = gain
        self.eps = eps

    def compute_loss(self, scores: Tensor, targets: Tensor | None, mask: Tensor) -> Tensor:
        assert targets is not None
        pair_mask = mask[:, :, None] & mask[:, None, :] & (targets[:, :, None] > targets[:, None, :])
        need_ranks = self.weighting is not None or self.k is not None
        ranks = self._student_ranks(scores.detach(), mask) if need_ranks else None
        if self.k is not None:
            assert ranks is not None
            in_top_k = ranks <= self.k
            pair_mask = pair_mask & (in_top_k[:, :, None] | in_top_k[:, None, :])
        if not pair_mask.any():
            return zero_loss(scores)
        # softplus(-x) == log(1 + exp(-x)), computed without overflow for strongly mis-ordered pairs.
        pair_losses = F.softplus(-self.sigma * (scores[:, :, None] - scores[:, None, :]))
        if self.weighting is not None:
            assert ranks is not None
            pair_losses = pair_losses * self._pair_weights(targets, mask, ranks)
        return pair_losses[pair_mask].mean()

    @staticmethod
    def _student_ranks(scores: Tensor, mask: Tensor) -> Tensor:
        """1-based position of every candidate when sorting the valid ones by descending score."""
        # Padding sorts last; stable sort breaks score ties by index, so weights are deterministic.
        order = torch.argsort(scores.masked_fill(~mask, float("-inf")), dim=-1, descending=True, stable=True)
        positions = torch.arange(1, scores.shape[1] + 1, device=scores.device, dtype=scores.dtype)
        return torch.empty_like(scores).scatter_(1, order, positions.expand_as(scores))

    def _pair_weights(self, targets: Tensor, mask: Tensor, ranks: Tensor) -> Tensor:
        """``[B, N, N]`` pair weights of the configured scheme (no gradient: they are constants)."""
        with torch.no_grad():
            relevance = targets.clamp(min=0.0)
            raw_gains = torch.pow(2.0, relevance) - 1.0 if self.gain == "exp2" else relevance
            raw_gains = raw_gains.masked_fill(~mask, 0.0)
            n = targets.shape[1]
            positions = torch.arange(1, n + 1, device=targets.device, dtype=targets.dtype)
            ideal = raw_gains.sort(dim=-1, descending=True).values / torch.log2(1.0 + positions)
            idcg = ideal[:, : self.k or n].sum(dim=-1).clamp(min=self.eps)
            gains = raw_gains / idcg[:, None]
            gain_diff = (gains[:, :, None] - gains[:, None, :]).abs()

            weights = torch.zeros_like(gain_diff)
            if self.weighting in ("lambdarank", "ndcg_loss2pp"):
                inv_discount = 1.0 / torch.log2(1.0 + ranks)
                weights = weights + gain_diff * (inv_discount[:, :, None] - inv_discount[:, None, :]).abs()
            if self.weighting in ("ndcg_loss2", "ndcg_loss2pp"):
                distance = (ranks[:, :, None] - ranks[:, None, :]).abs()
                # distance 0 only on the diagonal, which never is a pair; clamp avoids 1/log2(1) = inf there.
                delta = (1.0 / torch.log2(1.0 + distance.clamp(min=1.0)) - 1.0 / torch.log2(2.0 + distance)).abs()
                scale = self.mu if self.weighting == "ndcg_loss2pp" else 1.0
                weights = weights + scale * gain_diff * delta
        return weights

    def get_config_dict(self) -> dict[str, Any]:
        return {
            "weighting": self.weighting,
            "k": self.k,
            "sigma": self.sigma,
            "mu": self.mu,
            "gain": self.gain,
            "eps": self.eps,
        }
