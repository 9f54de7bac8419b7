"""Weighted sum of several ranking losses, with per-component values for logging."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import Tensor, nn

from rankkd.losses.base import RankingLoss

LossSpec = RankingLoss | str | Mapping[str, Any]


def build_loss(spec: LossSpec) -> RankingLoss:
    """A loss instance from an instance, a registry name, or a config ``{"name": ..., **kwargs}``."""
    if isinstance(spec, RankingLoss):
        return spec
    # Imported here because the registry module imports this one.
    from rankkd.losses import get_loss

    if isinstance(spec, str):
        return get_loss(spec)
    if isinstance(spec, Mapping) and "name" in spec:
        kwargs = {key: value for key, value in spec.items() if key != "name"}
        return get_loss(spec["name"], **kwargs)
    raise ValueError(
        f"cannot build a loss from {spec!r}; expected a RankingLoss, a registry name or a mapping with a 'name' key"
    )


class CombinedLoss(RankingLoss):
    r"""Weighted sum of named ranking losses evaluated on the same scores, targets and mask.

    .. math::

        \mathcal{L} = \sum_k w_k \, \mathcal{L}_k(s, t, m)

    :meth:`forward` returns the total; :meth:`forward_with_components` also returns every *unweighted*
    component (still attached to the graph) so a trainer can log them separately.

    Args:
        losses: name -> loss; values may also be registry names (``"ranknet"``) or configs
            (``{"name": "kl_div", "temperature": 2.0}``), which makes the combination YAML-configurable.
        weights: name -> weight; missing names default to 1.0, unknown names raise ``ValueError``.

    Inputs:
        +--------------------------+------------------------------------------+------------------------+
        | scores                   | targets                                  | mask                   |
        +==========================+==========================================+========================+
        | ``[B, N]`` student logits| ``[B, N]``, as required by the components| ``[B, N]`` bool, opt.  |
        +--------------------------+------------------------------------------+------------------------+

    Example:
        >>> import torch
        >>> from rankkd.losses import CombinedLoss, MSELoss, RankNetLoss
        >>> loss = CombinedLoss({"mse": MSELoss(), "ranknet": RankNetLoss()}, {"mse": 0.5, "ranknet": 1.0})
        >>> total, parts = loss.forward_with_components(torch.tensor([[0.0, 1.0]]), torch.tensor([[1.0, 0.0]]))
        >>> {name: round(value.item(), 4) for name, value in parts.items()}, round(total.item(), 4)
        ({'mse': 1.0, 'ranknet': 1.3133}, 1.8133)
    """

    def __init__(self, losses: Mapping[str, LossSpec], weights: Mapping[str, float] | None = None) -> None:
        super().__init__()
        if not losses:
            raise ValueError("CombinedLoss: losses must contain at least one loss; received an empty mapping")
        weights = dict(weights or {})
        unknown = sorted(set(weights) - set(losses))
        if unknown:
            raise ValueError(
                f"CombinedLoss: weights given for unknown losses {unknown}; expected names from {sorted(losses)}"
            )
        self.losses = nn.ModuleDict({name: build_loss(spec) for name, spec in losses.items()})
        self.weights = {name: float(weights.get(name, 1.0)) for name in losses}
        self.requires_targets = any(loss.requires_targets for loss in self.losses.values())

    @property
    def citation(self) -> str:  # type: ignore[override]
        return "".join(dict.fromkeys(loss.citation for loss in self.losses.values()))

    def forward_with_components(
        self, scores: Tensor, targets: Tensor | None = None, mask: Tensor | None = None
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """Return ``(total, {name: unweighted component})``."""
        # Validate once up front so shape errors name the combination, not a component.
        self.validate_inputs(scores, targets, mask)
        components = {name: loss(scores, targets, mask) for name, loss in self.losses.items()}
        total = sum(self.weights[name] * value for name, value in components.items())
        assert isinstance(total, Tensor)
        return total, components

    def forward(self, scores: Tensor, targets: Tensor | None = None, mask: Tensor | None = None) -> Tensor:
        return self.forward_with_components(scores, targets, mask)[0]

    def get_config_dict(self) -> dict[str, Any]:
        return {
            "weights": dict(self.weights),
            "losses": {
                name: {"class": type(loss).__name__, **loss.get_config_dict()} for name, loss in self.losses.items()
            },
        }

    def extra_repr(self) -> str:
        return f"weights={self.weights!r}"
