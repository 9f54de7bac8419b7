"""Batch building for training: per-query candidate groups of (query, passage) pairs.

Models never see files: the trainers get rows of the example schema (:mod:`rankkd.data.schema`), and the
:class:`GroupCollator` turns a list of rows into model inputs plus a ``[B, N]`` target matrix for the losses.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any, Sequence

import torch

from rankkd.data.encoding import PairEncoder
from rankkd.data.sampling import SAMPLERS
from rankkd.data.targets import get_target_transform


def _nan_to_none(values: Sequence[Any] | None) -> list[float] | None:
    if values is None:
        return None
    return [math.nan if v is None else float(v) for v in values]


@dataclass
class GroupCollator:
    """Collate example-schema rows into groups of ``group_size`` candidates per query.

    For every row it samples candidate indices (``strategy``: top, random, single_relevant, top_and_random, within
    ``depth``), then builds ``targets[B, N]`` from the chosen ``target`` source:

    - ``"teacher_ranks"`` through ``target_transform`` (reciprocal, linear, topk: see :mod:`rankkd.data.targets`),
    - ``"teacher_scores"`` used as they are,
    - ``"labels"`` (graded relevance; unjudged = NaN, which the losses mask out),
    - ``"none"`` (contrastive losses that only need the positive first).

    Groups shorter than ``group_size`` are padded and masked (``mask[B, N]``), never dropped. Raw texts are kept under
    ``queries``/``passages`` so an online teacher can score them with its own tokenizer. Each column named in
    ``extra_targets`` (e.g. ``labels`` next to teacher scores, for DeAR's hybrid loss) comes as a further ``[B, N]``
    matrix ``targets_<column>`` (NaN where unknown).
    """

    encoder: PairEncoder
    group_size: int = 8
    strategy: str = "top"
    depth: int | None = None
    target: str = "teacher_ranks"
    target_transform: str = "reciprocal"
    target_transform_kwargs: dict = field(default_factory=dict)
    min_positive_label: float = 1.0
    seed: int = 0
    keep_texts: bool = False
    extra_targets: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.strategy not in SAMPLERS:
            raise ValueError(f"unknown sampling strategy {self.strategy!r}; available: {sorted(SAMPLERS)}")
        if self.target not in {"teacher_ranks", "teacher_scores", "labels", "none"}:
            raise ValueError(
                f"unknown target {self.target!r}; expected one of teacher_ranks, teacher_scores, labels, none"
            )
        self._transform = get_target_transform(self.target_transform, **self.target_transform_kwargs)
        self._rng = random.Random(self.seed)

    def encode(self, queries: list[str], passages: list[str]) -> dict[str, Any]:
        """Model inputs of the batch's pairs (cross-encoders: the joint pair encoding)."""
        return dict(self.encoder(queries, passages))

    def _targets(self, row: dict[str, Any], index: list[int], target: str | None = None) -> list[float]:
        target = target or self.target
        if target == "none":
            return [0.0] * len(index)
        column = row.get(target)
        if column is None:
            raise KeyError(
                f"row for qid {row.get('qid')!r} has no {target!r} column; the collator was asked for "
                f"target={target!r} (available: {sorted(k for k, v in row.items() if v is not None)})"
            )
        values = _nan_to_none(column)
        if target == "teacher_ranks":
            chosen = [values[i] for i in index]
            return [float(t) for t in self._transform(chosen)]
        return [values[i] for i in index]

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        queries: list[str] = []
        passages: list[str] = []
        targets: list[list[float]] = []
        extras: dict[str, list[list[float]]] = {name: [] for name in self.extra_targets}
        for row in rows:
            positives = None
            if self.strategy == "single_relevant":
                labels = _nan_to_none(row.get("labels")) or []
                positives = {
                    d for d, y in zip(row["docids"], labels) if not math.isnan(y) and y >= self.min_positive_label
                }
            index = SAMPLERS[self.strategy](
                row["docids"], self.group_size, depth=self.depth, positives=positives, rng=self._rng
            )
            queries.extend([row["query"]] * len(index))
            passages.extend(row["texts"][i] for i in index)
            targets.append(self._targets(row, index))
            for name in self.extra_targets:
                extras[name].append(self._targets(row, index, name))
        width = max(len(t) for t in targets)
        mask = torch.zeros((len(rows), width), dtype=torch.bool)
        flat_index = []
        for r, row_targets in enumerate(targets):
            n = len(row_targets)
            mask[r, :n] = True
            flat_index.extend(r * width + j for j in range(n))
        batch: dict[str, Any] = self.encode(queries, passages)
        batch["targets"] = _to_matrix(targets, width)
        for name, values in extras.items():
            batch[f"targets_{name}"] = _to_matrix(values, width)
        batch["mask"] = mask
        # Where each encoded pair goes in the [B, N] score matrix (groups may be ragged).
        batch["pair_index"] = torch.tensor(flat_index, dtype=torch.long)
        if self.keep_texts:
            batch["queries"] = queries
            batch["passages"] = passages
        return batch


def _to_matrix(rows: list[list[float]], width: int) -> torch.Tensor:
    """Ragged rows as a ``[B, width]`` float matrix, NaN-padded (the losses mask NaN targets)."""
    matrix = torch.full((len(rows), width), math.nan)
    for r, values in enumerate(rows):
        matrix[r, : len(values)] = torch.tensor(values, dtype=torch.float)
    return matrix
