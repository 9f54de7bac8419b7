"""Ranking and distillation losses on score tensors ``[B, N]`` (see :class:`RankingLoss`).

Look losses up by name with :func:`get_loss` (e.g. from a YAML training config)::

    loss = get_loss("adr_mse", temperature=1.0)
    loss(scores, targets, mask)
"""

from __future__ import annotations

from typing import Any

from rankkd.losses.approx_discounted_rank_mse_loss import ApproxDiscountedRankMSELoss
from rankkd.losses.base import RankingLoss
from rankkd.losses.bce_loss import BCELoss
from rankkd.losses.combined_loss import CombinedLoss
from rankkd.losses.dear_loss import DeARLoss
from rankkd.losses.info_nce_loss import InfoNCELoss
from rankkd.losses.kl_div_loss import KLDivLoss
from rankkd.losses.lambda_loss import LambdaLoss
from rankkd.losses.list_net_loss import ListNetLoss
from rankkd.losses.margin_mse_loss import MarginMSELoss
from rankkd.losses.mse_loss import MSELoss
from rankkd.losses.rank_net_loss import RankNetLoss

#: Registry name -> loss class. ``get_loss`` also accepts the class names (case-insensitive).
LOSSES: dict[str, type[RankingLoss]] = {
    "bce": BCELoss,
    "infonce": InfoNCELoss,
    "lce": InfoNCELoss,
    "mse": MSELoss,
    "margin_mse": MarginMSELoss,
    "kl_div": KLDivLoss,
    "ranknet": RankNetLoss,
    "lambda_loss": LambdaLoss,
    "listnet": ListNetLoss,
    "adr_mse": ApproxDiscountedRankMSELoss,
    "combined": CombinedLoss,
    "dear": DeARLoss,
}


def get_loss(name: str, **kwargs: Any) -> RankingLoss:
    """Instantiate the loss registered as ``name`` (or named by its class) with ``kwargs``.

    Raises:
        ValueError: for an unknown name, listing the known ones.
    """
    key = name.strip().lower().replace("-", "_")
    cls = LOSSES.get(key)
    if cls is None:
        by_class = {loss_cls.__name__.lower(): loss_cls for loss_cls in LOSSES.values()}
        cls = by_class.get(key)
    if cls is None:
        raise ValueError(f"unknown loss {name!r}; expected one of {sorted(LOSSES)}")
    return cls(**kwargs)


__all__ = [
    "LOSSES",
    "ApproxDiscountedRankMSELoss",
    "BCELoss",
    "CombinedLoss",
    "DeARLoss",
    "InfoNCELoss",
    "KLDivLoss",
    "LambdaLoss",
    "ListNetLoss",
    "MSELoss",
    "MarginMSELoss",
    "RankNetLoss",
    "RankingLoss",
    "get_loss",
]
