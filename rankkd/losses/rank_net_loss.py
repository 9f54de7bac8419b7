"""RankNet (Burges et al., 2005): pairwise logistic loss, i.e. LambdaLoss without weighting."""

from __future__ import annotations

from typing import Any, Literal

from rankkd.losses.lambda_loss import LambdaLoss


class RankNetLoss(LambdaLoss):
    r"""Pairwise logistic loss over all pairs the teacher orders, averaged over the pairs.

    For every pair of valid candidates :math:`(i, j)` of a query with :math:`t_i > t_j` (the teacher
    prefers :math:`i`):

    .. math::

        \ell_{ij} = \log\big(1 + \exp(-\sigma (s_i - s_j))\big)

    and the loss is the mean over all such pairs of the batch; ties in the targets form no pair. Only the
    teacher's *order* is used, so targets may be teacher scores, labels or transformed ranks (e.g.
    ``-rank`` or ``1/rank``). Rank-DistiLLM (Schlatt et al., 2025) found RankNet the strongest loss for
    distilling listwise LLM rankings into cross-encoders.

    This is :class:`~rankkd.losses.LambdaLoss` without pair weighting; ``weighting="ndcg"`` multiplies
    every pair by its :math:`|\Delta\mathrm{NDCG}|` under the current student ranking (LambdaRank, i.e.
    ``LambdaLoss(weighting="lambdarank")``).

    Args:
        sigma: scale :math:`\sigma` of the score differences.
        weighting: ``None`` (plain RankNet) or ``"ndcg"`` (LambdaRank weights).
        k: only pairs with at least one candidate in the student's top-``k`` count.
        gain: gain function of the ``"ndcg"`` weights, ``"exp2"`` or ``"linear"``.

    References:
        - Burges, Shaked, Renshaw, Lazier, Deeds, Hamilton & Hullender, "Learning to Rank using Gradient
          Descent", ICML 2005.
        - Schlatt et al., "Rank-DistiLLM: Closing the Effectiveness Gap Between Cross-Encoders and LLMs for
          Passage Re-ranking", ECIR 2025.

    Inputs:
        +--------------------------+------------------------------------------+------------------------+
        | scores                   | targets                                  | mask                   |
        +==========================+==========================================+========================+
        | ``[B, N]`` student logits| ``[B, N]`` relevance (only the order     | ``[B, N]`` bool, opt.  |
        |                          | matters); ``NaN`` = pad                  |                        |
        +--------------------------+------------------------------------------+------------------------+

    Example:
        >>> import torch
        >>> from rankkd.losses import RankNetLoss
        >>> scores = torch.tensor([[0.0, 1.0]])
        >>> teacher = torch.tensor([[5.0, 3.0]])  # teacher prefers candidate 0; student does not
        >>> round(RankNetLoss()(scores, teacher).item(), 4)  # log(1 + e)
        1.3133
    """

    citation = """
@inproceedings{burges2005ranknet,
  title={Learning to Rank using Gradient Descent},
  author={Burges, Chris and Shaked, Tal and Renshaw, Erin and Lazier, Ari and Deeds, Matt and Hamilton, Nicole and Hullender, Greg},
  booktitle={Proceedings of the 22nd International Conference on Machine Learning},
  pages={89--96},
  year={2005}
}
"""

    def __init__(
        self,
        sigma: float = 1.0,
        weighting: Literal["ndcg"] | None = None,
        k: int | None = None,
        gain: Literal["exp2", "linear"] = "exp2",
    ) -> None:
        if weighting not in (None, "ndcg"):
            raise ValueError(f"RankNetLoss: weighting must be None or 'ndcg'; received {weighting!r}")
        super().__init__(weighting="lambdarank" if weighting == "ndcg" else None, k=k, sigma=sigma, gain=gain)
        self.ranknet_weighting = weighting

    def get_config_dict(self) -> dict[str, Any]:
        return {"sigma": self.sigma, "weighting": self.ranknet_weighting, "k": self.k, "gain": self.gain}
