"""Pointwise mean squared error between student and teacher scores."""

from __future__ import annotations

from typing import Any

from torch import Tensor

from rankkd.losses.base import RankingLoss, entry_mean


class MSELoss(RankingLoss):
    r"""Mean squared error between student scores and teacher scores (pointwise score distillation).

    .. math::

        \mathcal{L} = \frac{1}{|V|} \sum_{(q, i) \in V} (s_{q,i} - t_{q,i})^2

    over the set :math:`V` of valid (query, candidate) entries. The student must reproduce the teacher's
    absolute scale, so this only makes sense when teacher scores are calibrated (e.g. logits of a
    pointwise teacher); for rank-only teachers prefer :class:`~rankkd.losses.ApproxDiscountedRankMSELoss`
    or :class:`~rankkd.losses.RankNetLoss`.

    References:
        - Hinton, Vinyals & Dean, "Distilling the Knowledge in a Neural Network", 2015 (logit matching).

    Inputs:
        +--------------------------+------------------------------------------+------------------------+
        | scores                   | targets                                  | mask                   |
        +==========================+==========================================+========================+
        | ``[B, N]`` student logits| ``[B, N]`` teacher scores; ``NaN`` = pad | ``[B, N]`` bool, opt.  |
        +--------------------------+------------------------------------------+------------------------+

    Example:
        >>> import torch
        >>> from rankkd.losses import MSELoss
        >>> round(MSELoss()(torch.tensor([[1.0, 0.0]]), torch.tensor([[3.0, 1.0]])).item(), 4)
        2.5
    """

    citation = """
@article{hinton2015distilling,
  title={Distilling the Knowledge in a Neural Network},
  author={Hinton, Geoffrey and Vinyals, Oriol and Dean, Jeff},
  journal={arXiv preprint arXiv:1503.02531},
  year={2015}
}
"""

    def compute_loss(self, scores: Tensor, targets: Tensor | None, mask: Tensor) -> Tensor:
        assert targets is not None
        return entry_mean((scores - targets) ** 2, mask)

    def get_config_dict(self) -> dict[str, Any]:
        return {}
