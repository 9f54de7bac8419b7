"""Listwise and pairwise distillation of re-rankers from teacher rankings (Rank-DistiLLM, TWOLAR, multi-stage)."""

from __future__ import annotations

from rankkd.trainers.base import RerankerTrainer
from rankkd.trainers.listwise_config import ListwiseConfig


class ListwiseTrainer(RerankerTrainer):
    """Train a cross-encoder on groups of candidates per query with a ranking loss over the group.

    Rows follow the example schema (:mod:`rankkd.data.schema`); each step samples ``group_size`` candidates per query,
    scores all pairs, and applies ``args.loss`` (RankNet, ADR-MSE, ListNet, InfoNCE, ... or a ``+`` combination) to
    the ``[B, N]`` score matrix against the teacher targets.

    Example::

        args = ListwiseConfig(output_dir="out", loss="ranknet", group_size=8, target="teacher_ranks")
        trainer = ListwiseTrainer(model="path/to/minilm", args=args, train_dataset=examples)
        trainer.train()
    """

    def __init__(self, model=None, args: ListwiseConfig | None = None, **kwargs):
        super().__init__(model=model, args=args if args is not None else ListwiseConfig(output_dir="rankkd-listwise"), **kwargs)
