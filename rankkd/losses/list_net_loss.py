"""ListNet (Cao et al., 2007): cross-entropy between top-one probabilities of teacher and student."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from rankkd.losses.base import RankingLoss, masked_log_softmax, row_mean


class ListNetLoss(RankingLoss):
    r"""Cross-entropy between the softmax of the targets and the softmax of the scores over each group.

    .. math::

        \ell_q = -\sum_{i \in \text{valid}(q)} \mathrm{softmax}(t_q)_i \, \log \mathrm{softmax}(s_q)_i

    averaged over the queries (ListNet's top-one approximation). Padding is excluded from *both*
    softmaxes (masked entries get :math:`-\infty`, not 0: a zero-padded target would still receive
    probability mass and change every other probability). ListNet equals :class:`~rankkd.losses.KLDivLoss`
    with :math:`T = 1` plus the teacher's entropy, so both have the same gradients w.r.t. the scores.

    References:
        - Cao, Qin, Liu, Tsai & Li, "Learning to Rank: From Pairwise Approach to Listwise Approach",
          ICML 2007.

    Inputs:
        +--------------------------+------------------------------------------+------------------------+
        | scores                   | targets                                  | mask                   |
        +==========================+==========================================+========================+
        | ``[B, N]`` student logits| ``[B, N]`` relevance on a logit scale    | ``[B, N]`` bool, opt.  |
        |                          | (labels, teacher scores); ``NaN`` = pad  |                        |
        +--------------------------+------------------------------------------+------------------------+

    Example:
        >>> import torch
        >>> from rankkd.losses import ListNetLoss
        >>> round(ListNetLoss()(torch.tensor([[0.0, 0.0]]), torch.tensor([[1.0, 0.0]])).item(), 4)
        0.6931
    """

    citation = """
@inproceedings{cao2007listnet,
  title={Learning to Rank: From Pairwise Approach to Listwise Approach},
  author={Cao, Zhe and Qin, Tao and Liu, Tie-Yan and Tsai, Ming-Feng and Li, Hang},
  booktitle={Proceedings of the 24th International Conference on Machine Learning},
  pages={129--136},
  year={2007}
}
"""

    def compute_loss(self, scores: Tensor, targets: Tensor | None, mask: Tensor) -> Tensor:
        assert targets is not None
        log_p_student = masked_log_softmax(scores, mask)
        p_teacher = masked_log_softmax(targets, mask).exp()
        # where() because padded log-probabilities are -inf and 0 * -inf is NaN.
        per_entry = torch.where(mask, p_teacher * log_p_student, torch.zeros_like(log_p_student))
        return row_mean(-per_entry.sum(dim=-1), mask)

    def get_config_dict(self) -> dict[str, Any]:
        return {}
