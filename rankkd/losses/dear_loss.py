"""DeAR stage-1 distillation objective: alpha * T^2 * KL + (1 - alpha) * ranking loss."""

from __future__ import annotations

from typing import Any

from rankkd.losses.combined_loss import CombinedLoss, LossSpec, build_loss
from rankkd.losses.kl_div_loss import KLDivLoss
from rankkd.losses.rank_net_loss import RankNetLoss


class DeARLoss(CombinedLoss):
    r"""Hybrid listwise + pairwise distillation loss of DeAR (Abdallah et al., 2025).

    .. math::

        \mathcal{L} = \alpha \cdot T^2 \cdot \mathrm{KL}\big(\mathrm{softmax}(t/T) \,\|\,
        \mathrm{softmax}(s/T)\big) + (1 - \alpha) \cdot \mathcal{L}_\text{rank}(s, t)

    The :math:`T^2` factor lives inside :class:`~rankkd.losses.KLDivLoss`; the ranking loss defaults to
    :class:`~rankkd.losses.RankNetLoss`. DeAR's stage 1 additionally has a cross-entropy term on labels;
    compose it with :class:`~rankkd.losses.CombinedLoss` when labels are available. Components are
    named ``"kl"`` and ``"ranking"`` in :meth:`forward_with_components`.

    Args:
        alpha: weight of the KL term in ``[0, 1]``.
        temperature: distillation temperature :math:`T` of the KL term.
        ranking_loss: the pairwise/listwise term: a loss, a registry name or a config mapping.

    References:
        - Abdallah, Mozafari, Piryani & Jatowt, "DeAR: Dual-Stage Document Reranking with Reasoning Agents
          via LLM Distillation", EMNLP 2025 (arXiv:2508.16998).
        - Hinton, Vinyals & Dean, "Distilling the Knowledge in a Neural Network", 2015.

    Inputs:
        +--------------------------+------------------------------------------+------------------------+
        | scores                   | targets                                  | mask                   |
        +==========================+==========================================+========================+
        | ``[B, N]`` student logits| ``[B, N]`` teacher logits; ``NaN`` = pad | ``[B, N]`` bool, opt.  |
        +--------------------------+------------------------------------------+------------------------+

    Example:
        >>> import torch
        >>> from rankkd.losses import DeARLoss
        >>> loss = DeARLoss(alpha=0.5, temperature=2.0)
        >>> round(loss(torch.tensor([[0.0, 1.0]]), torch.tensor([[1.0, 0.0]])).item(), 4)
        0.9015
    """

    def __init__(self, alpha: float = 0.5, temperature: float = 2.0, ranking_loss: LossSpec | None = None) -> None:
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"DeARLoss: alpha must lie in [0, 1]; received {alpha}")
        ranking = build_loss(ranking_loss) if ranking_loss is not None else RankNetLoss()
        super().__init__({"kl": KLDivLoss(temperature), "ranking": ranking}, {"kl": alpha, "ranking": 1.0 - alpha})
        self.alpha = alpha
        self.temperature = temperature

    def get_config_dict(self) -> dict[str, Any]:
        ranking = self.losses["ranking"]
        return {
            "alpha": self.alpha,
            "temperature": self.temperature,
            "ranking_loss": {"class": type(ranking).__name__, **ranking.get_config_dict()},
        }
