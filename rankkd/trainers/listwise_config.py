"""Configuration of :class:`~rankkd.trainers.listwise_trainer.ListwiseTrainer`."""

from __future__ import annotations

from dataclasses import dataclass, field

from rankkd.trainers.base import RerankerConfig


@dataclass
class ListwiseConfig(RerankerConfig):
    """Listwise / pairwise distillation of a cross-encoder from teacher rankings.

    One config covers the listwise students of the papers rankkd reproduces:

    - Rank-DistiLLM (Schlatt et al., ECIR 2025): pre-fine-tune with ``loss="infonce"``, ``target="none"``,
      ``sampling="single_relevant"`` (or the teacher's top-1 first), 8 candidates from the top-200; then fine-tune with
      ``loss="ranknet"`` or ``loss="adr_mse"`` on the LLM re-ranking of the top-100 (``group_size=100``).
    - Multi-stage fine-tuning (Pezzuti et al., ECIR 2025): a contrastive stage and a KD stage are two configs run in
      sequence, the second starting from the first's output (see ``rankkd.trainers.curriculum``).
    - TWOLAR (Baldelli et al., ECIR 2024): ``loss="ranknet"`` on the LLM order with ``target_transform="reciprocal"``.

    Defaults: RankNet on reciprocal-rank targets of the teacher order, 8 candidates per query, the top of the list.
    """

    group_size: int = field(default=8, metadata={"help": "Candidates per query in a training group."})
    loss: str = field(default="ranknet", metadata={"help": "Loss name(s) joined by '+', e.g. 'ranknet' or 'adr_mse'."})
    learning_rate: float = field(default=2e-5, metadata={"help": "AdamW learning rate."})
