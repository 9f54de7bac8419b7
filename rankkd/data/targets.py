"""Named transforms from teacher ranks to float training targets (higher = more relevant).

Each transform takes 0-based ``ranks`` (0 = teacher's best) as a list, NumPy array or torch tensor, 1-D (one group)
or 2-D (batch x group); ``None``/NaN means "unknown" and maps to a NaN target so losses can mask it.
Lists and arrays give a float64 NumPy array; tensors give a float tensor on the same device.

- ``reciprocal``: ``1 / (r + 1)``  (TWOLAR-style)
- ``linear``: ``max(depth - r, 0)``, ``depth`` defaulting to the group size (last dimension)
- ``topk``: ``1.0`` if ``r < k`` else ``0.0`` -- the teacher's top-k treated as relevant, i.e. ranks as qrels
- ``scores``: the raw teacher scores, passed through (takes scores, not ranks)
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Iterable, Sequence

import numpy as np

Ranks = Any  # list[int | None] | np.ndarray | torch.Tensor


def _as_float(values: Ranks) -> tuple[Any, bool]:
    """``(float array/tensor with NaN for unknown, is_torch)``."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a hard dependency, kept optional here for light imports
        torch = None
    if torch is not None and isinstance(values, torch.Tensor):
        return (values if values.is_floating_point() else values.to(torch.float32)), True
    if isinstance(values, np.ndarray):
        return values.astype(np.float64), False
    array = np.array([[np.nan if v is None else v for v in row] for row in values] if values and isinstance(
        values[0], (list, tuple)) else [np.nan if v is None else v for v in values], dtype=np.float64)
    return array, False


def reciprocal(ranks: Ranks) -> Any:
    """``1 / (rank + 1)``."""
    values, _ = _as_float(ranks)
    return 1.0 / (values + 1.0)


def linear(ranks: Ranks, depth: int | None = None) -> Any:
    """``max(depth - rank, 0)``; ``depth`` defaults to the group size."""
    values, is_torch = _as_float(ranks)
    depth = values.shape[-1] if depth is None else depth
    out = depth - values
    # clamp keeps NaN (unknown) as NaN in both libraries
    return out.clamp(min=0.0) if is_torch else np.where(out < 0, 0.0, out)


def topk(ranks: Ranks, k: int) -> Any:
    """``1.0`` for ``rank < k``, ``0.0`` otherwise, NaN where the rank is unknown."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    values, is_torch = _as_float(ranks)
    hit = (values < k).to(values.dtype) if is_torch else (values < k).astype(np.float64)
    return hit + values * 0.0  # NaN * 0 = NaN: unknown ranks stay unknown


def scores(teacher_scores: Ranks) -> Any:
    """The raw teacher scores as floats (``None`` -> NaN)."""
    values, _ = _as_float(teacher_scores)
    return values


TARGET_TRANSFORMS: dict[str, Callable[..., Any]] = {
    "reciprocal": reciprocal,
    "linear": linear,
    "topk": topk,
    "scores": scores,
}


def get_target_transform(name: str, **kwargs: Any) -> Callable[[Ranks], Any]:
    """The named transform with ``kwargs`` bound (e.g. ``get_target_transform("topk", k=3)``)."""
    if name not in TARGET_TRANSFORMS:
        raise ValueError(f"unknown target transform {name!r}; available: {', '.join(sorted(TARGET_TRANSFORMS))}")
    return functools.partial(TARGET_TRANSFORMS[name], **kwargs) if kwargs else TARGET_TRANSFORMS[name]


def ranks_from_order(candidates: Sequence[str], teacher_order: Sequence[str]) -> list[int | None]:
    """0-based rank of each candidate in ``teacher_order``, counted among the candidates only.

    Teacher ids that are not candidates are skipped (so ranks stay ``0..n-1`` when the teacher ranked all
    candidates); candidates the teacher did not rank get ``None``.
    """
    wanted = set(candidates)
    position: dict[str, int] = {}
    for docid in teacher_order:
        if docid in wanted and docid not in position:
            position[docid] = len(position)
    return [position.get(docid) for docid in candidates]


def teacher_topk_as_qrels(records: Iterable[Any], k: int) -> dict[str, dict[str, int]]:
    """Qrels from teacher orders: the top ``k`` docids of each record get rel 1, its other docids rel 0.

    Several records of one query (windows) are merged; a docid keeps its highest label.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    qrels: dict[str, dict[str, int]] = {}
    for record in records:
        labels = qrels.setdefault(record.qid, {})
        for position, docid in enumerate(record.docids):
            labels[docid] = max(labels.get(docid, 0), int(position < k))
    return qrels
