"""Localized contrastive estimation (LCE) / InfoNCE: softmax cross-entropy over each group."""

from __future__ import annotations

from typing import Any, Literal

import torch
from torch import Tensor

from rankkd.losses.base import RankingLoss, masked_log_softmax, zero_loss


class InfoNCELoss(RankingLoss):
    r"""Softmax cross-entropy over a query's candidate group with one positive (LCE / InfoNCE).

    With temperature :math:`\tau` and the positive candidate :math:`p` of query :math:`q`:

    .. math::

        \ell_q = -\log \frac{\exp(s_{q,p}/\tau)}{\sum_{j \in \text{valid}(q)} \exp(s_{q,j}/\tau)}

    averaged over the queries. The positive is the candidate at index ``positive`` (default 0, the usual
    "positive first, then hard negatives" layout), or the candidate with the largest target when
    ``positive="argmax"`` (e.g. the teacher's top-1). Padded candidates are excluded from the denominator.

    Gao et al. (2021) call this Localized Contrastive Estimation when the negatives are hard negatives of
    the first-stage retriever; Rank-DistiLLM (Schlatt et al., 2025) uses it to pre-fine-tune the
    cross-encoder before distilling with :class:`~rankkd.losses.ApproxDiscountedRankMSELoss`.

    Args:
        temperature: :math:`\tau > 0`; smaller values sharpen the softmax.
        positive: index of the positive in each group, or ``"argmax"`` to take the argmax of ``targets``.

    Raises:
        ValueError: if the positive at a fixed index is padded/masked for a query that has valid candidates.

    References:
        - Gao, Dai & Callan, "Rethink Training of BERT Rerankers in Multi-Stage Retrieval Pipeline", ECIR 2021.
        - van den Oord, Li & Vinyals, "Representation Learning with Contrastive Predictive Coding", 2018.

    Inputs:
        +--------------------------+------------------------------------------------+-------------------+
        | scores                   | targets                                        | mask              |
        +==========================+================================================+===================+
        | ``[B, N]`` student logits| optional with a fixed ``positive`` index;      | ``[B, N]`` bool,  |
        |                          | ``[B, N]`` relevance for ``positive="argmax"`` | optional          |
        +--------------------------+------------------------------------------------+-------------------+

    Example:
        >>> import torch
        >>> from rankkd.losses import InfoNCELoss
        >>> loss = InfoNCELoss()  # positive at index 0
        >>> round(loss(torch.tensor([[2.0, 1.0, 0.0]])).item(), 4)
        0.4076
    """

    citation = """
@inproceedings{gao2021lce,
  title={Rethink Training of {BERT} Rerankers in Multi-Stage Retrieval Pipeline},
  author={Gao, Luyu and Dai, Zhuyun and Callan, Jamie},
  booktitle={Advances in Information Retrieval (ECIR 2021)},
  pages={280--286},
  year={2021}
}
@article{oord2018infonce,
  title={Representation Learning with Contrastive Predictive Coding},
  author={van den Oord, Aaron and Li, Yazhe and Vinyals, Oriol},
  journal={arXiv preprint arXiv:1807.03748},
  year={2018}
}
"""

    def __init__(self, temperature: float = 1.0, positive: int | Literal["argmax"] = 0) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"InfoNCELoss: temperature must be > 0; received {temperature}")
        if positive != "argmax" and not (isinstance(positive, int) and positive >= 0):
            raise ValueError(f"InfoNCELoss: positive must be a non-negative int or 'argmax'; received {positive!r}")
        self.temperature = temperature
        self.positive = positive
        # A fixed positive index needs no teacher signal, so plain (query, pos, negs...) batches work.
        self.requires_targets = positive == "argmax"

    def compute_loss(self, scores: Tensor, targets: Tensor | None, mask: Tensor) -> Tensor:
        valid_rows = mask.any(dim=-1)
        if not valid_rows.any():
            return zero_loss(scores)
        if self.positive == "argmax":
            assert targets is not None
            pos_idx = targets.masked_fill(~mask, float("-inf")).argmax(dim=-1)
        else:
            if self.positive >= scores.shape[1]:
                raise ValueError(
                    f"InfoNCELoss: positive index {self.positive} is out of range for {scores.shape[1]} candidates"
                )
            pos_idx = torch.full_like(valid_rows, self.positive, dtype=torch.long)
            bad = valid_rows & ~mask[:, self.positive]
            if bad.any():
                raise ValueError(
                    f"InfoNCELoss: the positive (index {self.positive}) is masked for queries "
                    f"{bad.nonzero().flatten().tolist()}; expected it to be valid"
                )
        log_probs = masked_log_softmax(scores / self.temperature, mask)
        nll = -log_probs.gather(1, pos_idx[:, None]).squeeze(1)
        return nll[valid_rows].mean()

    def get_config_dict(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "positive": self.positive}
