"""Listwise knowledge distillation: temperature-scaled KL divergence (Hinton et al.; DeAR)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from rankkd.losses.base import RankingLoss, masked_log_softmax, row_mean


class KLDivLoss(RankingLoss):
    r"""Temperature-scaled KL divergence from the teacher's to the student's softmax over each group.

    With temperature :math:`T`, :math:`p^t = \mathrm{softmax}(t / T)` and
    :math:`p^s = \mathrm{softmax}(s / T)` over the valid candidates of query :math:`q`:

    .. math::

        \ell_q = T^2 \sum_i p^t_i \left(\log p^t_i - \log p^s_i\right)

    averaged over the queries ("batchmean"). The :math:`T^2` factor (Hinton et al., 2015) keeps gradient
    magnitudes comparable across temperatures; DeAR (Abdallah et al., 2025) uses this term in its
    stage-1 distillation. ``targets`` are the teacher's logits (or any relevance values on a logit scale,
    e.g. negated ranks).

    Args:
        temperature: :math:`T > 0`, applied to both teacher and student.

    References:
        - Hinton, Vinyals & Dean, "Distilling the Knowledge in a Neural Network", arXiv:1503.02531, 2015.
        - Abdallah, Mozafari, Piryani & Jatowt, "DeAR: Dual-Stage Document Reranking with Reasoning Agents
          via LLM Distillation", EMNLP 2025 (arXiv:2508.16998).

    Inputs:
        +--------------------------+------------------------------------------+------------------------+
        | scores                   | targets                                  | mask                   |
        +==========================+==========================================+========================+
        | ``[B, N]`` student logits| ``[B, N]`` teacher logits; ``NaN`` = pad | ``[B, N]`` bool, opt.  |
        +--------------------------+------------------------------------------+------------------------+

    Example:
        >>> import torch
        >>> from rankkd.losses import KLDivLoss
        >>> loss = KLDivLoss(temperature=2.0)
        >>> round(loss(torch.tensor([[0.0, 0.0]]), torch.tensor([[2.0, 0.0]])).item(), 4)
        0.4438
    """

    citation = """
@article{hinton2015distilling,
  title={Distilling the Knowledge in a Neural Network},
  author={Hinton, Geoffrey and Vinyals, Oriol and Dean, Jeff},
  journal={arXiv preprint arXiv:1503.02531},
  year={2015}
}
@inproceedings{abdallah2025dear,
  title={{DeAR}: Dual-Stage Document Reranking with Reasoning Agents via {LLM} Distillation},
  author={Abdallah, Abdelrahman and Mozafari, Jamshid and Piryani, Bhawna and Jatowt, Adam},
  booktitle={Proceedings of the 2025 Conference on Empirical Methods in Natural Language Processing (EMNLP)},
  year={2025}
}
"""

    def __init__(self, temperature: float = 1.0) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"KLDivLoss: temperature must be > 0; received {temperature}")
        self.temperature = temperature

    def compute_loss(self, scores: Tensor, targets: Tensor | None, mask: Tensor) -> Tensor:
        assert targets is not None
        log_p_student = masked_log_softmax(scores / self.temperature, mask)
        log_p_teacher = masked_log_softmax(targets / self.temperature, mask)
        # where() before multiplying: padded entries are (-inf) - (-inf) = NaN, and 0 * NaN is NaN.
        log_ratio = torch.where(mask, log_p_teacher - log_p_student, torch.zeros_like(log_p_student))
        per_row = (log_p_teacher.exp() * log_ratio).sum(dim=-1)
        return self.temperature**2 * row_mean(per_row, mask)

    def get_config_dict(self) -> dict[str, Any]:
        return {"temperature": self.temperature}
